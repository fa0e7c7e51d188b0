#!/usr/bin/env bash
# Traffic through ikegwd's userspace ESP dataplane (TUN + ESP in UDP) from Debian's
# strongSwan charon (kernel-libipsec): full tunnel, split tunnel, and through a NAT.
#
#   [ip-cl] charon 192.0.2.2 --veth-- 192.0.2.1 ikegwd [ip-gw]  lo: 10.10.0.1 (the LAN)
#   NAT case: [in-cl] 198.51.100.2 -- [in-nat] masquerade random -- 192.0.2.1 [in-gw]
#   IPv6 case: [i6-cl] 2001:db8::2 --veth-- 2001:db8::1 [i6-gw]
#
# Each case pings 10.10.0.1 from the client's virtual IP and counts the replies, then checks
# the gateway's per-SA counters (ikegwctl) saw the packets.
set -u
source "$(dirname "$0")/lib.sh"
it_need_root ping
command -v swanctl >/dev/null || { it_skip ping "strongSwan is not installed (make deps)"; exit 0; }
[ -c /dev/net/tun ] || { it_skip ping "no /dev/net/tun on this machine"; exit 0; }

# $1 case name, $2 client name, $3 count.
ping_case() {
	local name=$1 n=$3 got
	if ! grep -q ESTABLISHED "$IT_DIR/cl-$2/sas.txt"; then
		it_fail "$name" "not established: $(grep -E 'failed' "$IT_DIR/cl-$2/initiate.log" | head -2 | tr '\n' ' ')"
		return
	fi
	got=$(ip netns exec "$IT_PREFIX-cl" ping -c "$n" -i 0.2 -W 2 10.10.0.1 2>/dev/null |
		sed -n 's/.* \([0-9]*\) received.*/\1/p')
	if [ "${got:-0}" != "$n" ]; then
		it_fail "$name" "${got:-0} of $n pings came back"
		return
	fi
	if ! it_ctl --json sas | grep -qE '"packets_in":([1-9][0-9]*)'; then
		it_fail "$name" "gateway counters did not see the packets"
		return
	fi
	it_pass "$name"
}

run_cases() {
	local D=$IT_DIR
	it_pki "$D/pki"
	it_gw_config "$D/ikegw.yaml" "$D/pki" "$1"
	it_gw_start "$D/ikegw.yaml" || { it_fail "$2-start" "ikegwd did not start"; return; }
	it_client_conf c1 "$D/pki" client client@example.test "$3"
	it_client_up c1
	ping_case "$2" c1 5
	if [ "$IT_PREFIX" = in ]; then
		# The gateway must see (and answer) the NAT's address and rewritten port.
		if it_ctl --json sas | grep -qE '"peer":"192\.0\.2\.254:[0-9]+"' &&
			! it_ctl --json sas | grep -q '"peer":"192.0.2.254:4500"'; then
			it_pass nat-peer-address-and-port-rewritten
		else
			it_fail nat-peer-address-and-port-rewritten "$(it_ctl --json sas | head -c 200)"
		fi
	fi
	it_client_down
	it_gw_stop "$2-gateway-exit"
}

( it_init ip; it_topology; run_cases 0.0.0.0/0 ping-full-tunnel 0.0.0.0/0 )
( it_init ip; it_topology; run_cases 10.10.0.0/24 ping-split-tunnel 10.10.0.0/24 )
( it_init in; it_topology_nat; run_cases 0.0.0.0/0 ping-through-nat 10.10.0.0/24 )
# IKE and ESP in UDP over IPv6 outer addresses (the tunnel still carries IPv4).
( it_init i6; it_topology
  ip -n i6-cl addr add 2001:db8::2/64 dev i6-c nodad
  ip -n i6-gw addr add 2001:db8::1/64 dev i6-g nodad
  it_pki "$IT_DIR/pki"
  it_gw_config "$IT_DIR/ikegw.yaml" "$IT_DIR/pki" 10.10.0.0/24
  sed -i 's/listen: \[192.0.2.1\]/listen: [192.0.2.1, "2001:db8::1"]/' "$IT_DIR/ikegw.yaml"
  it_gw_start "$IT_DIR/ikegw.yaml" || { it_fail ping-ipv6-outer "ikegwd did not start"; exit 0; }
  it_client_conf c1 "$IT_DIR/pki" client client@example.test 10.10.0.0/24
  sed -i 's/remote_addrs = 192.0.2.1/remote_addrs = 2001:db8::1/' "$IT_DIR/cl-c1/swanctl/swanctl.conf"
  it_client_up c1
  ping_case ping-ipv6-outer c1 5
  grep -q "from \[2001:db8::2\]:4500" "$IT_DIR/ikegwd.log" && it_pass ipv6-peer-logged ||
	it_fail ipv6-peer-logged "no established line naming [2001:db8::2]:4500"
  it_client_down
  it_gw_stop ping-ipv6-gateway-exit )
exit 0
