#!/usr/bin/env bash
# Certificate authentication against Debian's strongSwan charon (kernel-libipsec), both
# ways, ECDSA and RSA, full and split tunnel; plus the clients that must be refused.
#
#   [ic-cl] charon 192.0.2.2 --veth-- 192.0.2.1 ikegwd [ic-gw]
#
# Each case: the client reaches ESTABLISHED with a virtual IP from the pool and the pool's
# DNS server in its resolv file, or is refused with AUTHENTICATION_FAILED and ikegwd logs
# one line with the client's address, identity and reason.
set -u
source "$(dirname "$0")/lib.sh"
it_need_root cert
it_need_tools cert charon swanctl pki
it_init ic
it_topology
D=$IT_DIR

# $1: key type, $2: allow list, $3: an extra trust line.
gw_start() {
	it_gw_config "$D/ikegw.yaml" "$D/pki-$1" "$2" "${3:-}"
	it_gw_start "$D/ikegw.yaml"
}

client_run() {
	it_client_up "$1"
	it_client_down
}

expect_up() {
	local name=$1 c=$D/cl-$2 ts=$3
	if ! grep -q ESTABLISHED "$c/sas.txt"; then
		it_fail "$name" "not established: $(grep -E 'AUTH|NO_PROP|TS_|failed' "$c/initiate.log" | head -3 | tr '\n' ' ')"
		return
	fi
	if ! grep -q 'remote.*10\.99\.0\.' "$c/sas.txt" && ! grep -q '10\.99\.0\.[0-9]' "$c/charon.log"; then
		it_fail "$name" "no virtual IP from the pool"; return
	fi
	if ! grep -q 10.0.0.53 "$c/resolv.up" 2>/dev/null; then
		it_fail "$name" "DNS server not installed in the client's resolv file"; return
	fi
	if ! grep -q "$ts" "$c/sas.txt"; then
		it_fail "$name" "traffic selector $ts not negotiated"; return
	fi
	it_pass "$name"
}

# $1 test, $2 client, $3 reason: refused, with one log line naming the address.
expect_refused() {
	it_expect_refused "$1" "$2" "authentication failed: 192\.0\.2\.2 .*$3"
}

for type in ecdsa rsa; do
	it_pki "$D/pki-$type" "$type"
done
# A second CA the gateway does not trust, and a client it issued.
it_pki "$D/pki-other" ecdsa

# ECDSA, full tunnel.
gw_start ecdsa 0.0.0.0/0 || { it_fail cert-gateway-start "ikegwd did not start"; exit 1; }
it_client_conf ecdsa-full "$D/pki-ecdsa" client client@example.test 0.0.0.0/0
client_run ecdsa-full
expect_up cert-ecdsa-full-tunnel ecdsa-full 0.0.0.0/0
# RFC 7383: the client fragments IKE_AUTH; the gateway reassembles and fragments its
# answer (over 548 octets for IPv4 by default).
it_client_conf frag "$D/pki-ecdsa" client client@example.test 0.0.0.0/0 "fragmentation = force"
client_run frag
expect_up cert-ike-fragmentation frag 0.0.0.0/0
if ! grep -q 'EF(1/' "$D/cl-frag/initiate.log" || ! grep -qE 'received fragment #2|reassembled fragmented IKE message' "$D/cl-frag/charon.log"; then
	it_fail cert-ike-fragmentation-both-ways "client did not send or did not receive fragments"
else
	it_pass cert-ike-fragmentation-both-ways
fi
# Wrong identity: the IDi is not in the certificate.
it_client_conf wrong-id "$D/pki-ecdsa" client mallory@example.test 0.0.0.0/0
client_run wrong-id
expect_refused cert-wrong-identity wrong-id "identity not in the certificate"
# A client from a CA we do not trust.
it_client_conf untrusted "$D/pki-other" client client@example.test 0.0.0.0/0
cp "$D/pki-ecdsa/ca.crt" "$D/cl-untrusted/swanctl/x509ca/gwca.crt"
client_run untrusted
expect_refused cert-untrusted-ca untrusted "certificate"
it_gw_stop cert-gateway-exit

# RSA, split tunnel.
gw_start rsa 10.10.0.0/24 || { it_fail cert-gateway-start "ikegwd did not start"; exit 1; }
it_client_conf rsa-split "$D/pki-rsa" client client@example.test 10.10.0.0/24
client_run rsa-split
expect_up cert-rsa-split-tunnel rsa-split 10.10.0.0/24
it_gw_stop cert-gateway-exit

# A revoked client certificate, with trust.crl configured; a good one still gets in.
it_pki_client "$D/pki-ecdsa" revoked revoked@example.test
it_pki_revoke "$D/pki-ecdsa" revoked
gw_start ecdsa 0.0.0.0/0 "crl: [$D/pki-ecdsa/ca.crl]" ||
	{ it_fail cert-gateway-start "ikegwd did not start with a CRL"; exit 1; }
it_client_conf revoked "$D/pki-ecdsa" revoked revoked@example.test 0.0.0.0/0
client_run revoked
expect_refused cert-revoked revoked "certificate revoked"
it_client_conf crl-good "$D/pki-ecdsa" client client@example.test 0.0.0.0/0
client_run crl-good
expect_up cert-crl-not-revoked crl-good 0.0.0.0/0
it_gw_stop cert-gateway-exit

if [ "$IT_FAILED" != 0 ]; then
	echo "--- ikegwd log"; tail -40 "$D/ikegwd.log"
fi
exit 0
