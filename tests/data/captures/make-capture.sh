#!/usr/bin/env bash
# Regenerates the captured strongSwan exchange in this folder (run as root; needs the
# packages `make deps` installs).  Two Debian charon 5.9.8 instances, client and responder,
# certificate auth (ECDSA P-256), in namespaces cap-cl/cap-gw; the responder logs its IKE
# keys at level 4 so tests can check our key derivation and SK decryption against them.
#
# Output: exchange.txt — one line per IKE datagram ("<dir> <sport> <dport> <hex>", the
# non-ESP marker stripped) followed by "key <name> <hex>" lines taken from charon's log.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
export IKEGW_TOP=$(cd "$here/../../.." && pwd)
source "$IKEGW_TOP/tests/interop/lib.sh"
it_init cap
it_topology
d=$IT_DIR
it_pki "$d/pki"
for side in cl gw; do it_charon_conf "$d/$side" 1; done
sed -i 's/default = 1/default = 1\n           ike = 4/' "$d/gw/strongswan.conf"
cp "$d/pki/ca.crt" "$d/cl/swanctl/x509ca/"; cp "$d/pki/ca.crt" "$d/gw/swanctl/x509ca/"
cp "$d/pki/client.crt" "$d/cl/swanctl/x509/"; cp "$d/pki/client.key" "$d/cl/swanctl/private/"
cp "$d/pki/gw.crt" "$d/gw/swanctl/x509/"; cp "$d/pki/gw.key" "$d/gw/swanctl/private/"
cat >"$d/cl/swanctl/swanctl.conf" <<CONF
connections {
  rw {
    version = 2
    remote_addrs = 192.0.2.1
    vips = 0.0.0.0
    proposals = aes256gcm16-prfsha384-x25519
    local { auth = pubkey
            certs = client.crt
            id = client@example.test }
    remote { auth = pubkey
             id = vpn.example.test }
    children { rw { remote_ts = 10.10.0.0/24
                    esp_proposals = aes256gcm16 } }
  }
}
CONF
cat >"$d/gw/swanctl/swanctl.conf" <<CONF
connections {
  rw {
    version = 2
    local_addrs = 192.0.2.1
    pools = p
    proposals = aes256gcm16-prfsha384-x25519
    local { auth = pubkey
            certs = gw.crt
            id = vpn.example.test }
    remote { auth = pubkey }
    children { rw { local_ts = 10.10.0.0/24
                    esp_proposals = aes256gcm16 } }
  }
}
pools { p { addrs = 10.99.0.0/24
            dns = 10.0.0.53 } }
CONF
ip netns exec cap-gw tcpdump -i cap-g -w "$d/cap.pcap" -U udp >/dev/null 2>&1 &
IT_PIDS+=($!)
it_charon_start cap-gw "$d/gw"
it_charon_start cap-cl "$d/cl"
it_swanctl "$d/gw" --load-all >/dev/null
it_swanctl "$d/cl" --load-all >/dev/null
it_swanctl "$d/cl" --initiate --child rw >"$d/initiate.log" 2>&1 || { cat "$d/initiate.log"; exit 1; }
sleep 1
python3 - "$d/cap.pcap" "$d/gw/charon.log" >"$here/exchange.txt" <<'PY'
import re, struct, sys
pcap, log = sys.argv[1], sys.argv[2]
data = open(pcap, 'rb').read()
off = 24
print("# strongSwan 5.9.8 client <-> strongSwan 5.9.8 responder, certificate auth, ECDSA P-256;")
print("# made by make-capture.sh; 'i' = from the client (initiator), 'r' = from the responder")
while off + 16 <= len(data):
    _, _, incl, _ = struct.unpack('<IIII', data[off:off+16]); off += 16
    pkt = data[off:off+incl]; off += incl
    ip = pkt[14:]
    if ip[9] != 17: continue
    ihl = (ip[0] & 15) * 4
    src = '.'.join(map(str, ip[12:16]))
    sport, dport = struct.unpack('!HH', ip[ihl:ihl+4])
    payload = ip[ihl+8:]
    if dport == 4500 or sport == 4500:
        if payload[:4] != b'\0\0\0\0': continue      # ESP, not IKE
        payload = payload[4:]
    if len(payload) < 28: continue
    print('i' if src == '192.0.2.2' else 'r', sport, dport, payload.hex())
keys = {}
lines = open(log).read().splitlines()
i = 0
while i < len(lines):
    m = re.search(r'(Sk_\w+|SKEYSEED|shared Diffie Hellman secret) (?:secret )?=> (\d+) bytes', lines[i])
    if m:
        name = m.group(1).replace(' ', '_'); n = int(m.group(2)); hexs = ''
        i += 1
        while i < len(lines) and len(hexs) < 2 * n:
            mm = re.search(r'\s\d+: ((?:[0-9A-F]{2} ?)+)', lines[i])
            if not mm: break
            hexs += mm.group(1).replace(' ', '').lower()[: 2 * n - len(hexs)]
            i += 1
        keys.setdefault(name, hexs)
        continue
    i += 1
for k, v in keys.items():
    print('key', k, v)
PY
echo "wrote $here/exchange.txt"; grep -c '^[ir] ' "$here/exchange.txt"; grep '^key' "$here/exchange.txt" | cut -c1-60
