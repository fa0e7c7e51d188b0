#!/usr/bin/env bash
# Simultaneous rekeys (RFC 7296 2.8.1, 2.8.2) against strongSwan charon, made certain:
#
#   [ico-cl] charon 192.0.2.2 --veth-- 192.0.2.1 ikegwd [ico-gw]   nft in ico-gw drops IKE
#
# Both sides are asked to rekey the same SA (`swanctl --rekey`, `ikegwctl rekey`) while an
# nft rule in the gateway's namespace drops IKE messages (UDP 4500 with the non-ESP marker)
# in one direction, so each side's request is still unanswered when the other's arrives;
# then the rule goes and the retransmissions cross.  ESP is never dropped.
#
#  A  Child SA, the client's request held back first; B  the same, the gateway's first;
#  C  IKE SA, the client's first;                      D  the same, the gateway's first.
#
# After each: exactly one IKE SA on both sides with the same SPIs, one Child SA with the
# same SPIs (the gateway's inbound is the client's outbound), the lease kept, the other
# redundant SAs deleted; which side's SA survived (the lowest nonce loses) is printed.
# A ping runs through each case: the lost pings are reported (goal 0).
set -u
source "$(dirname "$0")/lib.sh"
it_need_root collide
it_need_tools collide charon swanctl pki nft
[ -c /dev/net/tun ] || { it_skip collide "no /dev/net/tun on this machine"; exit 0; }
it_init ico
it_topology
D=$IT_DIR
C=$D/cl-c
it_pki "$D/pki" ecdsa >/dev/null 2>&1
it_gw_config "$D/ikegw.yaml" "$D/pki" 10.10.0.0/24
it_gw_start "$D/ikegw.yaml" || { it_fail collide-gateway-start "ikegwd did not start"; exit 1; }

it_client_conf c "$D/pki" client client@example.test 10.10.0.0/24
# No rekeys of its own; enough retransmissions to outlast the held-back second.
sed -i -e 's/^\(\s*vips = 0.0.0.0\)$/\1\n    rekey_time = 0\n    reauth_time = 0/' \
	-e 's/^\(\s*remote_ts = 10.10.0.0\/24\)$/\1\n        rekey_time = 0/' "$C/swanctl/swanctl.conf"
sed -i 's/retransmit_tries = 2/retransmit_tries = 5/' "$C/strongswan.conf"
it_client_up c
if ! grep -q ESTABLISHED "$C/sas.txt"; then
	it_fail collide-connect "not established: $(tail -3 "$C/initiate.log" | tr '\n' ' ')"
	exit 1
fi

ip netns exec ico-gw nft -f - <<-EOF
table inet ico {
  chain in { type filter hook input priority 0; }
  chain out { type filter hook output priority 0; }
}
EOF
# IKE on the NAT-T port starts with four zero octets (RFC 3948 2.2); ESP never does.
hold_from_client() { ip netns exec ico-gw nft add rule inet ico in udp dport 4500 @th,64,32 0 drop; }
hold_to_client() { ip netns exec ico-gw nft add rule inet ico out udp sport 4500 @th,64,32 0 drop; }
release() { ip netns exec ico-gw nft flush table inet ico; }

gw_id() { it_ctl --json sas | python3 -c 'import json,sys; print([s for s in json.load(sys.stdin)["sas"] if "child" in s][0]["id"])'; }
# "1 SPI_I SPI_R CHILD_IN CHILD_OUT CHILDREN STRAY" of the gateway for the IKE SA that
# carries the Child SA; STRAY: other IKE SAs, "rekeyed" ones waiting for a Delete (a
# redundant one of a collision whose Delete never comes lingers for timeouts.half_open).
gw_view() {
	it_ctl --json sas | python3 -c '
import json, sys
sas = [s for s in json.load(sys.stdin)["sas"] if s["state"] in ("established", "rekeyed")]
withc = [s for s in sas if "child" in s and s["state"] == "established"]
s = withc[0] if withc else {}
c = s.get("child", {})
ike = s.get("ike", {})
print(len(withc), ike.get("spi_i", "-"), ike.get("spi_r", "-"), c.get("spi_in", "-"),
      c.get("spi_out", "-"), 1 + len(s.get("additional_children", [])) if c else 0,
      len(sas) - len(withc))'
}
# The same from the client, for the IKE SA that carries the Child SA; a redundant IKE SA
# it still waits for us to delete is counted apart (last field).
cl_view() {
	it_swanctl "$C" --list-sas 2>/dev/null | awk '
		/^[a-z]+: #[0-9]+, ESTABLISHED/ { n++; i = $5; r = $6; sub(/_i\*?,?$/, "", i); sub(/_r\*?,?$/, "", r) }
		/INSTALLED/ { k++; ci = i; cr = r }
		$1 == "in" && !cin { cin = $2; gsub(/[^0-9a-f]/, "", cin) }
		$1 == "out" && !cout { cout = $2; gsub(/[^0-9a-f]/, "", cout) }
		END { printf "%d %s %s %s %s %d %d\n", k ? 1 : 0, ci, cr, cout, cin, k, n - (k ? 1 : 0) }'
}

# settled NAME: both sides agree on the IKE SA and the Child SA the traffic uses.
settled() {
	local g c
	for _ in $(seq 1 30); do
		g=$(gw_view) c=$(cl_view)
		[ "${g% *}" = "${c% *}" ] && [ "${g%% *}" = 1 ] && [ "$(echo "$g" | cut -d' ' -f6)" = 1 ] &&
			[ "${c##* }" = 0 ] && [ "${g##* }" = 0 ] && break
		sleep 0.5
	done
	echo "# $1: gateway '$g', client '$c'"
	if [ "${g% *}" != "${c% *}" ] || [ "${g%% *}" != 1 ] || [ "$(echo "$g" | cut -d' ' -f6)" != 1 ]; then
		it_fail "$1" "gateway and client disagree: gateway '$g', client '$c'"
		return 1
	fi
	[ "${c##* }" = 0 ] || echo "# $1: the client still holds ${c##* } redundant IKE SA(s) after 15 s"
	[ "${g##* }" = 0 ] || echo "# $1: the gateway still holds ${g##* } redundant IKE SA(s) after 15 s"
	if ! it_ctl leases | grep -q '10\.99\.0\.[0-9]*  *client@example.test'; then
		it_fail "$1" "the client's lease is gone"
		return 1
	fi
	it_pass "$1"
}

# collide NAME WHAT FIRST: both sides rekey WHAT (ike|child); FIRST's request is held back
# first (client: hold what the client sends; gateway: hold what the gateway sends).
collide() {
	local name=$1 what=$2 first=$3 id before
	id=$(gw_id)
	before=$(grep -c 'collision' "$D/ikegwd.log")
	ip netns exec ico-cl ping -n -q -i 0.2 -W 1 -c 1000 10.10.0.1 >"$D/ping-$name" 2>&1 &
	PING=$!
	if [ "$first" = client ]; then
		hold_from_client
		it_swanctl "$C" --rekey --"$what" gw >/dev/null 2>&1
		sleep 0.2
		it_ctl --json rekey "$id" "$what" >"$D/rekey-$name.out" 2>&1
	else
		hold_to_client
		it_ctl --json rekey "$id" "$what" >"$D/rekey-$name.out" 2>&1
		sleep 0.2
		it_swanctl "$C" --rekey --"$what" gw >/dev/null 2>&1
	fi
	sleep 0.5
	release
	sleep 4 # retransmissions (1 s on both sides), then the redundant SAs' Deletes
	if ! grep -q '"rekeying"' "$D/rekey-$name.out"; then
		it_fail "$name" "ikegwctl rekey: $(cat "$D/rekey-$name.out")"
		kill "$PING" 2>/dev/null
		return
	fi
	if [ "$(grep -c 'collision' "$D/ikegwd.log")" -le "$before" ]; then
		it_fail "$name" "the gateway saw no collision: $(grep -iE 'rekey' "$D/ikegwd.log" | tail -4 | tr '\n' ' ')"
		kill "$PING" 2>/dev/null
		return
	fi
	grep 'collision' "$D/ikegwd.log" | tail -n +$((before + 1)) | sed 's/^/# gateway: /'
	settled "$name"
	ping_check "$name-ping" "$D/ping-$name"
}

# ping_check NAME FILE: stop the case's ping; every one must have come back.
ping_check() {
	local sent recv
	kill -INT "$PING" 2>/dev/null # ping prints its summary and stops
	wait "$PING"
	sent=$(sed -n 's/^\([0-9]*\) packets transmitted.*/\1/p' "$2")
	recv=$(sed -n 's/.* \([0-9]*\) received.*/\1/p' "$2")
	echo "# $1: ${sent:-?} pings sent, ${recv:-?} answered, $((${sent:-0} - ${recv:-0})) lost"
	if [ -n "$sent" ] && [ "$sent" = "$recv" ]; then
		it_pass "$1"
	else
		it_fail "$1" "$((${sent:-0} - ${recv:-0})) of ${sent:-?} pings lost in the collision"
	fi
}

collide collide-child-client-first child client
collide collide-child-gateway-first child gateway
collide collide-ike-client-first ike client
collide collide-ike-gateway-first ike gateway
it_gw_stop collide-gateway-exit
exit 0
