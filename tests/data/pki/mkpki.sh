#!/bin/sh
# SPDX-License-Identifier: ISC
# Generates the test PKI used by tests/unit/test_cert.c (and usable by exchange tests).
# The outputs are committed; re-run only to change them (every cert changes).
#
#   CA-A (ECDSA P-256, root)  ── int-a (ECDSA P-256) ── client-int
#      ├── client-ecdsa      SAN email+DNS, EKU clientAuth
#      ├── client-rsa        RSA 2048, SAN DNS + IPv4 + IPv6
#      ├── client-ed25519    Ed25519, SAN DNS
#      ├── client-expired    valid 2000-01-01 .. 2001-01-01
#      ├── client-revoked    listed in ca-a.crl
#      ├── client-serverauth EKU serverAuth only (wrong for an IKE client)
#      ├── client-ipsecike   EKU id-kp-ipsecIKE only (fine)
#      ├── client-noeku      no EKU extension (fine)
#      ├── client-nodigsig   keyUsage without digitalSignature (wrong)
#      └── gateway           SAN DNS vpn.example.test, EKU serverAuth
#   CA-B (RSA 2048, another root) ── client-cab
#
# Validity 2020-01-01 .. 2120-01-01 (100 years), except client-expired.
# CRLs: ca-a.crl and int-a.crl (the intermediate's own, empty), valid over the same
# 100 years, so CRL_CHECK_ALL can be used.  Keys are unencrypted PEM (PKCS#8).
set -eu
cd "$(dirname "$0")"
# Fixed dates so the tests can verify at a fixed time (2030-01-01) on any clock.
START=20200101000000Z
END=21200101000000Z
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cat > "$work/ext.cnf" <<'CNF'
[ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash

[intca]
basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid

[client_ecdsa]
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
subjectAltName = email:alice@example.test, DNS:alice.example.test

[client_rsa]
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = clientAuth
subjectAltName = DNS:bob.example.test, IP:192.0.2.10, IP:2001:db8::10

[client_plain]
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
subjectAltName = DNS:${ENV::SAN}

[client_serverauth]
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:${ENV::SAN}

[client_ipsecike]
keyUsage = critical, digitalSignature
extendedKeyUsage = 1.3.6.1.5.5.7.3.17
subjectAltName = DNS:${ENV::SAN}

[client_noeku]
subjectAltName = DNS:${ENV::SAN}

[client_nodigsig]
keyUsage = critical, keyAgreement
extendedKeyUsage = clientAuth
subjectAltName = DNS:${ENV::SAN}

[gateway]
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:vpn.example.test
CNF

# A throwaway `openssl ca` database per issuing CA ($1 = ca name).
ca_conf() {
	mkdir -p "$work/$1"
	: > "$work/$1/index.txt"
	echo 1000 > "$work/$1/serial"
	echo 1000 > "$work/$1/crlnumber"
	cat > "$work/$1.cnf" <<CNF
[ca]
default_ca = this
[this]
dir = $work/$1
database = \$dir/index.txt
new_certs_dir = \$dir
serial = \$dir/serial
crlnumber = \$dir/crlnumber
certificate = $PWD/$1.crt
private_key = $PWD/$1.key
default_md = sha256
policy = any
unique_subject = no
copy_extensions = none
crl_extensions = crl_ext
[any]
countryName = optional
organizationName = optional
commonName = supplied
[crl_ext]
authorityKeyIdentifier = keyid
CNF
}

key_ec() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:${2:-P-256} -out "$1.key"; }
key_rsa() { openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$1.key" 2>/dev/null; }
key_ed() { openssl genpkey -algorithm ED25519 -out "$1.key"; }

# root CA: $1 name, $2 subject (self-signed through `openssl ca` for fixed dates)
root() {
	ca_conf "$1"
	openssl req -new -key "$1.key" -subj "$2" -out "$work/$1.csr"
	openssl ca -batch -notext -selfsign -keyfile "$1.key" -config "$work/$1.cnf" \
		-startdate $START -enddate $END -md sha256 -extfile "$work/ext.cnf" \
		-extensions ca -in "$work/$1.csr" -out "$1.crt" 2>/dev/null
}

# issue: $1 ca, $2 name, $3 subject, $4 extension section, [$5 $6 start/end]
issue() {
	openssl req -new -key "$2.key" -subj "$3" -out "$work/$2.csr"
	openssl ca -batch -notext -config "$work/$1.cnf" -startdate "${5:-$START}" \
		-enddate "${6:-$END}" -md sha256 \
		-extfile "$work/ext.cnf" -extensions "$4" -in "$work/$2.csr" -out "$2.crt" \
		2>/dev/null
}

rm -f ./*.crt ./*.key ./*.crl
export SAN=unused.example.test
key_ec ca-a && root ca-a "/C=XX/O=ikegw test/CN=CA-A"
key_rsa ca-b && root ca-b "/C=XX/O=ikegw test/CN=CA-B"

key_ec int-a
issue ca-a int-a "/C=XX/O=ikegw test/CN=Intermediate A" intca
ca_conf int-a

key_ec client-ecdsa
issue ca-a client-ecdsa "/C=XX/O=ikegw test/CN=alice" client_ecdsa
key_rsa client-rsa
issue ca-a client-rsa "/C=XX/O=ikegw test/CN=bob" client_rsa
key_ed client-ed25519
SAN=carol.example.test issue ca-a client-ed25519 "/C=XX/O=ikegw test/CN=carol" client_plain
key_ec client-int
SAN=dave.example.test issue int-a client-int "/C=XX/O=ikegw test/CN=dave" client_plain
key_ec client-expired
SAN=erin.example.test issue ca-a client-expired "/C=XX/O=ikegw test/CN=erin" client_plain \
	20000101000000Z 20010101000000Z
key_ec client-revoked
SAN=mallory.example.test issue ca-a client-revoked "/C=XX/O=ikegw test/CN=mallory" client_plain
key_ec client-serverauth
SAN=srv.example.test issue ca-a client-serverauth "/C=XX/O=ikegw test/CN=srv" client_serverauth
key_ec client-ipsecike
SAN=ike.example.test issue ca-a client-ipsecike "/C=XX/O=ikegw test/CN=ike" client_ipsecike
key_ec client-noeku
SAN=noeku.example.test issue ca-a client-noeku "/C=XX/O=ikegw test/CN=noeku" client_noeku
key_ec client-nodigsig
SAN=nodigsig.example.test issue ca-a client-nodigsig "/C=XX/O=ikegw test/CN=nodigsig" client_nodigsig
key_ec gateway
issue ca-a gateway "/C=XX/O=ikegw test/CN=vpn.example.test" gateway
key_rsa client-cab
SAN=frank.example.test issue ca-b client-cab "/C=XX/O=ikegw test/CN=frank" client_plain

openssl ca -batch -config "$work/ca-a.cnf" -revoke client-revoked.crt -crl_reason keyCompromise \
	2>/dev/null
openssl ca -batch -config "$work/ca-a.cnf" -gencrl -crl_lastupdate $START -crl_nextupdate $END \
	-out ca-a.crl 2>/dev/null
openssl ca -batch -config "$work/int-a.cnf" -gencrl -crl_lastupdate $START \
	-crl_nextupdate $END -out int-a.crl 2>/dev/null

# Our own chain as the daemon loads it: leaf first, then the intermediate.
cat client-int.crt int-a.crt > client-int-chain.crt
echo "test PKI written to $PWD"
