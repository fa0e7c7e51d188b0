#!/usr/bin/env bash
# EAP in IKE_AUTH against Debian's strongSwan charon: EAP-MSCHAPv2 against local users,
# EAP relayed to a real FreeRADIUS, and certificate + EAP-RADIUS in two rounds (RFC 4739).
#
#   [ie-cl] charon 192.0.2.2 --veth-- 192.0.2.1 ikegwd [ie-gw] --127.0.0.1:1812-- freeradius
#
# FreeRADIUS runs in the gateway namespace from a throwaway config directory (a users
# file with alice, the eap module with mschapv2 as default_eap_type); the Debian service
# in the host namespace does not see it.  Each success ends with the client's virtual IP;
# each failure with AUTHENTICATION_FAILED at the client and one gateway log line with the
# client's address, identity, method and reason.
set -u
source "$(dirname "$0")/lib.sh"
it_need_root eap
it_need_tools eap charon swanctl pki
it_init ie
it_topology
D=$IT_DIR
RADIUS_SECRET=ie-throwaway-secret
# NT hash (MD4 of UTF-16LE) of "secret": the users: file never holds the password.
ALICE_NT=878d8014606cda29677a44efa1353fc7

# $1: profile auth list, $2: extra profile line, $3: RADIUS retries.
gw_start() {
	it_gw_config "$D/ikegw.yaml" "$D/pki" 0.0.0.0/0 "" "$1"
	[ -n "${2:-}" ] && echo "    $2" >>"$D/ikegw.yaml"
	cat >>"$D/ikegw.yaml" <<-EOF
	users:
	  - { name: alice, nt_hash: $ALICE_NT }
	radius:
	  servers: [{ address: 127.0.0.1, port: 1812, secret: $RADIUS_SECRET }]
	  timeout: 1s
	  retries: ${3:-2}
	EOF
	it_gw_start "$D/ikegw.yaml"
}

# FreeRADIUS with a private config: only what EAP-MSCHAPv2 needs.
radius_conf() {
	local r=$D/raddb
	mkdir -p "$r"
	cat >"$r/radiusd.conf" <<-EOF
	prefix = /usr
	exec_prefix = /usr
	sysconfdir = /etc
	localstatedir = /var
	sbindir = /usr/sbin
	logdir = $r
	raddbdir = $r
	radacctdir = $r
	name = freeradius
	confdir = $r
	modconfdir = $r
	run_dir = $r
	db_dir = $r
	libdir = /usr/lib/freeradius
	pidfile = $r/radiusd.pid
	max_request_time = 30
	cleanup_delay = 1
	max_requests = 1024
	hostname_lookups = no
	log {
	  destination = stdout
	  auth = yes
	}
	security {
	  allow_core_dumps = no
	  max_attributes = 200
	  reject_delay = 0
	  status_server = no
	}
	client ikegw {
	  ipaddr = 127.0.0.1
	  secret = $RADIUS_SECRET
	  require_message_authenticator = yes
	}
	modules {
	  files {
	    filename = $r/users
	  }
	  mschap {
	  }
	  eap {
	    default_eap_type = mschapv2
	    timer_expire = 60
	    ignore_unknown_eap_types = no
	    max_sessions = 64
	    mschapv2 {
	    }
	  }
	}
	server default {
	  listen {
	    type = auth
	    ipaddr = 127.0.0.1
	    port = 1812
	  }
	  authorize {
	    files
	    eap
	  }
	  authenticate {
	    Auth-Type MS-CHAP {
	      mschap
	    }
	    eap
	  }
	  post-auth {
	  }
	}
	EOF
	# Class selects the profile; Framed-IP-Address is the client's address in the pool.
	cat >"$r/users" <<-'EOF'
	alice Cleartext-Password := "secret"
	      Class := "staff", Framed-IP-Address := 10.99.0.77
	EOF
	touch "$r/dictionary"
}

radius_start() {
	ip netns exec ie-gw freeradius -X -d "$D/raddb" >>"$D/freeradius.log" 2>&1 &
	RADIUS_PID=$!
	IT_PIDS+=("$RADIUS_PID")
	for _ in $(seq 1 50); do
		grep -q "Ready to process requests" "$D/freeradius.log" && return 0
		kill -0 "$RADIUS_PID" 2>/dev/null || break
		sleep 0.1
	done
	return 1
}

radius_stop() {
	kill "$RADIUS_PID" 2>/dev/null
	wait "$RADIUS_PID" 2>/dev/null
}

# $1: client name, $2: password, $3: "two" for certificate + EAP in two rounds.
client_conf() {
	local c=$D/cl-$1 local
	it_charon_conf "$c" 1
	cp "$D/pki/ca.crt" "$c/swanctl/x509ca/"
	if [ "${3:-}" = two ]; then
		cp "$D/pki/client.crt" "$c/swanctl/x509/"
		cp "$D/pki/client.key" "$c/swanctl/private/"
		# RFC 4739 rounds go by the names' order: local-1 first, then local-2.
		local="local-1 {
	      auth = pubkey
	      certs = client.crt
	      id = client@example.test
	    }
	    local-2 {
	      auth = eap-mschapv2
	      eap_id = alice
	    }"
	else
		local="local {
	      auth = eap-mschapv2
	      eap_id = alice
	    }"
	fi
	cat >"$c/swanctl/swanctl.conf" <<-EOF
	connections {
	  gw {
	    version = 2
	    remote_addrs = 192.0.2.1
	    vips = 0.0.0.0
	    $local
	    remote {
	      auth = pubkey
	      id = vpn.example.test
	    }
	    children {
	      gw {
	        remote_ts = 0.0.0.0/0
	      }
	    }
	  }
	}
	secrets {
	  eap-alice {
	    id = alice
	    secret = $2
	  }
	}
	EOF
}

client_run() {
	it_client_up "$1"
	it_client_down
}

# $1 test, $2 client, $3 VIP pattern.
expect_up() {
	local name=$1 c=$D/cl-$2 vip=${3:-10\\.99\\.0\\.[0-9]+}
	if ! grep -q ESTABLISHED "$c/sas.txt"; then
		it_fail "$name" "not established: $(grep -E 'AUTH|EAP|failed' "$c/charon.log" | head -3 | tr '\n' ' ')"
		return
	fi
	if ! grep -qE "installing new virtual IP $vip|local.*$vip" "$c/charon.log" "$c/sas.txt"; then
		it_fail "$name" "no virtual IP matching $vip"; return
	fi
	if ! grep -q "established: identity 'alice'" "$D/ikegwd.log"; then
		it_fail "$name" "gateway did not log the EAP identity"; return
	fi
	it_pass "$name"
}

# $1 test, $2 client, $3 reason: refused, logged with address, identity and method.
expect_refused() {
	it_expect_refused "$1" "$2" "authentication failed: 192\.0\.2\.2 identity 'alice' method eap-[a-z0-9]+: $3"
}

it_pki "$D/pki" ecdsa

# EAP-MSCHAPv2 against users:.
gw_start eap-mschapv2 || { it_fail eap-gateway-start "ikegwd did not start"; exit 1; }
client_conf local-ok secret
client_run local-ok
expect_up eap-mschapv2-local local-ok
client_conf local-bad wrong
client_run local-bad
expect_refused eap-mschapv2-wrong-password local-bad "wrong password"
if [ "$(grep -c 'authentication failed:' "$D/ikegwd.log")" != 1 ]; then
	it_fail eap-one-log-line-per-failure "$(grep -c 'authentication failed:' "$D/ikegwd.log") lines"
else
	it_pass eap-one-log-line-per-failure
fi
it_gw_stop eap-gateway-exit

# EAP-TLS (RFC 5216, TLS 1.2 as strongSwan 5.9.8's client speaks it): the client proves
# its certificate inside EAP; a revoked one is refused through trust.crl.
tls_client() { # $1 name, $2 cert basename, $3 identity
	local c=$D/cl-$1
	it_charon_conf "$c" 1
	cp "$D/pki/ca.crt" "$c/swanctl/x509ca/"
	cp "$D/pki/$2.crt" "$c/swanctl/x509/"
	cp "$D/pki/$2.key" "$c/swanctl/private/"
	cat >"$c/swanctl/swanctl.conf" <<-EOF
	connections {
	  gw {
	    version = 2
	    remote_addrs = 192.0.2.1
	    vips = 0.0.0.0
	    local {
	      auth = eap-tls
	      certs = $2.crt
	      id = $3
	    }
	    remote {
	      auth = pubkey
	      id = vpn.example.test
	    }
	    children {
	      gw {
	        remote_ts = 0.0.0.0/0
	      }
	    }
	  }
	}
	EOF
	client_run "$1"
}
it_pki_client "$D/pki" tlsrevoked tlsrevoked@example.test
it_pki_revoke "$D/pki" tlsrevoked
: >"$D/ikegwd.log"
it_gw_config "$D/ikegw.yaml" "$D/pki" 0.0.0.0/0 "crl: [$D/pki/ca.crl]" eap-tls
it_gw_start "$D/ikegw.yaml" || { it_fail eap-tls-gateway-start "ikegwd did not start"; exit 1; }
tls_client tls-ok client client@example.test
if grep -q ESTABLISHED "$D/cl-tls-ok/sas.txt" &&
	grep -qE "installing new virtual IP 10\.99\.0\." "$D/cl-tls-ok/charon.log" &&
	grep -q "auth eap-tls" "$D/ikegwd.log"; then
	it_pass eap-tls
else
	it_fail eap-tls "not established: $(grep -E 'EAP|TLS|AUTH|failed' "$D/cl-tls-ok/charon.log" | tail -4 | tr '\n' ' ')"
fi
tls_client tls-revoked tlsrevoked tlsrevoked@example.test
if ! grep -q ESTABLISHED "$D/cl-tls-revoked/sas.txt" &&
	grep -q "authentication failed: 192.0.2.2 .*eap-tls.*revoked" "$D/ikegwd.log"; then
	it_pass eap-tls-revoked-refused
else
	it_fail eap-tls-revoked-refused "$(grep 'authentication failed' "$D/ikegwd.log" | tail -1)"
fi
it_gw_stop eap-tls-gateway-exit

if ! command -v freeradius >/dev/null; then
	it_skip eap-radius "freeradius is not installed (make deps)"
	exit 0
fi
radius_conf
radius_start || { it_fail eap-radius-start "freeradius did not start: $(tail -5 "$D/freeradius.log")"; exit 0; }

# EAP relayed to FreeRADIUS; the profile is chosen by its Class, the address is its
# Framed-IP-Address.
: >"$D/ikegwd.log"
gw_start eap-radius "match: { radius_class: staff }" ||
	{ it_fail eap-gateway-start "ikegwd did not start"; exit 1; }
client_conf radius-ok secret
client_run radius-ok
expect_up eap-radius-freeradius radius-ok '10\.99\.0\.77'
client_conf radius-bad wrong
client_run radius-bad
expect_refused eap-radius-reject radius-bad "RADIUS reject"

# RADIUS does not answer: the client gets AUTHENTICATION_FAILED after the retries.
radius_stop
client_conf radius-down secret
client_run radius-down
expect_refused eap-radius-timeout radius-down "RADIUS timeout"
it_gw_stop eap-gateway-exit

# Certificate, then EAP relayed to RADIUS (RFC 4739).
radius_start || { it_fail eap-radius-start "freeradius did not start again"; exit 0; }
: >"$D/ikegwd.log"
gw_start "certificate, eap-radius" || { it_fail eap-gateway-start "ikegwd did not start"; exit 1; }
client_conf two secret two
client_run two
if ! grep -q ESTABLISHED "$D/cl-two/sas.txt" &&
	grep -E "IKE_SA_INIT response" "$D/cl-two/charon.log" | grep -qv MULT_AUTH; then
	it_skip eap-certificate-then-radius "the gateway does not announce MULTIPLE_AUTH_SUPPORTED in IKE_SA_INIT (ike_sa_init.c)"
else
	expect_up eap-certificate-then-radius two '10\.99\.0\.77'
	if ! grep -q "auth certificate+eap-radius" "$D/ikegwd.log"; then
		it_fail eap-two-rounds-logged "established line does not name both rounds"
	else
		it_pass eap-two-rounds-logged
	fi
fi
it_gw_stop eap-gateway-exit

if [ "$IT_FAILED" != 0 ]; then
	echo "--- ikegwd log"; tail -60 "$D/ikegwd.log"
fi
exit 0
