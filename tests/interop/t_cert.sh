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
for b in charon swanctl pki; do
	command -v "$b" >/dev/null || [ -x /usr/lib/ipsec/$b ] ||
		{ it_skip cert "strongSwan ($b) is not installed (make deps)"; exit 0; }
done
it_init ic
it_topology
D=$IT_DIR

# Gateway side: config with one certificate profile, full tunnel, and a split one.
# $1: key type, $2: allow list, $3: extra trust lines.
gw_start() {
	local type=$1 allow=$2
	mkdir -p "$D/gw"
	cat >"$D/gw/ikegw.yaml" <<-EOF
	gateway:
	  id: vpn.example.test
	  listen: [192.0.2.1]
	  certificate: $D/pki-$type/gw.crt
	  private_key: $D/pki-$type/gw.key
	  log_level: debug
	trust:
	  ca: [$D/pki-$type/ca.crt]
	  ${3:-}
	proposals:
	  ike: [aes256gcm16-prfsha384-x25519, aes256-sha256-modp2048]
	  esp: [aes256gcm16, aes256-sha256]
	pools:
	  - name: staff
	    ipv4: 10.99.0.0/24
	    dns: [10.0.0.53]
	    dns_domains: [corp.example]
	profiles:
	  - name: staff
	    auth: [certificate]
	    pool: staff
	    allow: [$allow]
	EOF
	: >"$D/gw/ikegwd.log"
	ip netns exec ic-gw "$IT_BUILD/ikegwd" -c "$D/gw/ikegw.yaml" >>"$D/gw/ikegwd.log" 2>&1 &
	GW_PID=$!
	IT_PIDS+=("$GW_PID")
	for _ in $(seq 1 50); do
		grep -q started "$D/gw/ikegwd.log" && return 0
		kill -0 "$GW_PID" 2>/dev/null || break
		sleep 0.1
	done
	cat "$D/gw/ikegwd.log"
	return 1
}

# SIGTERM must end ikegwd with status 0; a sanitizer report or a crash fails the test.
gw_stop() {
	local rc
	kill "$GW_PID" 2>/dev/null
	wait "$GW_PID" 2>/dev/null
	rc=$?
	if [ "$rc" != 0 ] || grep -qE 'Sanitizer|runtime error' "$D/gw/ikegwd.log"; then
		it_fail cert-gateway-exit "ikegwd exited with status $rc"
		grep -A20 -E 'Sanitizer|runtime error' "$D/gw/ikegwd.log" | head -40
	fi
}

# Client side: $1 name, $2 pki dir, $3 cert basename, $4 identity, $5 remote_ts.
client_conf() {
	local c=$D/cl-$1
	it_charon_conf "$c" 1
	cp "$2/ca.crt" "$c/swanctl/x509ca/"
	cp "$2/$3.crt" "$c/swanctl/x509/"
	cp "$2/$3.key" "$c/swanctl/private/"
	cat >"$c/swanctl/swanctl.conf" <<-EOF
	connections {
	  gw {
	    version = 2
	    remote_addrs = 192.0.2.1
	    vips = 0.0.0.0
	    local {
	      auth = pubkey
	      certs = $3.crt
	      id = $4
	    }
	    remote {
	      auth = pubkey
	      id = vpn.example.test
	    }
	    children {
	      gw {
	        remote_ts = $5
	      }
	    }
	  }
	}
	EOF
}

# Runs the client; prints its list-sas output.  $1 name.
client_run() {
	local c=$D/cl-$1
	it_charon_start ic-cl "$c" || return 1
	CL_PID=${IT_PIDS[-1]}
	it_swanctl "$c" --load-all >/dev/null 2>&1
	it_swanctl "$c" --initiate --child gw --timeout 10 >"$c/initiate.log" 2>&1
	it_swanctl "$c" --list-sas >"$c/sas.txt" 2>&1
	cp "$c/resolv.conf" "$c/resolv.up" 2>/dev/null # charon removes its DNS servers on exit
	kill "$CL_PID" 2>/dev/null
	wait "$CL_PID" 2>/dev/null
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

expect_refused() {
	local name=$1 c=$D/cl-$2 why=$3
	if grep -q ESTABLISHED "$c/sas.txt"; then
		it_fail "$name" "client was let in"; return
	fi
	if ! grep -q AUTHENTICATION_FAILED "$c/charon.log"; then
		it_fail "$name" "client did not get AUTHENTICATION_FAILED"; return
	fi
	if ! grep -q "authentication failed: 192.0.2.2 .*$why" "$D/gw/ikegwd.log"; then
		it_fail "$name" "no gateway log line with address and '$why'"; return
	fi
	it_pass "$name"
}

for type in ecdsa rsa; do
	it_pki "$D/pki-$type" "$type"
done
# A second CA the gateway does not trust, and a client it issued.
it_pki "$D/pki-other" ecdsa

# ECDSA, full tunnel.
gw_start ecdsa 0.0.0.0/0 || { it_fail cert-gateway-start "ikegwd did not start"; exit 1; }
client_conf ecdsa-full "$D/pki-ecdsa" client client@example.test 0.0.0.0/0
client_run ecdsa-full
expect_up cert-ecdsa-full-tunnel ecdsa-full 0.0.0.0/0
# Wrong identity: the IDi is not in the certificate.
client_conf wrong-id "$D/pki-ecdsa" client mallory@example.test 0.0.0.0/0
client_run wrong-id
expect_refused cert-wrong-identity wrong-id "identity not in the certificate"
# A client from a CA we do not trust.
client_conf untrusted "$D/pki-other" client client@example.test 0.0.0.0/0
cp "$D/pki-ecdsa/ca.crt" "$D/cl-untrusted/swanctl/x509ca/gwca.crt"
client_run untrusted
expect_refused cert-untrusted-ca untrusted "certificate"
gw_stop

# RSA, split tunnel.
gw_start rsa 10.10.0.0/24 || { it_fail cert-gateway-start "ikegwd did not start"; exit 1; }
client_conf rsa-split "$D/pki-rsa" client client@example.test 10.10.0.0/24
client_run rsa-split
expect_up cert-rsa-split-tunnel rsa-split 10.10.0.0/24
gw_stop

# A revoked client certificate, with trust.crl configured; a good one still gets in.
it_pki_client "$D/pki-ecdsa" revoked revoked@example.test
it_pki_revoke "$D/pki-ecdsa" revoked
gw_start ecdsa 0.0.0.0/0 "crl: [$D/pki-ecdsa/ca.crl]" ||
	{ it_fail cert-gateway-start "ikegwd did not start with a CRL"; exit 1; }
client_conf revoked "$D/pki-ecdsa" revoked revoked@example.test 0.0.0.0/0
client_run revoked
expect_refused cert-revoked revoked "certificate revoked"
client_conf crl-good "$D/pki-ecdsa" client client@example.test 0.0.0.0/0
client_run crl-good
expect_up cert-crl-not-revoked crl-good 0.0.0.0/0
gw_stop

if [ "$IT_FAILED" != 0 ]; then
	echo "--- ikegwd log"; tail -40 "$D/gw/ikegwd.log"
fi
exit 0
