#!/bin/sh
# Regenerates the test PKI used by tests/unit/test_config.c (the outputs are committed:
# the tests never run this script).  Validity 100 years so the files never expire.
#   pki/ca.crt ca.key      self-signed CA (ECDSA P-256, basicConstraints CA:TRUE)
#   pki/ca.crl             empty CRL signed by the CA
#   pki/gw.crt gw.key      gateway leaf (ECDSA P-256): SAN DNS:vpn.example.com,
#                          IP:192.0.2.1, EKU serverAuth + ikeIntermediate
#   pki/other.key          an unrelated key (for the key/cert mismatch test)
#   pki/notca.crt notca.key  a leaf (CA:FALSE) signed by the CA: "CA that is not a CA"
set -eu
cd "$(dirname "$0")"
mkdir -p pki
cd pki
days=36500
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

genkey() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1"; }

genkey ca.key
openssl req -new -x509 -key ca.key -days $days -subj "/C=GB/O=ikegw test/CN=ikegw test CA" \
	-addext "basicConstraints=critical,CA:TRUE" \
	-addext "keyUsage=critical,keyCertSign,cRLSign" -out ca.crt

cat > "$tmp/gw.ext" <<EXT
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=serverAuth,1.3.6.1.5.5.8.2.2
subjectAltName=DNS:vpn.example.com,IP:192.0.2.1
EXT
genkey gw.key
openssl req -new -key gw.key -subj "/C=GB/O=ikegw test/CN=vpn.example.com" -out "$tmp/gw.csr"
openssl x509 -req -in "$tmp/gw.csr" -CA ca.crt -CAkey ca.key -set_serial 2 -days $days \
	-extfile "$tmp/gw.ext" -out gw.crt

cat > "$tmp/leaf.ext" <<EXT
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=clientAuth
EXT
genkey notca.key
openssl req -new -key notca.key -subj "/C=GB/O=ikegw test/CN=not a ca" -out "$tmp/notca.csr"
openssl x509 -req -in "$tmp/notca.csr" -CA ca.crt -CAkey ca.key -set_serial 3 -days $days \
	-extfile "$tmp/leaf.ext" -out notca.crt

genkey other.key

# An empty CRL: `openssl ca` wants its little database.
: > "$tmp/index.txt"
echo 01 > "$tmp/crlnumber"
cat > "$tmp/ca.cnf" <<CNF
[ca]
default_ca = testca
[testca]
database = $tmp/index.txt
crlnumber = $tmp/crlnumber
default_md = sha256
default_crl_days = $days
CNF
openssl ca -config "$tmp/ca.cnf" -gencrl -keyfile ca.key -cert ca.crt -out ca.crl
