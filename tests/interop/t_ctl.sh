#!/usr/bin/env bash
# The control socket and ikegwctl against a live SA from Debian's strongSwan charon.
#
#   [ik-cl] charon 192.0.2.2 --veth-- 192.0.2.1 ikegwd [ik-gw]   ikegwctl -s $IT_DIR/ikegw.sock
set -u
source "$(dirname "$0")/lib.sh"
it_need_root ctl
command -v swanctl >/dev/null || { it_skip ctl "strongSwan is not installed (make deps)"; exit 0; }
it_init ik
it_topology
D=$IT_DIR
it_pki "$D/pki"
it_gw_config "$D/ikegw.yaml" "$D/pki" 0.0.0.0/0
it_gw_start "$D/ikegw.yaml" || { it_fail ctl-start "ikegwd did not start"; exit 0; }

[ "$(stat -c %a "$D/ikegw.sock")" = 660 ] && it_pass ctl-socket-mode-0660 ||
	it_fail ctl-socket-mode-0660 "mode $(stat -c %a "$D/ikegw.sock")"

it_client_conf one "$D/pki" client client@example.test 0.0.0.0/0
it_client_up one
grep -q ESTABLISHED "$D/cl-one/sas.txt" || it_fail ctl-client "client not established"

it_ctl --json sas >"$D/sas.json"
rc=$?
if [ $rc = 0 ] && grep -q '"remote_id":"client@example.test"' "$D/sas.json" &&
	grep -q '"state":"established"' "$D/sas.json" && grep -q '"vip":"10\.99\.0\.' "$D/sas.json"; then
	it_pass ctl-sas-json
else
	it_fail ctl-sas-json "rc=$rc $(head -c 300 "$D/sas.json")"
fi
it_ctl sas | grep -q '^ID  *PEER  *IDENTITY' && it_pass ctl-sas-table ||
	it_fail ctl-sas-table "no table header"
it_ctl status | grep -qi 'ike' && it_pass ctl-status || it_fail ctl-status "no status"
it_ctl leases | grep -q 'staff  *10\.99\.0\.[0-9]*  *client@example.test' && it_pass ctl-leases ||
	it_fail ctl-leases "no lease for the client"
it_ctl metrics | grep -qx 'ikegw_ike_sas 1' && it_pass ctl-metrics ||
	it_fail ctl-metrics "ikegw_ike_sas is not 1"
it_ctl bogus >/dev/null 2>&1
[ $? = 1 ] && it_pass ctl-exit-1-on-error || it_fail ctl-exit-1-on-error "unknown command"
"$IT_BUILD/ikegwctl" -s "$D/none.sock" status >/dev/null 2>&1
[ $? = 2 ] && it_pass ctl-exit-2-unreachable || it_fail ctl-exit-2-unreachable "exit status"

id=$(sed -n 's/.*"sas":\[{"id":\([0-9]*\).*/\1/p' "$D/sas.json")
it_ctl terminate "$id" >"$D/term.txt" 2>&1
for _ in $(seq 1 20); do grep -q 'received DELETE for IKE_SA' "$D/cl-one/charon.log" && break; sleep 0.1; done
if grep -q 'received DELETE for IKE_SA' "$D/cl-one/charon.log" && it_ctl --json sas | grep -q '"sas":\[\]'; then
	it_pass ctl-terminate-sends-delete
else
	it_fail ctl-terminate-sends-delete "$(cat "$D/term.txt"); no Delete at the client, or SA still listed"
fi
it_client_down
it_gw_stop ctl-gateway-exit
exit 0
