#!/usr/bin/env bash
# Further Child SAs on one IKE SA (RFC 7296 1.3.1) against strongSwan charon:
#
#   [ich-cl] charon 192.0.2.2 (VIP 10.99.0.x) --veth-- 192.0.2.1 ikegwd [ich-gw]
#            children a: remote_ts 10.1.0.0/24          allow [10.1.0.0/24, 10.2.0.0/24]
#                     b: remote_ts 10.2.0.0/24
#                     c: remote_ts 10.3.0.0/24 (outside allow)
#
#  A  a comes up with the IKE SA (IKE_AUTH), b with a CREATE_CHILD_SA on the same IKE SA:
#     both INSTALLED on one IKE SA (swanctl --list-sas), each with its own selectors, and
#     ikegwctl lists both with theirs;
#  B  c is refused (TS_UNACCEPTABLE) and nothing changes;
#  C  the client rekeys b: the new pair keeps 10.2.0.0/24, a untouched;
#  T  pings to 10.1.0.1 and 10.2.0.1 each cross their own Child SA (the userspace
#     dataplane picks the outbound pair by VIP and source), counted per Child SA;
#  D  the client closes b alone: a stays up on the gateway and the client.
set -u
source "$(dirname "$0")/lib.sh"
it_need_root children
it_need_tools children charon swanctl pki
it_init ich
it_topology
D=$IT_DIR
C=$D/cl-multi
it_pki "$D/pki" ecdsa >/dev/null 2>&1
it_gw_config "$D/ikegw.yaml" "$D/pki" "10.1.0.0/24, 10.2.0.0/24"
ip -n ich-gw addr add 10.1.0.1/32 dev lo
ip -n ich-gw addr add 10.2.0.1/32 dev lo
it_gw_start "$D/ikegw.yaml" || { it_fail children-gateway-start "ikegwd did not start"; exit 1; }

it_client_conf multi "$D/pki" client client@example.test 10.1.0.0/24
cat >"$C/swanctl/swanctl.conf" <<-CONF
connections {
  gw {
    version = 2
    remote_addrs = 192.0.2.1
    vips = 0.0.0.0
    local { auth = pubkey
            certs = client.crt
            id = client@example.test }
    remote { auth = pubkey
             id = vpn.example.test }
    children {
      a { remote_ts = 10.1.0.0/24 }
      b { remote_ts = 10.2.0.0/24 }
      c { remote_ts = 10.3.0.0/24 }
    }
  }
}
CONF

sas() { it_swanctl "$C" --list-sas 2>&1; }
# installed NAME TS: child NAME is INSTALLED in the client with remote selector TS.
installed() {
	sas | awk -v n="$1" -v ts="$2" '
		$1 == n":" { inside = ($0 ~ /INSTALLED/); next }
		/^  [a-z]+: #/ { inside = 0 }
		inside && $1 == "remote" && $2 == ts { found = 1 }
		END { exit !found }'
}
# gw_children: "reqid:local_ts,..." per Child SA of the gateway's only IKE SA.
gw_children() {
	it_ctl --json sas | python3 -c '
import json, sys
sas = json.load(sys.stdin)["sas"]
kids = [c for s in sas for c in ([s["child"]] if "child" in s else []) + s.get("additional_children", [])]
print(len(sas), " ".join(",".join(c["local_ts"]) for c in kids))'
}

it_charon_start ich-cl "$C" || { it_fail children-client-start "charon did not start"; exit 1; }
it_swanctl "$C" --load-all >/dev/null 2>&1
it_swanctl "$C" --initiate --child a --timeout 10 >"$C/initiate-a.log" 2>&1
it_swanctl "$C" --initiate --child b --timeout 10 >"$C/initiate-b.log" 2>&1
sas >"$C/sas-ab.txt"

# A: both on one IKE SA
if [ "$(grep -c ESTABLISHED "$C/sas-ab.txt")" != 1 ]; then
	it_fail children-two-installed "not exactly one IKE SA: $(tr '\n' ' ' <"$C/sas-ab.txt")"
elif ! installed a 10.1.0.0/24 || ! installed b 10.2.0.0/24; then
	it_fail children-two-installed "a and b not both INSTALLED: $(tr '\n' ' ' <"$C/sas-ab.txt")"
elif ! grep -q "further Child SA" "$D/ikegwd.log"; then
	it_fail children-two-installed "the gateway did not log the further Child SA"
else
	it_pass children-two-installed
fi
got=$(gw_children)
rows=$(it_ctl sas | grep -cE ' (10\.1\.0\.0/24|10\.2\.0\.0/24)$')
if [ "$got" = "1 10.1.0.0/24 10.2.0.0/24" ] && [ "$rows" = 2 ]; then
	it_pass children-ctl-lists-both
elif [ "$rows" != 2 ]; then
	it_fail children-ctl-lists-both "ikegwctl sas table: $rows Child SA rows with a/b traffic"
else
	it_fail children-ctl-lists-both "ikegwctl sas: '$got'"
fi

# T: traffic through each Child SA, each on its own pair
pings() { ip netns exec ich-cl ping -c "$2" -i 0.2 -W 2 "$1" 2>/dev/null |
	  sed -n 's/.* \([0-9]*\) received.*/\1/p'; }
# packets_in per Child SA, in the order gw_children lists them
gw_packets() {
	it_ctl --json sas | python3 -c '
import json, sys
sas = json.load(sys.stdin)["sas"]
kids = [c for s in sas for c in ([s["child"]] if "child" in s else []) + s.get("additional_children", [])]
print(" ".join(str(c["packets_in"]) for c in kids))'
}
got1=$(pings 10.1.0.1 5) got2=$(pings 10.2.0.1 5)
read -r pa pb <<<"$(gw_packets)"
if [ "${got1:-0}" != 5 ] || [ "${got2:-0}" != 5 ]; then
	it_fail children-traffic "pings back: 10.1.0.1 ${got1:-0}/5, 10.2.0.1 ${got2:-0}/5"
elif [ "${pa:-0}" -lt 5 ] || [ "${pb:-0}" -lt 5 ]; then
	it_fail children-traffic "packets in per Child SA: a ${pa:-?}, b ${pb:-?} (want >= 5 each)"
else
	echo "children-traffic: 5/5 pings through a, 5/5 through b; packets in per Child SA: $pa, $pb"
	it_pass children-traffic
fi

# B: outside allow
it_swanctl "$C" --initiate --child c --timeout 10 >"$C/initiate-c.log" 2>&1
if installed c 10.3.0.0/24; then
	it_fail children-outside-allow-refused "c was installed"
elif ! grep -q "TS_UNACCEPTABLE" "$C/charon.log"; then
	it_fail children-outside-allow-refused "no TS_UNACCEPTABLE in the client's log"
elif ! installed a 10.1.0.0/24 || ! installed b 10.2.0.0/24; then
	it_fail children-outside-allow-refused "a or b went away"
else
	it_pass children-outside-allow-refused
fi

# C: the client rekeys b
before=$(grep -c "Child SA rekeyed by the client" "$D/ikegwd.log")
it_swanctl "$C" --rekey --child b >/dev/null 2>&1
for _ in $(seq 1 30); do
	[ "$(grep -c "Child SA rekeyed by the client" "$D/ikegwd.log")" -gt "$before" ] && break
	sleep 0.2
done
sleep 1 # the old pair's Delete
got=$(gw_children)
if [ "$(grep -c "Child SA rekeyed by the client" "$D/ikegwd.log")" -le "$before" ]; then
	it_fail children-rekey-keeps-selectors "no rekey seen by the gateway"
elif ! installed b 10.2.0.0/24 || ! installed a 10.1.0.0/24; then
	it_fail children-rekey-keeps-selectors "after the rekey: $(sas | tr '\n' ' ')"
elif [ "$got" != "1 10.1.0.0/24 10.2.0.0/24" ]; then
	it_fail children-rekey-keeps-selectors "ikegwctl sas after the rekey: '$got'"
else
	it_pass children-rekey-keeps-selectors
fi

# D: the client closes b alone
it_swanctl "$C" --terminate --child b --timeout 10 >/dev/null 2>&1
sleep 1
got=$(gw_children)
if installed b 10.2.0.0/24 || ! installed a 10.1.0.0/24; then
	it_fail children-delete-one "client: $(sas | tr '\n' ' ')"
elif [ "$got" != "1 10.1.0.0/24" ]; then
	it_fail children-delete-one "ikegwctl sas after deleting b: '$got'"
elif ! grep -q "deleted by the client" "$D/ikegwd.log"; then
	it_fail children-delete-one "the gateway did not log the Delete"
else
	it_pass children-delete-one
fi

it_gw_stop children-gateway-exit
exit 0
