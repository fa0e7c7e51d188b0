#!/usr/bin/env bash
# Operations: reload (ikegwctl and SIGHUP) against a live SA from Debian's strongSwan
# charon, the shipped example config under --check, and the capabilities ikegwd keeps.
#
#   [io-cl] charon 192.0.2.2 --veth-- 192.0.2.1 ikegwd [io-gw]   ikegwctl -s $IT_DIR/ikegw.sock
#
# 1. a broken file: reload fails with FILE:LINE:COL, the old config and the SA stay;
# 2. SIGHUP with a good file that adds a profile: reloaded, the SA stays;
# 3. ikegwctl reload with the client's profile renamed: its SA is deleted, the client
#    receives the Delete, and the report says so;
# 4. CapEff of the running daemon is CAP_NET_ADMIN only.
set -u
source "$(dirname "$0")/lib.sh"
it_need_root ops
it_need_tools ops charon swanctl pki
it_init io
D=$IT_DIR
it_pki "$D/pki"

# ---- the shipped example, with its paths pointed at a throwaway PKI ----
it_pki_client "$D/pki" gone gone@example.test
it_pki_revoke "$D/pki" gone
sed -e "s#/etc/ikegw/#$D/pki/#g" -e "s#control_socket: .*#control_socket: $D/ex.sock#" \
	-e 's#control_group: ikegw#control_group: root#' -e 's#^  id: vpn.example.com#  id: vpn.example.test#' \
	"$IT_TOP/conf/ikegw.yaml" >"$D/example.yaml"
if out=$("$IT_BUILD/ikegwd" --check -c "$D/example.yaml" 2>&1); then
	it_pass ops-check-example-config
else
	it_fail ops-check-example-config "$(echo "$out" | head -5 | tr '\n' ' ')"
fi

it_topology
it_gw_config "$D/ikegw.yaml" "$D/pki" 0.0.0.0/0
cp "$D/ikegw.yaml" "$D/good.yaml"
it_gw_start "$D/ikegw.yaml" || { it_fail ops-start "ikegwd did not start"; exit 0; }
it_client_conf one "$D/pki" client client@example.test 0.0.0.0/0
it_client_up one
if ! grep -q ESTABLISHED "$D/cl-one/sas.txt"; then
	it_fail ops-client "client not established: $(tail -3 "$D/cl-one/initiate.log")"
	it_gw_stop ops-gateway-exit
	exit 0
fi

sa_listed() { it_ctl --json sas | grep -q '"remote_id":"client@example.test"'; }
client_up() { it_swanctl "$D/cl-one" --list-sas 2>/dev/null | grep -q ESTABLISHED; }
wait_log() { # wait_log PATTERN FILE: up to 5 s
	for _ in $(seq 1 50); do grep -q "$1" "$2" && return 0; sleep 0.1; done
	return 1
}

# ---- 1. a broken file keeps the old config and the SA ----
printf 'gateway:\n  id: vpn.example.test\n  bogus_key: 1\n' >"$D/ikegw.yaml"
it_ctl reload >"$D/r1.out" 2>"$D/r1.err"
rc=$?
if [ $rc = 1 ] && grep -q "ikegw.yaml:3:[0-9]*:" "$D/r1.err" && sa_listed && client_up &&
	grep -q 'reload failed' "$D/ikegwd.log"; then
	it_pass ops-reload-broken-keeps-config-and-sa
else
	it_fail ops-reload-broken-keeps-config-and-sa "rc=$rc $(head -c 300 "$D/r1.err")"
fi

# ---- 2. SIGHUP with a good file that only adds a profile ----
cp "$D/good.yaml" "$D/ikegw.yaml"
cat >>"$D/ikegw.yaml" <<-EOF
  - name: extra
    auth: [psk]
    psk: 0123456789abcdef0123
    match: { identity: '*@extra.test' }
    pool: staff
EOF
kill -HUP "$IT_GW_PID"
if wait_log 'reloaded: profiles added \[extra\]' "$D/ikegwd.log" && sa_listed && client_up; then
	it_pass ops-sighup-reload-keeps-sa
else
	it_fail ops-sighup-reload-keeps-sa "$(grep -E 'reload|SIGHUP' "$D/ikegwd.log" | tail -2)"
fi

# ---- 3. the client's profile goes away: its SA is deleted with a Delete ----
sed -e '/^profiles:/,$ s/- name: staff$/- name: renamed/' "$D/ikegw.yaml" >"$D/renamed.yaml"
grep -q 'name: renamed' "$D/renamed.yaml" || it_fail ops-reload-test-setup "profile not renamed"
cp "$D/renamed.yaml" "$D/ikegw.yaml"
it_ctl --json reload >"$D/r3.json" 2>&1
rc=$?
wait_log 'received DELETE for IKE_SA' "$D/cl-one/charon.log"
if [ $rc = 0 ] && grep -q '"removed":\["staff"\]' "$D/r3.json" &&
	grep -q '"added":\["renamed"\]' "$D/r3.json" && grep -q '"deleted":1' "$D/r3.json" &&
	grep -q 'received DELETE for IKE_SA' "$D/cl-one/charon.log" && ! sa_listed; then
	it_pass ops-reload-removed-profile-deletes-sa
else
	it_fail ops-reload-removed-profile-deletes-sa "rc=$rc $(head -c 300 "$D/r3.json")"
fi
it_ctl reload >"$D/r4.out" 2>&1 # the human-readable report
grep -q 'kept' "$D/r4.out" && it_pass ops-reload-prints-changes ||
	it_fail ops-reload-prints-changes "$(head -c 200 "$D/r4.out")"

# ---- 4. only CAP_NET_ADMIN is left (bit 12) ----
eff=$(sed -n 's/^CapEff:[[:space:]]*//p' "/proc/$IT_GW_PID/status")
if [ "$eff" = 0000000000001000 ]; then
	it_pass ops-capeff-net-admin-only
else
	it_fail ops-capeff-net-admin-only "CapEff of ikegwd is $eff, want 0000000000001000"
fi

it_client_down
it_gw_stop ops-gateway-exit
exit 0
