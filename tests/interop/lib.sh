# shellcheck shell=bash
# Shared helpers for the network-namespace interop tests.  Source it, then call
# it_init PREFIX.  Topology (per test, names carry the test's prefix P):
#
#   [P-cl] 192.0.2.2/24 --veth P-c / P-g-- 192.0.2.1/24 [P-gw]   lo: 10.10.0.1/32 (the "LAN")
#
# Everything created here is removed on exit, on failure and on SIGINT/SIGTERM; only the
# PIDs started here are stopped.  Results are printed as "PASS: name", "FAIL: name: why",
# "SKIP: name: why" lines, which tests/run.sh counts.

IT_TOP=${IKEGW_TOP:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
IT_BUILD=${IKEGW_BUILD:-$IT_TOP/build}
IT_PIDS=()
IT_NS=()
IT_DIR=""
IT_PREFIX=""

it_pass() { echo "PASS: $1"; }
it_fail() { echo "FAIL: $1: $2"; IT_FAILED=1; }
it_skip() { echo "SKIP: $1: $2"; }

it_cleanup() {
	local pid ns
	for pid in "${IT_PIDS[@]}"; do kill "$pid" 2>/dev/null; done
	for pid in "${IT_PIDS[@]}"; do
		for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		kill -9 "$pid" 2>/dev/null
	done
	for ns in "${IT_NS[@]}"; do ip netns del "$ns" 2>/dev/null; done
	[ -n "$IT_DIR" ] && [ -z "${IT_KEEP:-}" ] && rm -rf "$IT_DIR"
	IT_PIDS=() IT_NS=()
}

# it_need_root NAME: prints SKIP and exits 0 when namespaces cannot be made.
it_need_root() {
	if [ "$(id -u)" != 0 ]; then it_skip "$1" "needs root for network namespaces"; exit 0; fi
	if ! command -v ip >/dev/null; then it_skip "$1" "iproute2 missing"; exit 0; fi
}

# it_need_tools NAME TOOL...: prints SKIP and exits 0 when a tool is missing (make deps
# installs them all); strongSwan's daemons live in /usr/lib/ipsec.
it_need_tools() {
	local name=$1 b
	shift
	for b in "$@"; do
		command -v "$b" >/dev/null || [ -x "/usr/lib/ipsec/$b" ] ||
			{ it_skip "$name" "$b is not installed (make deps)"; exit 0; }
	done
}

it_init() {
	IT_PREFIX=$1
	IT_DIR=$(mktemp -d "/tmp/ikegw-$IT_PREFIX.XXXXXX")
	IT_FAILED=0
	trap it_cleanup EXIT
	trap 'it_cleanup; exit 130' INT TERM
	# A previous run killed hard may have left our namespaces behind.
	ip netns del "$IT_PREFIX-cl" 2>/dev/null || true
	ip netns del "$IT_PREFIX-gw" 2>/dev/null || true
	ip netns del "$IT_PREFIX-nat" 2>/dev/null || true
}

# it_topology: the two namespaces joined by a veth pair, plus the LAN address.
it_topology() {
	local p=$IT_PREFIX
	ip netns add "$p-cl" && IT_NS+=("$p-cl")
	ip netns add "$p-gw" && IT_NS+=("$p-gw")
	ip link add "$p-c" netns "$p-cl" type veth peer name "$p-g" netns "$p-gw"
	ip -n "$p-cl" addr add 192.0.2.2/24 dev "$p-c"
	ip -n "$p-gw" addr add 192.0.2.1/24 dev "$p-g"
	ip -n "$p-cl" link set lo up
	ip -n "$p-gw" link set lo up
	ip -n "$p-cl" link set "$p-c" up
	ip -n "$p-gw" link set "$p-g" up
	ip -n "$p-gw" addr add 10.10.0.1/32 dev lo
}

# it_topology_nat: the client behind a NAT namespace (nft masquerade, random ports):
#   [P-cl] 198.51.100.2 -- P-c/P-nc -- 198.51.100.1 [P-nat] 192.0.2.254 -- P-ng/P-g -- 192.0.2.1 [P-gw]
it_topology_nat() {
	local p=$IT_PREFIX
	ip netns add "$p-cl" && IT_NS+=("$p-cl")
	ip netns add "$p-nat" && IT_NS+=("$p-nat")
	ip netns add "$p-gw" && IT_NS+=("$p-gw")
	ip link add "$p-c" netns "$p-cl" type veth peer name "$p-nc" netns "$p-nat"
	ip link add "$p-ng" netns "$p-nat" type veth peer name "$p-g" netns "$p-gw"
	ip -n "$p-cl" addr add 198.51.100.2/24 dev "$p-c"
	ip -n "$p-nat" addr add 198.51.100.1/24 dev "$p-nc"
	ip -n "$p-nat" addr add 192.0.2.254/24 dev "$p-ng"
	ip -n "$p-gw" addr add 192.0.2.1/24 dev "$p-g"
	for ns in cl nat gw; do ip -n "$p-$ns" link set lo up; done
	ip -n "$p-cl" link set "$p-c" up
	ip -n "$p-nat" link set "$p-nc" up
	ip -n "$p-nat" link set "$p-ng" up
	ip -n "$p-gw" link set "$p-g" up
	ip -n "$p-cl" route add default via 198.51.100.1
	ip -n "$p-gw" addr add 10.10.0.1/32 dev lo
	ip netns exec "$p-nat" sysctl -qw net.ipv4.ip_forward=1
	ip netns exec "$p-nat" nft -f - <<-EOF
	table ip nat {
	  chain post { type nat hook postrouting priority srcnat; oifname "$p-ng" masquerade random; }
	}
	EOF
}

# it_pki DIR: a throwaway CA, a gateway certificate (SAN vpn.example.test, serverAuth)
# and a client certificate (SAN client@example.test), all ECDSA P-256 unless $2 = rsa.
it_pki() {
	local d=$1 type=${2:-ecdsa} size=256
	# pki reads the system strongswan.conf and complains about plugins it lacks.
	local STRONGSWAN_CONF=$IT_DIR/pki.conf
	export STRONGSWAN_CONF
	echo 'pki { load = random pem pkcs1 pkcs8 x509 openssl }' >"$STRONGSWAN_CONF"
	[ "$type" = rsa ] && size=2048
	mkdir -p "$d"
	pki --gen --type "$type" --size "$size" --outform pem >"$d/ca.key"
	pki --self --ca --lifetime 3650 --in "$d/ca.key" --type "$type" \
		--dn "C=CH, O=ikegw test, CN=ikegw test CA" --outform pem >"$d/ca.crt"
	pki --gen --type "$type" --size "$size" --outform pem >"$d/gw.key"
	pki --pub --in "$d/gw.key" --type "$type" | pki --issue --lifetime 1825 \
		--cacert "$d/ca.crt" --cakey "$d/ca.key" --dn "C=CH, O=ikegw test, CN=vpn.example.test" \
		--san vpn.example.test --san 192.0.2.1 --flag serverAuth --flag ikeIntermediate \
		--outform pem >"$d/gw.crt"
	pki --gen --type "$type" --size "$size" --outform pem >"$d/client.key"
	pki --pub --in "$d/client.key" --type "$type" | pki --issue --lifetime 1825 \
		--cacert "$d/ca.crt" --cakey "$d/ca.key" --dn "C=CH, O=ikegw test, CN=client@example.test" \
		--san client@example.test --flag clientAuth --outform pem >"$d/client.crt"
	unset STRONGSWAN_CONF
}

# it_pki_client DIR NAME ID: one more client certificate from DIR's CA.
it_pki_client() {
	local d=$1 n=$2 id=$3 type=ecdsa size=256
	local STRONGSWAN_CONF=$IT_DIR/pki.conf
	export STRONGSWAN_CONF
	grep -q 'RSA' "$d/ca.key" 2>/dev/null && { type=rsa; size=2048; }
	pki --gen --type "$type" --size "$size" --outform pem >"$d/$n.key"
	pki --pub --in "$d/$n.key" --type "$type" | pki --issue --lifetime 1825 \
		--cacert "$d/ca.crt" --cakey "$d/ca.key" --dn "C=CH, O=ikegw test, CN=$id" \
		--san "$id" --flag clientAuth --outform pem >"$d/$n.crt"
	unset STRONGSWAN_CONF
}

# it_pki_revoke DIR NAME: DIR/ca.crl revoking DIR/NAME.crt.
it_pki_revoke() {
	local STRONGSWAN_CONF=$IT_DIR/pki.conf
	export STRONGSWAN_CONF
	pki --signcrl --cacert "$1/ca.crt" --cakey "$1/ca.key" --lifetime 30 \
		--reason key-compromise --cert "$1/$2.crt" --outform pem >"$1/ca.crl"
	unset STRONGSWAN_CONF
}

# it_charon_conf DIR [LOGLEVEL]: a private strongswan.conf for one charon instance.
it_charon_conf() {
	local d=$1 lvl=${2:-1}
	mkdir -p "$d/run" "$d/swanctl"/{conf.d,x509,x509ca,private,x509crl}
	cat >"$d/strongswan.conf" <<-EOF
	charon {
	  load = random nonce openssl kdf pem pkcs1 pkcs8 x509 revocation constraints pubkey kernel-libipsec kernel-netlink socket-default vici attr resolve eap-identity eap-mschapv2 eap-tls eap-radius updown
	  install_routes = yes
	  retransmit_tries = 2
	  retransmit_timeout = 1.0
	  plugins {
	    vici { socket = unix://$d/charon.vici }
	    resolve { file = $d/resolv.conf }
	    openssl { load_legacy = yes }
	  }
	  filelog {
	    main { path = $d/charon.log
	           default = $lvl
	           flush_line = yes
	           time_format = %H:%M:%S }
	  }
	  syslog { daemon { default = -1 } }
	}
	swanctl { socket = unix://$d/charon.vici
	  load = random nonce pem pkcs1 pkcs8 x509 openssl revocation constraints pubkey }
	EOF
}

# it_charon_start NS DIR: start a private charon in NS; waits for its VICI socket.
it_charon_start() {
	local ns=$1 d=$2
	STRONGSWAN_CONF=$d/strongswan.conf ip netns exec "$ns" unshare --mount --propagation private \
		sh -c "mount --bind '$d/run' /run && exec /usr/lib/ipsec/charon" \
		>"$d/charon.out" 2>&1 &
	IT_PIDS+=($!)
	for _ in $(seq 1 50); do
		[ -S "$d/charon.vici" ] && return 0
		sleep 0.1
	done
	echo "charon did not start in $ns; its output:" >&2
	cat "$d/charon.out" "$d/charon.log" >&2 2>/dev/null
	return 1
}

# it_swanctl DIR ARGS...: swanctl against the instance in DIR.
it_swanctl() {
	local d=$1
	shift
	STRONGSWAN_CONF=$d/strongswan.conf SWANCTL_DIR=$d/swanctl swanctl "$@"
}

# it_gw_config FILE PKIDIR ALLOW [TRUST_LINE] [PROFILE_AUTH]: the standard test gateway:
# certificate from PKIDIR, pool 10.99.0.0/24 with DNS 10.0.0.53, one profile "staff"
# (certificate auth unless PROFILE_AUTH) allowing ALLOW, control socket in $IT_DIR,
# userspace dataplane on TUN $IT_PREFIX-tun.
it_gw_config() {
	cat >"$1" <<-EOF
	gateway:
	  id: vpn.example.test
	  listen: [192.0.2.1]
	  certificate: $2/gw.crt
	  private_key: $2/gw.key
	  control_socket: $IT_DIR/ikegw.sock
	  dataplane: userspace
	  tun_name: $IT_PREFIX-tun
	  log_level: debug
	trust:
	  ca: [$2/ca.crt]
	  ${4:-}
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
	    auth: [${5:-certificate}]
	    pool: staff
	    allow: [$3]
	EOF
}

# it_ctl ARGS...: ikegwctl against the test gateway.
it_ctl() {
	"$IT_BUILD/ikegwctl" -s "$IT_DIR/ikegw.sock" "$@"
}

# it_gw_start CONFIG: ikegwd in $IT_PREFIX-gw; its log is $IT_DIR/ikegwd.log (appended).
it_gw_start() {
	local before
	touch "$IT_DIR/ikegwd.log"
	before=$(grep -c started "$IT_DIR/ikegwd.log")
	ip netns exec "$IT_PREFIX-gw" "$IT_BUILD/ikegwd" -c "$1" >>"$IT_DIR/ikegwd.log" 2>&1 &
	IT_GW_PID=$!
	IT_PIDS+=("$IT_GW_PID")
	for _ in $(seq 1 50); do
		[ "$(grep -c started "$IT_DIR/ikegwd.log")" -gt "$before" ] && return 0
		kill -0 "$IT_GW_PID" 2>/dev/null || break
		sleep 0.1
	done
	cat "$IT_DIR/ikegwd.log" >&2
	return 1
}

# it_gw_stop NAME: SIGTERM must end ikegwd with status 0; a sanitizer report or a crash
# is a failure of test NAME.
it_gw_stop() {
	local rc
	kill "$IT_GW_PID" 2>/dev/null
	wait "$IT_GW_PID" 2>/dev/null
	rc=$?
	if [ "$rc" != 0 ] || grep -qE 'Sanitizer|runtime error' "$IT_DIR/ikegwd.log"; then
		it_fail "$1" "ikegwd exited with status $rc"
		grep -A20 -E 'Sanitizer|runtime error' "$IT_DIR/ikegwd.log" | head -40
	fi
}

# it_client_conf NAME PKIDIR CERT ID REMOTE_TS [SETTING]: a certificate client in
# $IT_DIR/cl-NAME; SETTING is one more connection setting ("fragmentation = force").
it_client_conf() {
	local c=$IT_DIR/cl-$1
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
	    ${6:-}
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

# it_client_up NAME: start the client's charon in $IT_PREFIX-cl and initiate; it stays up.
# Afterwards $IT_DIR/cl-NAME/{sas.txt,resolv.up,initiate.log} tell what happened.
it_client_up() {
	local c=$IT_DIR/cl-$1
	it_charon_start "$IT_PREFIX-cl" "$c" || return 1
	IT_CL_PID=${IT_PIDS[-1]}
	it_swanctl "$c" --load-all >/dev/null 2>&1
	it_swanctl "$c" --initiate --child gw --timeout 10 >"$c/initiate.log" 2>&1
	it_swanctl "$c" --list-sas >"$c/sas.txt" 2>&1
	cp "$c/resolv.conf" "$c/resolv.up" 2>/dev/null # charon removes its DNS servers on exit
	return 0
}

it_client_down() {
	kill "$IT_CL_PID" 2>/dev/null
	wait "$IT_CL_PID" 2>/dev/null
}

# it_expect_refused NAME CLIENT LOGREGEX: the client was refused with AUTHENTICATION_FAILED
# and ikegwd logged a line matching LOGREGEX (extended regex; address, identity, reason).
it_expect_refused() {
	local name=$1 c=$IT_DIR/cl-$2
	if grep -q ESTABLISHED "$c/sas.txt"; then
		it_fail "$name" "client was let in"; return
	fi
	if ! grep -q AUTHENTICATION_FAILED "$c/charon.log"; then
		it_fail "$name" "client did not get AUTHENTICATION_FAILED"; return
	fi
	if ! grep -qE "$3" "$IT_DIR/ikegwd.log"; then
		it_fail "$name" "no gateway log line matching '$3'"; return
	fi
	it_pass "$name"
}
