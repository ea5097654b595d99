#!/bin/sh
# Create a self-signed CA and a server certificate for Mosquitto's TLS listener.
# Usage: sh make-certs.sh OUTPUT_DIR HOSTNAME [IP]
# Uses the `cryptography` Python package when it is importable, otherwise openssl.
# Devices are given ca.crt to trust the broker; keep ca.key offline.
set -eu
out=${1:?usage: make-certs.sh OUTPUT_DIR HOSTNAME [IP]}
host=${2:?usage: make-certs.sh OUTPUT_DIR HOSTNAME [IP]}
ip=${3:-127.0.0.1}
python=${PYTHON:-python3}
mkdir -p "$out"
umask 077

if "$python" -c 'import cryptography' 2>/dev/null; then
  echo "make-certs: using the cryptography package"
  "$python" - "$out" "$host" "$ip" <<'PY'
import datetime as dt
import ipaddress
import sys
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

out, host, ip = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
now = dt.datetime.now(dt.UTC)


def write_key(key, name):
    (out / name).write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )


ca_key = ec.generate_private_key(ec.SECP256R1())
ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "CerCollettiva MQTT CA")])
ca = (
    x509.CertificateBuilder()
    .subject_name(ca_name)
    .issuer_name(ca_name)
    .public_key(ca_key.public_key())
    .serial_number(x509.random_serial_number())
    .not_valid_before(now - dt.timedelta(minutes=5))
    .not_valid_after(now + dt.timedelta(days=3650))
    .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
    .sign(ca_key, hashes.SHA256())
)
key = ec.generate_private_key(ec.SECP256R1())
server = (
    x509.CertificateBuilder()
    .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)]))
    .issuer_name(ca_name)
    .public_key(key.public_key())
    .serial_number(x509.random_serial_number())
    .not_valid_before(now - dt.timedelta(minutes=5))
    .not_valid_after(now + dt.timedelta(days=825))
    .add_extension(
        x509.SubjectAlternativeName([x509.DNSName(host), x509.IPAddress(ipaddress.ip_address(ip))]),
        critical=False,
    )
    .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
    .sign(ca_key, hashes.SHA256())
)
write_key(ca_key, "ca.key")
write_key(key, "server.key")
(out / "ca.crt").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
(out / "server.crt").write_bytes(server.public_bytes(serialization.Encoding.PEM))
PY
else
  echo "make-certs: cryptography not installed, using openssl"
  openssl ecparam -name prime256v1 -genkey -noout -out "$out/ca.key"
  openssl req -x509 -new -key "$out/ca.key" -sha256 -days 3650 \
    -subj "/CN=CerCollettiva MQTT CA" -out "$out/ca.crt"
  openssl ecparam -name prime256v1 -genkey -noout -out "$out/server.key"
  openssl req -new -key "$out/server.key" -subj "/CN=$host" -out "$out/server.csr"
  printf 'subjectAltName=DNS:%s,IP:%s\nextendedKeyUsage=serverAuth\n' "$host" "$ip" >"$out/server.ext"
  openssl x509 -req -in "$out/server.csr" -CA "$out/ca.crt" -CAkey "$out/ca.key" \
    -CAcreateserial -days 825 -sha256 -extfile "$out/server.ext" -out "$out/server.crt" 2>/dev/null
  rm -f "$out/server.csr" "$out/server.ext" "$out/ca.srl"
fi
chmod 644 "$out/ca.crt" "$out/server.crt"
# mosquitto reads the key after dropping privileges to the mosquitto user.
if [ "$(id -u)" -eq 0 ] && id mosquitto >/dev/null 2>&1; then
  chown mosquitto "$out/server.key"
fi
echo "make-certs: wrote $out/ca.crt, $out/server.crt and $out/server.key (CA key: $out/ca.key)"
