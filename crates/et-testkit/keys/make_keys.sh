#!/bin/sh
# Regenerates the test kit's keys with the openssl CLI (OpenSSL 3):
# unencrypted PKCS#8 PEM, public exponent 65537; the 1024-bit public
# halves as SPKI PEM too, for tests that hand key files to `et`. Tests
# read the committed files, so CI needs no openssl. Regenerating changes every key, so rerun
# `cargo run -p et-fuzz --example seed_corpus` afterwards (the committed
# fuzz seeds are signed with these keys).
# Usage: sh make_keys.sh   (from any directory)
set -eu
cd "$(dirname "$0")"
command -v openssl >/dev/null || { echo "openssl not found" >&2; exit 1; }
for who in merchant et stranger; do
  openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:1024 -out "$who-1024.pem"
  openssl pkey -in "$who-1024.pem" -pubout -out "$who-1024.pub.pem"
done
for who in merchant et; do
  openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$who-2048.pem"
done
