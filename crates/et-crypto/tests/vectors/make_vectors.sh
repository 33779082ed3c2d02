#!/bin/sh
# Regenerates the interop vectors in this directory with the openssl CLI
# (OpenSSL 3). Tests only read the committed outputs, so CI needs no openssl.
# Usage: sh make_vectors.sh             regenerate (run from any directory)
#        sh make_vectors.sh --reverse   check with openssl what et-crypto produces
set -eu
cd "$(dirname "$0")"
command -v openssl >/dev/null || { echo "openssl not found" >&2; exit 1; }

if [ "${1:-}" = "--reverse" ]; then
  out=$(mktemp -d)
  cargo run -q -p et-crypto --features aws-lc --example interop_out -- "$out"
  for f in "$out"/*.sig; do
    b=$(basename "$f"); bits=$(echo "$b" | cut -d. -f2); hash=$(echo "$b" | cut -d. -f3)
    openssl dgst -"$hash" -verify rsa$bits.spki.pem -signature "$f" "$out/msg" >/dev/null
    echo "ok  openssl verifies $b"
  done
  for f in "$out"/*.ct; do
    b=$(basename "$f"); [ "$b" = aes.ct ] && continue
    bits=$(echo "$b" | cut -d. -f2); pad=$(echo "$b" | cut -d. -f3)
    case $pad in
      pkcs1v15) opts="-pkeyopt rsa_padding_mode:pkcs1" ;;
      oaep-sha256) opts="-pkeyopt rsa_padding_mode:oaep -pkeyopt rsa_oaep_md:sha256 -pkeyopt rsa_mgf1_md:sha256" ;;
      oaep-sha256-mgf1-sha1) opts="-pkeyopt rsa_padding_mode:oaep -pkeyopt rsa_oaep_md:sha256 -pkeyopt rsa_mgf1_md:sha1" ;;
      oaep-sha1) opts="-pkeyopt rsa_padding_mode:oaep -pkeyopt rsa_oaep_md:sha1 -pkeyopt rsa_mgf1_md:sha1" ;;
    esac
    pt=$(openssl pkeyutl -decrypt -inkey rsa$bits.pkcs8.pem -in "$f" $opts)
    [ "$pt" = Ab3dEf7hIj1lMn0p ] || { echo "FAIL $b" >&2; exit 1; }
    echo "ok  openssl decrypts $b"
  done
  for f in "$out"/*.generated.pem; do
    openssl pkey -in "$f" -check -noout >/dev/null && echo "ok  openssl accepts $(basename "$f")"
  done
  key=$(printf Ab3dEf7hIj1lMn0p | od -An -tx1 | tr -d ' \n')
  openssl enc -d -aes-128-cbc -K "$key" -iv "$key" -in "$out/aes.ct" | cmp - "$out/msg" && echo "ok  openssl decrypts aes.ct"
  rm -rf "$out"
  exit 0
fi

# Base64 on one line; "-" for empty input so every field is non-empty.
b64() { if [ -s "$1" ]; then openssl base64 -A -in "$1"; else printf -- -; fi; }
crlf() { sed 's/$/\r/' "$1" > "$2"; }

# ---- keys: every format, 1024 and 2048 bits (3072/4096 for size coverage) ----
for bits in 1024 2048 3072 4096; do
  k="rsa$bits"
  openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:$bits -out $k.pkcs8.pem 2>/dev/null
  openssl pkey -in $k.pkcs8.pem -pubout -out $k.spki.pem
  [ "$bits" -gt 2048 ] && continue
  openssl pkey -in $k.pkcs8.pem -traditional -out $k.pkcs1.pem
  openssl pkey -in $k.pkcs8.pem -outform DER -out $k.pkcs8.der
  openssl rsa -in $k.pkcs8.pem -traditional -outform DER -out $k.pkcs1.der 2>/dev/null
  openssl pkey -pubin -in $k.spki.pem -outform DER -out $k.spki.der
  openssl rsa -pubin -in $k.spki.pem -RSAPublicKey_out -out $k.pkcs1pub.pem 2>/dev/null
  openssl rsa -pubin -in $k.spki.pem -RSAPublicKey_out -outform DER -out $k.pkcs1pub.der 2>/dev/null
  # bare Base64 bodies, as payment providers hand them out: one line, and 64-col lines
  b64 $k.pkcs8.der > $k.pkcs8.b64
  b64 $k.spki.der > $k.spki.b64
  grep -v -- ----- $k.pkcs1.pem > $k.pkcs1.lines.b64
  crlf $k.pkcs1.pem $k.pkcs1.crlf.pem
  crlf $k.spki.pem $k.spki.crlf.pem
done

# ---- keys we must reject ----
openssl pkcs8 -topk8 -v2 aes-256-cbc -passout pass:secret -in rsa2048.pkcs8.pem -out rsa2048.encrypted.pkcs8.pem
openssl pkcs8 -topk8 -v2 aes-256-cbc -passout pass:secret -in rsa2048.pkcs8.pem -outform DER -out rsa2048.encrypted.pkcs8.der
openssl rsa -in rsa1024.pkcs1.pem -aes128 -traditional -passout pass:secret -out rsa1024.encrypted.pkcs1.pem 2>/dev/null
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:512 -out rsa512.pkcs8.pem 2>/dev/null
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out ec.pkcs8.pem
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:1024 -pkeyopt rsa_keygen_pubexp:3 -out rsa1024.e3.pkcs8.pem 2>/dev/null
openssl pkey -in rsa1024.e3.pkcs8.pem -pubout -out rsa1024.e3.spki.pem

# ---- signatures: RSASSA-PKCS1-v1_5 is deterministic, so tests compare bytes ----
# Format per line: <bits> <hash> <message-base64> <signature-base64>
msg=/tmp/et-vectors-msg.$$
: > signatures.txt
for text in "aeskey=&callback_process=0&data={}&extend_info=&merchant_number=M1&return_info=&sensitive_data=&serial_number=2024120110000012345678M1&server_type=create_order&sub_merchant_number=&version=2.0.0" \
            "" "中文 签名 ✓"; do
  printf '%s' "$text" > $msg
  for bits in 1024 2048; do
    for hash in sha256 sha1; do
      openssl dgst -$hash -sign rsa$bits.pkcs8.pem -out $msg.sig $msg
      echo "$bits $hash $(b64 $msg) $(b64 $msg.sig)" >> signatures.txt
    done
  done
done

# ---- RSA-encrypted AES keys (random padding: tests decrypt them) ----
# Format per line: <bits> <padding> <plaintext> <ciphertext-base64>
: > rsa_encrypted.txt
for bits in 1024 2048; do
  printf 'Ab3dEf7hIj1lMn0p' > $msg
  openssl pkeyutl -encrypt -pubin -inkey rsa$bits.spki.pem -in $msg -out $msg.ct -pkeyopt rsa_padding_mode:pkcs1
  echo "$bits pkcs1v15 $(cat $msg) $(b64 $msg.ct)" >> rsa_encrypted.txt
  for md in sha256:sha256:oaep-sha256 sha1:sha1:oaep-sha1 sha256:sha1:oaep-sha256-mgf1-sha1; do
    oaep=${md%%:*}; rest=${md#*:}; mgf=${rest%%:*}; name=${rest#*:}
    openssl pkeyutl -encrypt -pubin -inkey rsa$bits.spki.pem -in $msg -out $msg.ct \
      -pkeyopt rsa_padding_mode:oaep -pkeyopt rsa_oaep_md:$oaep -pkeyopt rsa_mgf1_md:$mgf
    echo "$bits $name $(cat $msg) $(b64 $msg.ct)" >> rsa_encrypted.txt
  done
done

# ---- AES-128-CBC, PKCS#7, with -K/-iv ----
# Format per line: <key-hex> <iv-hex> <plaintext-base64> <ciphertext-base64>
: > aes_cbc.txt
hex() { printf '%s' "$1" | od -An -tx1 | tr -d ' \n'; }
k1=$(hex 'Ab3dEf7hIj1lMn0p'); k2=$(hex '0123456789abcdef'); iv2=000102030405060708090a0b0c0d0e0f
for pt in "" "[]" "exactly16bytes!!" '{"merchant_order_id":"M-1","name_ch":"张三","tuition":130}' \
          "$(head -c 1000 /dev/zero | tr '\0' 'x')"; do
  printf '%s' "$pt" > $msg
  for pair in "$k1 $k1" "$k2 $iv2"; do
    set -- $pair
    openssl enc -aes-128-cbc -K "$1" -iv "$2" -in $msg -out $msg.ct
    echo "$1 $2 $(b64 $msg) $(b64 $msg.ct)" >> aes_cbc.txt
  done
done

# ---- notification MD5: md5(salt || message), ET's published example first ----
# Format per line: <salt-base64> <message-base64> <md5-hex>
: > md5.txt
for pair in "abc123|extend_info=&order_id=ETxxxxxxxxxxxx01&pay_amount=10000.00&pay_datetime=2024-12-01 10:00:00&pay_result=1" \
            "|datetime=2024-12-01 10:00:00&notify_type=order_status_change&order_id=ET1&order_status=1" \
            "盐|order_id=ET2&remittance_voucher_url=https://example.invalid/v.pdf"; do
  printf '%s' "${pair%%|*}" > $msg.salt
  printf '%s' "${pair#*|}" > $msg
  echo "$(b64 $msg.salt) $(b64 $msg) $(cat $msg.salt $msg | openssl md5 -r | cut -d' ' -f1)" >> md5.txt
done

rm -f $msg $msg.sig $msg.ct $msg.salt
echo "vectors written to $(pwd)"
