#!/usr/bin/env bash
# make bench: TCP throughput through the tunnel with iperf3 (Debian's), the same
# strongSwan client (kernel-libipsec) against two gateways, one after the other:
#   1. ikegwd with its userspace ESP dataplane (TUN + ESP in UDP)
#   2. strongSwan's charon as the gateway with kernel-libipsec (also userspace ESP)
# Both use aes256gcm16 for ESP.  Prints Mbit/s for each and the ratio.
#
#   [ib-cl] client 192.0.2.2 --veth-- 192.0.2.1 gateway [ib-gw]  iperf3 -s on 10.10.0.1
set -u
source "$(dirname "$0")/../interop/lib.sh"
SECS=${BENCH_SECONDS:-5}
if [ "$(id -u)" != 0 ]; then echo "bench: needs root (network namespaces)" >&2; exit 1; fi
command -v iperf3 >/dev/null || { echo "bench: iperf3 missing (make deps)" >&2; exit 1; }
it_init ib
it_topology
D=$IT_DIR
it_pki "$D/pki" >/dev/null 2>&1

cpu_ticks() { # utime + stime of a process, in clock ticks
	awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0
}

# iperf_through GWPID: "Mbit/s gateway-CPU-seconds" of a SECS-second upload to 10.10.0.1.
iperf_through() {
	ip netns exec ib-gw iperf3 -s -B 10.10.0.1 -1 >/dev/null 2>&1 &
	local srv=$! t0 t1 mbit
	sleep 0.3
	t0=$(cpu_ticks "$1")
	mbit=$(ip netns exec ib-cl iperf3 -c 10.10.0.1 -t "$SECS" -J 2>/dev/null |
		python3 -c 'import json,sys; d=json.load(sys.stdin); print("%.0f" % (d["end"]["sum_received"]["bits_per_second"]/1e6))' 2>/dev/null || echo 0)
	t1=$(cpu_ticks "$1")
	wait $srv 2>/dev/null
	echo "$mbit $(python3 -c "print('%.2f' % (($t1 - $t0) / $(getconf CLK_TCK)))")"
}

client() { # $1: name
	it_client_conf "$1" "$D/pki" client client@example.test 10.10.0.0/24
	sed -i 's/remote_ts = 10.10.0.0\/24/remote_ts = 10.10.0.0\/24\n\t        esp_proposals = aes256gcm16/' "$D/cl-$1/swanctl/swanctl.conf"
	it_client_up "$1"
	grep -q ESTABLISHED "$D/cl-$1/sas.txt" || { echo "bench: client $1 not established" >&2; return 1; }
}

# 1. ikegwd
it_gw_config "$D/ikegw.yaml" "$D/pki" 10.10.0.0/24
sed -i 's/log_level: debug/log_level: info/' "$D/ikegw.yaml"
it_gw_start "$D/ikegw.yaml" || exit 1
client ikegw || exit 1
read -r ours ours_cpu < <(iperf_through "$IT_GW_PID")
it_client_down
it_gw_stop bench
sleep 0.5

# 2. strongSwan charon as the gateway, same client.
g=$D/swgw
it_charon_conf "$g" 0
cp "$D/pki/ca.crt" "$g/swanctl/x509ca/"; cp "$D/pki/gw.crt" "$g/swanctl/x509/"
cp "$D/pki/gw.key" "$g/swanctl/private/"
cat >"$g/swanctl/swanctl.conf" <<CONF
connections {
  rw {
    version = 2
    local_addrs = 192.0.2.1
    pools = p
    local { auth = pubkey
            certs = gw.crt
            id = vpn.example.test }
    remote { auth = pubkey }
    children { rw { local_ts = 10.10.0.0/24
                    esp_proposals = aes256gcm16 } }
  }
}
pools { p { addrs = 10.99.0.0/24 } }
CONF
it_charon_start ib-gw "$g" || exit 1
it_swanctl "$g" --load-all >/dev/null 2>&1
SW_PID=${IT_PIDS[-1]}
client swan || exit 1
read -r theirs theirs_cpu < <(iperf_through "$SW_PID")
it_client_down

eff() { python3 -c "print('%.0f' % ($1 * $SECS / $2) if $2 > 0 else 'n/a')"; }
echo
echo "through the tunnel: iperf3 TCP upload, ${SECS}s, aes256gcm16, one stream, the same"
echo "strongSwan client (kernel-libipsec, which caps the throughput both gateways see):"
printf '  %-38s %8s %14s %18s\n' gateway Mbit/s "gw CPU s" "Mbit per CPU s"
printf '  %-38s %8s %14s %18s\n' "ikegwd (userspace dataplane)" "$ours" "$ours_cpu" "$(eff "$ours" "$ours_cpu")"
printf '  %-38s %8s %14s %18s\n' "strongSwan charon + kernel-libipsec" "$theirs" "$theirs_cpu" "$(eff "$theirs" "$theirs_cpu")"
python3 - "$ours" "$ours_cpu" "$theirs" "$theirs_cpu" <<'PY'
import sys
o, oc, t, tc = map(float, sys.argv[1:])
if t > 0:
    print("  throughput ratio ikegwd/strongSwan: %.2f" % (o / t))
if oc > 0 and tc > 0 and t > 0:
    print("  efficiency ratio (Mbit per gateway CPU second): %.2f" % ((o / oc) / (t / tc)))
PY
