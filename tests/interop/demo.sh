#!/usr/bin/env bash
# make demo: a real IKEv2 client connects to ikegwd and pings through the tunnel.
#
#   [demo-cl] strongSwan charon            [demo-gw] ikegwd (userspace ESP over TUN)
#    192.0.2.2 --------- veth ------------- 192.0.2.1
#    VIP 10.99.0.x (from the pool)          "LAN" 10.10.0.1 on lo
#
# Everything is created here and removed at the end (also on Ctrl-C).
set -u
source "$(dirname "$0")/lib.sh"
if [ "$(id -u)" != 0 ]; then echo "make demo needs root (network namespaces)" >&2; exit 1; fi
it_init demo
it_topology
D=$IT_DIR
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

say "A throwaway CA, a gateway certificate and a client certificate (ECDSA P-256)"
it_pki "$D/pki" >/dev/null 2>&1
openssl x509 -in "$D/pki/gw.crt" -noout -subject -ext subjectAltName 2>/dev/null | sed 's/^/   /'

say "ikegwd in namespace demo-gw"
cat >"$D/ikegw.yaml" <<EOF
gateway:
  id: vpn.example.test
  listen: [192.0.2.1]
  certificate: $D/pki/gw.crt
  private_key: $D/pki/gw.key
  dataplane: userspace
  tun_name: ikegw0
  control_socket: $D/ikegw.sock
trust:
  ca: [$D/pki/ca.crt]
pools:
  - name: staff
    ipv4: 10.99.0.0/24
    dns: [10.10.0.53]
    dns_domains: [corp.example]
profiles:
  - name: staff
    auth: [certificate]
    pool: staff
    allow: [10.10.0.0/24]
EOF
sed 's/^/   /' "$D/ikegw.yaml"
ip netns exec demo-gw "$IT_BUILD/ikegwd" -c "$D/ikegw.yaml" >"$D/ikegwd.log" 2>&1 &
IT_PIDS+=($!)
for _ in $(seq 1 50); do grep -q started "$D/ikegwd.log" && break; sleep 0.1; done
sed 's/^/   /' "$D/ikegwd.log"

say "strongSwan client in namespace demo-cl (kernel-libipsec: ESP in userspace, over UDP)"
c=$D/client
it_charon_conf "$c" 1
cp "$D/pki/ca.crt" "$c/swanctl/x509ca/"
cp "$D/pki/client.crt" "$c/swanctl/x509/"
cp "$D/pki/client.key" "$c/swanctl/private/"
cat >"$c/swanctl/swanctl.conf" <<EOF
connections {
  demo {
    version = 2
    remote_addrs = 192.0.2.1
    vips = 0.0.0.0
    local { auth = pubkey
            certs = client.crt
            id = client@example.test }
    remote { auth = pubkey
             id = vpn.example.test }
    children { demo { remote_ts = 10.10.0.0/24 } }
  }
}
EOF
it_charon_start demo-cl "$c" || exit 1
it_swanctl "$c" --load-all >/dev/null 2>&1
it_swanctl "$c" --initiate --child demo --timeout 10 2>&1 | grep -E 'established|installed|assigned|failed' | sed 's/^/   /'

say "The client's view (swanctl --list-sas)"
it_swanctl "$c" --list-sas 2>&1 | sed 's/^/   /'
echo "   DNS servers the client received: $(grep nameserver "$c/resolv.conf" 2>/dev/null | tr '\n' ' ')"

if [ -x "$IT_BUILD/ikegwctl" ]; then
	say "The gateway's view (ikegwctl status, ikegwctl sas)"
	ip netns exec demo-gw "$IT_BUILD/ikegwctl" -s "$D/ikegw.sock" status 2>&1 | sed 's/^/   /'
	ip netns exec demo-gw "$IT_BUILD/ikegwctl" -s "$D/ikegw.sock" sas 2>&1 | sed 's/^/   /'
fi

say "ping 10.10.0.1 (behind the gateway) from the client, through the tunnel"
ip netns exec demo-cl ping -c 3 -W 2 10.10.0.1 | sed 's/^/   /'
[ "${PIPESTATUS[0]}" = 0 ] && ok=1 || ok=0

say "ikegwd's log"
sed 's/^/   /' "$D/ikegwd.log"
if [ "$ok" = 1 ]; then
	say "Tunnel up, traffic crossed it. Tearing everything down."
	exit 0
fi
say "The ping did not cross the tunnel (see the log above)."
exit 1
