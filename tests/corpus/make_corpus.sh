#!/usr/bin/env bash
# Build the certificate and key corpus under tests/corpus/ with openssl and ssh-keygen.
#
# Why: cryptocheck's parsers must agree with the reference tools on real files, and golden
# tests need fixtures that do not change under them. Everything here is made by the real
# tools (openssl 3.0, ssh-keygen); post-quantum certificates, which openssl 3.0 cannot make,
# come from make_pq.py (python `cryptography`), which signs for real or not at all.
#
# Usage: tests/corpus/make_corpus.sh [--force]
#   Without --force the script is idempotent: a key or certificate that already exists is
#   kept (ECDSA/DSA/PSS signatures are randomised, so re-signing would change the committed
#   bytes and every golden sha256); only what is missing is made. The human-readable
#   NAME.txt beside each certificate and README.md are always rewritten (deterministic).
#   --force removes the generated files and makes everything anew.
#
# Dates are pinned (not_before 2025-01-01, not_after 2035-01-01 for the normal files) so
# golden tests evaluated "as of" any date before 2035 stay stable; only the expired,
# not-yet-valid and lifetime fixtures use other dates. Serial numbers are fixed per file.
set -euo pipefail
export LC_ALL=C

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$HERE"
FORCE=0
[[ "${1:-}" == "--force" ]] && FORCE=1

CERTS=certs
KEYS=keys
CAKEYS=certs/keys        # private keys of the certificates (fixtures too: they are keys)
SSH=ssh
if [[ $FORCE == 1 ]]; then
    rm -rf "$CERTS" "$KEYS" "$SSH"
fi
mkdir -p "$CERTS" "$KEYS" "$CAKEYS" "$SSH"

# Passwords of the encrypted fixtures; tests read them from passwords.txt.
PW_PKCS8=corpus-pkcs8-aes256-password
PW_DES3=corpus-legacy-des3-password
PW_OPENSSH=corpus-openssh-password
PW_WEAK=corpus-weak-cipher-password
cat > passwords.txt <<EOF
# Passwords of the encrypted key fixtures, one per line (lines starting with # are comments).
# They are test fixtures, not secrets. The no-key-leak test checks none appears in any output.
# keys/rsa-2048-pkcs8-aes256.pem, keys/ec-p256-pkcs8-aes256.der
$PW_PKCS8
# keys/rsa-2048-legacy-des3.pem, keys/ec-p256-legacy-des3.pem
$PW_DES3
# ssh/id_ed25519_encrypted, ssh/id_ed25519_chacha20
$PW_OPENSSH
# keys protected with broken or withdrawn ciphers (DES, RC2, RC4, two-key TDEA)
$PW_WEAK
EOF

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$WORK/new"
: > "$WORK/index.txt"

cat > "$WORK/ca.cnf" <<EOF
[ ca ]
default_ca = corpus_ca

[ corpus_ca ]
dir = $WORK
database = \$dir/index.txt
new_certs_dir = \$dir/new
serial = \$dir/serial
default_md = sha256
policy = policy_any
unique_subject = no
copy_extensions = none
email_in_dn = no
preserve = yes

[ policy_any ]
countryName = optional
organizationName = optional
organizationalUnitName = optional
commonName = supplied

[ req ]
distinguished_name = req_dn
prompt = no
[ req_dn ]
CN = placeholder

[ v3_root ]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash

[ v3_intermediate ]
basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always

[ v3_leaf ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth, clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
subjectAltName = DNS:\${ENV::SAN}

[ v3_leaf_signonly ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth, clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
subjectAltName = DNS:\${ENV::SAN}

[ v3_selfsigned_leaf ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
subjectAltName = DNS:\${ENV::SAN}
EOF
export SAN=placeholder.corpus.example

NB=20250101000000Z   # normal not_before
NA=20350101000000Z   # normal not_after
DN_PREFIX="/C=GB/O=cryptocheck test corpus"

# ---------------------------------------------------------------- keys of certificates
# genkey NAME ALG [pkeyopt...]: a PKCS#8 PEM private key in certs/keys/NAME.key (kept if present)
genkey() {
    local name=$1 alg=$2; shift 2
    local out="$CAKEYS/$name.key"
    [[ -s "$out" ]] && return 0
    local opts=()
    for o in "$@"; do opts+=(-pkeyopt "$o"); done
    if [[ "$alg" == DSA ]]; then
        # DSA needs domain parameters first.
        openssl genpkey -genparam -algorithm DSA "${opts[@]}" -out "$WORK/$name.param" 2>/dev/null
        openssl genpkey -paramfile "$WORK/$name.param" -out "$out" 2>/dev/null
    else
        openssl genpkey -algorithm "$alg" "${opts[@]}" -out "$out" 2>/dev/null
    fi
}

# ---------------------------------------------------------------- certificates
# issue NAME KEY ISSUER SERIAL EXTS START END [extra openssl-ca args...]
#   ISSUER is "self" for a self-signed certificate, else the NAME of an issuing certificate.
#   The subject CN is NAME.corpus.example; extra args carry -md and -sigopt.
issue() {
    local name=$1 key=$2 issuer=$3 serial=$4 exts=$5 start=$6 end=$7; shift 7
    local out="$CERTS/$name.pem"
    if [[ -s "$out" ]]; then return 0; fi
    local cn="$name.corpus.example"
    export SAN="$cn"
    local subj="$DN_PREFIX/CN=$cn"
    # The CSR only carries the subject and key; the CA's -md decides the certificate signature.
    openssl req -new -config "$WORK/ca.cnf" -key "$CAKEYS/$key.key" -subj "$subj" \
        -out "$WORK/$name.csr" 2>/dev/null
    echo "$serial" > "$WORK/serial"
    local signer=()
    if [[ "$issuer" == self ]]; then
        signer=(-selfsign -keyfile "$CAKEYS/$key.key")
    else
        local ikey
        ikey="$(cat "$CERTS/$issuer.keyname")"
        signer=(-cert "$CERTS/$issuer.pem" -keyfile "$CAKEYS/$ikey.key")
    fi
    openssl ca -config "$WORK/ca.cnf" -batch -notext -preserveDN \
        "${signer[@]}" -in "$WORK/$name.csr" -out "$WORK/$name.pem" \
        -startdate "$start" -enddate "$end" -extensions "$exts" "$@" 2>"$WORK/$name.err" \
        || { cat "$WORK/$name.err" >&2; return 1; }
    # openssl ca prints the PEM only; keep just the PEM block.
    openssl x509 -in "$WORK/$name.pem" -out "$out"
}

# Remember which key signs as a CA certificate (issue() looks it up).
ca_key() { echo "$2" > "$CERTS/$1.keyname"; }

# --- the CA hierarchy: root (RSA 4096) -> intermediate (RSA 3072) -> leaves
genkey root-rsa-4096 RSA rsa_keygen_bits:4096
genkey intermediate-rsa-3072 RSA rsa_keygen_bits:3072
issue root-rsa-4096-sha256 root-rsa-4096 self 1000 v3_root $NB $NA -md sha256
ca_key root-rsa-4096-sha256 root-rsa-4096
issue intermediate-rsa-3072-sha256 intermediate-rsa-3072 root-rsa-4096-sha256 1001 v3_intermediate $NB $NA -md sha256
ca_key intermediate-rsa-3072-sha256 intermediate-rsa-3072
INT=intermediate-rsa-3072-sha256

# --- RSA key sizes (leaves, signed sha256WithRSAEncryption by the intermediate)
serial=2000
for bits in 512 1024 2047 2048 2056 3072 4096; do
    genkey "leaf-rsa-$bits" RSA "rsa_keygen_bits:$bits"
    issue "leaf-rsa-$bits" "leaf-rsa-$bits" $INT $serial v3_leaf $NB $NA -md sha256
    serial=$((serial + 1))
done
# RSA-2050: at least 2048 bits but not divisible by 8 (BR §6.1.5)
genkey leaf-rsa-2050 RSA rsa_keygen_bits:2050
issue leaf-rsa-2050 leaf-rsa-2050 $INT 2007 v3_leaf $NB $NA -md sha256

# --- signature hashes: RSA-2048 leaf key, the intermediate signs with each hash
serial=2100
for md in md5 sha1 sha224 sha256 sha384 sha512 sha3-256; do
    issue "leaf-rsa-2048-sig-$md" leaf-rsa-2048 $INT $serial v3_leaf $NB $NA -md "$md"
    serial=$((serial + 1))
done
# RSA-PSS signatures by an rsaEncryption key (the intermediate), SHA-256 and SHA-384
issue leaf-rsa-2048-sig-rsapss-sha256 leaf-rsa-2048 $INT 2120 v3_leaf $NB $NA -md sha256 \
    -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:digest
issue leaf-rsa-2048-sig-rsapss-sha384 leaf-rsa-2048 $INT 2121 v3_leaf $NB $NA -md sha384 \
    -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:digest

# --- RSA-PSS keys (SPKI algorithm id-RSASSA-PSS), self-signed so they sign with PSS too
genkey rsapss-2048 RSA-PSS rsa_keygen_bits:2048
genkey rsapss-3072-sha384 RSA-PSS rsa_keygen_bits:3072 rsa_pss_keygen_md:sha384 \
    rsa_pss_keygen_mgf1_md:sha384 rsa_pss_keygen_saltlen:48
issue selfsigned-rsapss-2048-sha256 rsapss-2048 self 3000 v3_selfsigned_leaf $NB $NA -md sha256 \
    -sigopt rsa_pss_saltlen:digest
issue selfsigned-rsapss-3072-sha384 rsapss-3072-sha384 self 3001 v3_selfsigned_leaf $NB $NA -md sha384 \
    -sigopt rsa_pss_saltlen:48
# ...and an RSA-PSS key certified by the RSA intermediate (key RSA-PSS, signature sha256WithRSA)
issue leaf-rsapss-2048 rsapss-2048 $INT 3002 v3_leaf_signonly $NB $NA -md sha256

# --- DSA
genkey dsa-1024-160 DSA dsa_paramgen_bits:1024 dsa_paramgen_q_bits:160
genkey dsa-2048-256 DSA dsa_paramgen_bits:2048 dsa_paramgen_q_bits:256
issue selfsigned-dsa-1024-sha1 dsa-1024-160 self 4000 v3_selfsigned_leaf $NB $NA -md sha1
issue selfsigned-dsa-2048-sha256 dsa-2048-256 self 4001 v3_selfsigned_leaf $NB $NA -md sha256
issue leaf-dsa-2048 dsa-2048-256 $INT 4002 v3_leaf_signonly $NB $NA -md sha256
# DSA with a 4096-bit prime: above 2048 and not 3072, so outside the FIPS 186-4 (L,N) set
# (generating the domain parameters takes a few seconds, once: the key file keeps them)
genkey dsa-4096-256 DSA dsa_paramgen_bits:4096 dsa_paramgen_q_bits:256
issue selfsigned-dsa-4096-sha256 dsa-4096-256 self 4003 v3_selfsigned_leaf $NB $NA -md sha256

# --- EC curves: self-signed with the hash that matches the curve, plus one leaf per curve
serial=5000
while read -r curve tag md; do
    genkey "ec-$tag" EC "ec_paramgen_curve:$curve" ec_param_enc:named_curve
    issue "selfsigned-ec-$tag-$md" "ec-$tag" self $serial v3_selfsigned_leaf $NB $NA -md "$md"
    issue "leaf-ec-$tag" "ec-$tag" $INT $((serial + 50)) v3_leaf_signonly $NB $NA -md sha256
    serial=$((serial + 1))
done <<'EOF'
P-192 p192 sha256
P-224 p224 sha224
P-256 p256 sha256
P-384 p384 sha384
P-521 p521 sha512
secp256k1 secp256k1 sha256
brainpoolP256r1 brainpoolp256r1 sha256
brainpoolP384r1 brainpoolp384r1 sha384
brainpoolP512r1 brainpoolp512r1 sha512
EOF
# ECDSA with SHA-1 and SHA3-256
issue selfsigned-ec-p256-sha1 ec-p256 self 5100 v3_selfsigned_leaf $NB $NA -md sha1
issue selfsigned-ec-p256-sha3-256 ec-p256 self 5101 v3_selfsigned_leaf $NB $NA -md sha3-256

# X9.62 prime239v1: 239-bit order, a named curve NIST does not list (SP 800-186)
genkey ec-prime239v1 EC ec_paramgen_curve:prime239v1 ec_param_enc:named_curve
issue leaf-ec-prime239v1 ec-prime239v1 $INT 5300 v3_leaf_signonly $NB $NA -md sha256

# --- SM2 (GM/T 0003, id-ecPublicKey on the SM2 curve) and SM2-with-SM3 signatures: an SM2
# root, self-signed, and an RSA-2048 leaf it issues (so SM2-with-SM3 appears both as a
# self-signature and as an issuer's signature); openssl uses the default SM2 distinguishing ID.
genkey sm2 SM2
issue root-sm2-sm3 sm2 self 5400 v3_root $NB $NA -md sm3
ca_key root-sm2-sm3 sm2
issue leaf-rsa-2048-by-sm2-root leaf-rsa-2048 root-sm2-sm3 5401 v3_leaf $NB $NA -md sm3

# --- an EC hierarchy: root P-384 -> leaf P-256, ecdsa-with-SHA384
issue root-ec-p384-sha384 ec-p384 self 5200 v3_root $NB $NA -md sha384
ca_key root-ec-p384-sha384 ec-p384
issue leaf-ec-p256-by-ec-root ec-p256 root-ec-p384-sha384 5201 v3_leaf_signonly $NB $NA -md sha384

# --- EdDSA
genkey ed25519 ED25519
genkey ed448 ED448
issue selfsigned-ed25519 ed25519 self 6000 v3_selfsigned_leaf $NB $NA
issue selfsigned-ed448 ed448 self 6001 v3_selfsigned_leaf $NB $NA
issue leaf-ed25519 ed25519 $INT 6002 v3_leaf_signonly $NB $NA -md sha256

# --- validity: expired, not yet valid, subscriber lifetimes
issue leaf-expired-2019-2021 leaf-rsa-2048 $INT 7000 v3_leaf 20190101000000Z 20210101000000Z -md sha256
issue leaf-not-yet-valid-2030-2031 leaf-rsa-2048 $INT 7001 v3_leaf 20300101000000Z 20310101000000Z -md sha256
# Lifetimes count both ends (RFC 5280: the period runs from notBefore to notAfter inclusive),
# so a period of N days ends at notBefore + N days - 1 second.
issue leaf-lifetime-200d leaf-rsa-2048 $INT 7002 v3_leaf 20260601000000Z 20261217235959Z -md sha256
issue leaf-lifetime-398d leaf-rsa-2048 $INT 7003 v3_leaf 20260101000000Z 20270202235959Z -md sha256
issue leaf-lifetime-399d leaf-rsa-2048 $INT 7004 v3_leaf 20260101000000Z 20270203235959Z -md sha256
# BR §6.3.2 eras by notBefore: 825 days (2018-03-01 .. 2020-08-31), 200 days (2026-03-15 ..
# 2027-03-14), 100 days (2027-03-15 .. 2029-03-14); one certificate at each limit and one a day
# over it. The 2018 ones have expired and the 2027 ones are not yet valid as of 2026-11-22.
issue leaf-lifetime-825d-2018 leaf-rsa-2048 $INT 7005 v3_leaf 20180601000000Z 20200902235959Z -md sha256
issue leaf-lifetime-900d-2018 leaf-rsa-2048 $INT 7006 v3_leaf 20180601000000Z 20201116235959Z -md sha256
issue leaf-lifetime-201d leaf-rsa-2048 $INT 7007 v3_leaf 20260601000000Z 20261218235959Z -md sha256
issue leaf-lifetime-100d-2027 leaf-rsa-2048 $INT 7008 v3_leaf 20270401000000Z 20270709235959Z -md sha256
issue leaf-lifetime-101d-2027 leaf-rsa-2048 $INT 7009 v3_leaf 20270401000000Z 20270710235959Z -md sha256

# --- self-signed roots signed with SHA-1 (and MD5, as old roots were)
genkey root-rsa-2048 RSA rsa_keygen_bits:2048
issue root-rsa-2048-sha1 root-rsa-2048 self 8000 v3_root $NB $NA -md sha1
issue root-rsa-2048-md5 root-rsa-2048 self 8001 v3_root $NB $NA -md md5

# --- a bundle: the chain of leaf-rsa-2048 in one file (leaf, intermediate, root)
if [[ ! -s "$CERTS/chain-leaf-rsa-2048.pem" || $FORCE == 1 ]]; then
    cat "$CERTS/leaf-rsa-2048.pem" "$CERTS/$INT.pem" "$CERTS/root-rsa-4096-sha256.pem" \
        > "$CERTS/chain-leaf-rsa-2048.pem"
fi
# --- DER form of one certificate
[[ -s "$CERTS/leaf-rsa-2048.der" ]] || openssl x509 -in "$CERTS/leaf-rsa-2048.pem" -outform DER -out "$CERTS/leaf-rsa-2048.der"

# ---------------------------------------------------------------- post-quantum (python)
python3 "$HERE/make_pq.py" "$CERTS"
# ML-KEM keys and an ECDSA-with-SHAKE128 certificate (python `cryptography`)
python3 "$HERE/make_pyca.py" "$HERE"

# ---------------------------------------------------------------- key files
mk() { [[ -s "$1" ]]; }   # true when the file already exists (then it is kept)
K=$KEYS
R=$CAKEYS/leaf-rsa-2048.key
E=$CAKEYS/ec-p256.key
mk $K/rsa-2048-pkcs1.pem || openssl pkey -in $R -traditional -out $K/rsa-2048-pkcs1.pem
mk $K/rsa-2048-pkcs1.der || openssl rsa -in $R -traditional -outform DER -out $K/rsa-2048-pkcs1.der 2>/dev/null
mk $K/rsa-2048-pkcs8.pem || openssl pkey -in $R -out $K/rsa-2048-pkcs8.pem
mk $K/rsa-2048-pkcs8.der || openssl pkey -in $R -outform DER -out $K/rsa-2048-pkcs8.der
mk $K/rsa-2048-pkcs8-aes256.pem || openssl pkcs8 -topk8 -in $R -v2 aes-256-cbc -v2prf hmacWithSHA256 \
    -passout "pass:$PW_PKCS8" -out $K/rsa-2048-pkcs8-aes256.pem
mk $K/rsa-2048-legacy-des3.pem || openssl rsa -in $R -traditional -des3 -passout "pass:$PW_DES3" \
    -out $K/rsa-2048-legacy-des3.pem 2>/dev/null
mk $K/ec-p256-sec1.pem || openssl ec -in $E -out $K/ec-p256-sec1.pem 2>/dev/null
mk $K/ec-p256-sec1.der || openssl ec -in $E -outform DER -out $K/ec-p256-sec1.der 2>/dev/null
mk $K/ec-p256-pkcs8.pem || openssl pkey -in $E -out $K/ec-p256-pkcs8.pem
mk $K/ec-p256-pkcs8-aes256.der || openssl pkcs8 -topk8 -in $E -v2 aes-256-cbc -v2prf hmacWithSHA256 \
    -passout "pass:$PW_PKCS8" -outform DER -out $K/ec-p256-pkcs8-aes256.der
mk $K/ec-p256-legacy-des3.pem || openssl ec -in $E -des3 -passout "pass:$PW_DES3" \
    -out $K/ec-p256-legacy-des3.pem 2>/dev/null
mk $K/ec-secp256k1-sec1.pem || openssl ec -in $CAKEYS/ec-secp256k1.key -out $K/ec-secp256k1-sec1.pem 2>/dev/null
mk $K/dsa-2048-traditional.pem || openssl pkey -in $CAKEYS/dsa-2048-256.key -traditional -out $K/dsa-2048-traditional.pem
mk $K/ed25519-pkcs8.pem || openssl pkey -in $CAKEYS/ed25519.key -out $K/ed25519-pkcs8.pem
mk $K/ed448-pkcs8.pem || openssl pkey -in $CAKEYS/ed448.key -out $K/ed448-pkcs8.pem
mk $K/rsapss-2048-pkcs8.pem || openssl pkey -in $CAKEYS/rsapss-2048.key -out $K/rsapss-2048-pkcs8.pem
mk $K/rsa-1024-pkcs8.pem || openssl pkey -in $CAKEYS/leaf-rsa-1024.key -out $K/rsa-1024-pkcs8.pem
# key-agreement keys: X25519/X448 (RFC 8410), finite-field DH on the RFC 7919 groups ffdhe2048
# and ffdhe3072 (PKCS#3 dhKeyAgreement) and on the RFC 5114 1024-bit group with a 160-bit
# subgroup (X9.42 dhpublicnumber); named groups, so no parameters to generate or keep
mk $K/x25519-pkcs8.pem || openssl genpkey -algorithm X25519 -out $K/x25519-pkcs8.pem
mk $K/x448-pkcs8.pem || openssl genpkey -algorithm X448 -out $K/x448-pkcs8.pem
mk $K/dh-ffdhe2048-pkcs8.pem || openssl genpkey -algorithm DH -pkeyopt group:ffdhe2048 -out $K/dh-ffdhe2048-pkcs8.pem
mk $K/dh-ffdhe3072-pkcs8.pem || openssl genpkey -algorithm DH -pkeyopt group:ffdhe3072 -out $K/dh-ffdhe3072-pkcs8.pem
mk $K/dhx-1024-160-pkcs8.pem || openssl genpkey -algorithm DHX -pkeyopt group:dh_1024_160 -out $K/dhx-1024-160-pkcs8.pem
# private keys protected with broken or withdrawn ciphers (openssl 3.0 keeps them in the
# legacy provider): PBES1 / PKCS#12 PBE schemes, PBES2 with RC2-CBC, and legacy PEM DES-CBC
LEGACY=(-provider legacy -provider default)
mk $K/ec-p256-pkcs8-pbe-md5-des.pem || openssl pkcs8 "${LEGACY[@]}" -topk8 -in $E -v1 PBE-MD5-DES \
    -passout "pass:$PW_WEAK" -out $K/ec-p256-pkcs8-pbe-md5-des.pem
mk $K/ec-p256-pkcs8-pbe-sha1-rc2-40.pem || openssl pkcs8 "${LEGACY[@]}" -topk8 -in $E -v1 PBE-SHA1-RC2-40 \
    -passout "pass:$PW_WEAK" -out $K/ec-p256-pkcs8-pbe-sha1-rc2-40.pem
mk $K/ec-p256-pkcs8-pbes2-rc2.pem || openssl pkcs8 "${LEGACY[@]}" -topk8 -in $E -v2 rc2-cbc \
    -passout "pass:$PW_WEAK" -out $K/ec-p256-pkcs8-pbes2-rc2.pem
mk $K/ec-p256-pkcs8-pbe-sha1-rc4-128.pem || openssl pkcs8 "${LEGACY[@]}" -topk8 -in $E -v1 PBE-SHA1-RC4-128 \
    -passout "pass:$PW_WEAK" -out $K/ec-p256-pkcs8-pbe-sha1-rc4-128.pem
mk $K/ec-p256-pkcs8-pbe-sha1-2des.pem || openssl pkcs8 "${LEGACY[@]}" -topk8 -in $E -v1 PBE-SHA1-2DES \
    -passout "pass:$PW_WEAK" -out $K/ec-p256-pkcs8-pbe-sha1-2des.pem
mk $K/rsa-2048-legacy-des.pem || openssl rsa "${LEGACY[@]}" -in $R -traditional -des \
    -passout "pass:$PW_WEAK" -out $K/rsa-2048-legacy-des.pem 2>/dev/null
# public keys
mk $K/rsa-2048-spki.pem || openssl pkey -in $R -pubout -out $K/rsa-2048-spki.pem
mk $K/rsa-2048-spki.der || openssl pkey -in $R -pubout -outform DER -out $K/rsa-2048-spki.der
mk $K/rsa-2048-pkcs1-public.pem || openssl rsa -in $R -RSAPublicKey_out -out $K/rsa-2048-pkcs1-public.pem 2>/dev/null
mk $K/rsapss-2048-spki.pem || openssl pkey -in $CAKEYS/rsapss-2048.key -pubout -out $K/rsapss-2048-spki.pem
mk $K/ec-p256-spki.pem || openssl pkey -in $E -pubout -out $K/ec-p256-spki.pem
mk $K/ec-p384-spki.pem || openssl pkey -in $CAKEYS/ec-p384.key -pubout -out $K/ec-p384-spki.pem
mk $K/ed25519-spki.pem || openssl pkey -in $CAKEYS/ed25519.key -pubout -out $K/ed25519-spki.pem
mk $K/dsa-1024-spki.pem || openssl pkey -in $CAKEYS/dsa-1024-160.key -pubout -out $K/dsa-1024-spki.pem
for tag in x25519 x448 dh-ffdhe2048 dh-ffdhe3072 dhx-1024-160; do
    mk $K/$tag-spki.pem || openssl pkey -in $K/$tag-pkcs8.pem -pubout -out $K/$tag-spki.pem
done

# ---------------------------------------------------------------- OpenSSH keys
S=$SSH
mk $S/id_ed25519 || ssh-keygen -q -t ed25519 -N '' -C 'ed25519@corpus.example' -f $S/id_ed25519
mk $S/id_rsa || ssh-keygen -q -t rsa -b 3072 -N '' -C 'rsa3072@corpus.example' -f $S/id_rsa
mk $S/id_ecdsa || ssh-keygen -q -t ecdsa -b 256 -N '' -C 'ecdsa256@corpus.example' -f $S/id_ecdsa
mk $S/id_ecdsa384 || ssh-keygen -q -t ecdsa -b 384 -N '' -C 'ecdsa384@corpus.example' -f $S/id_ecdsa384
mk $S/id_rsa1024 || ssh-keygen -q -t rsa -b 1024 -N '' -C 'rsa1024@corpus.example' -f $S/id_rsa1024
mk $S/id_ed25519_encrypted || ssh-keygen -q -t ed25519 -N "$PW_OPENSSH" -a 16 \
    -C 'ed25519-encrypted@corpus.example' -f $S/id_ed25519_encrypted
mk $S/id_ed25519_chacha20 || ssh-keygen -q -t ed25519 -N "$PW_OPENSSH" -a 16 -Z chacha20-poly1305@openssh.com \
    -C 'ed25519-chacha20@corpus.example' -f $S/id_ed25519_chacha20
# authorized_keys: plain lines, lines with options, a comment and a blank line
if ! mk $S/authorized_keys; then
    {
        echo "# authorized_keys fixture: 4 keys"
        cat $S/id_ed25519.pub
        printf 'from="192.0.2.0/24",no-pty %s\n' "$(cat $S/id_rsa.pub)"
        echo
        printf 'command="/usr/bin/true",restrict %s\n' "$(cat $S/id_ecdsa.pub)"
        cat $S/id_rsa1024.pub
    } > $S/authorized_keys
fi
# known_hosts: plain, bracketed port, a marker line and one hashed host name
if ! mk $S/known_hosts; then
    {
        printf 'server1.corpus.example,192.0.2.10 %s\n' "$(cut -d' ' -f1-2 $S/id_ed25519.pub)"
        printf '[server2.corpus.example]:2222 %s\n' "$(cut -d' ' -f1-2 $S/id_ecdsa.pub)"
        printf '@cert-authority *.corpus.example %s\n' "$(cut -d' ' -f1-2 $S/id_ecdsa384.pub)"
        printf 'server3.corpus.example %s\n' "$(cut -d' ' -f1-2 $S/id_rsa.pub)"
    } > $S/known_hosts
    # hash the last host name in place (ssh-keygen -H hashes every unhashed name; keep a
    # copy of the clear lines and append only the hashed version of server3)
    cp $S/known_hosts "$WORK/kh"
    ssh-keygen -q -H -f "$WORK/kh" >/dev/null 2>&1
    head -n 3 $S/known_hosts > "$WORK/kh2"
    tail -n 1 "$WORK/kh" >> "$WORK/kh2"
    mv "$WORK/kh2" $S/known_hosts
fi

# ---------------------------------------------------------------- human-readable forms
rm -f "$CERTS"/*.keyname
for pem in "$CERTS"/*.pem; do
    base="${pem%.pem}"
    # bundles: one text block per certificate
    if [[ "$(grep -c 'BEGIN CERTIFICATE' "$pem")" -gt 1 ]]; then
        openssl crl2pkcs7 -nocrl -certfile "$pem" | openssl pkcs7 -print_certs -text -noout > "$base.txt"
    else
        # openssl 3.0 cannot decode ML-DSA/SLH-DSA keys: it prints the OID and complains on
        # stdout/stderr with a thread address that changes on every run: those lines are left out.
        { openssl x509 -in "$pem" -text -noout 2>/dev/null || true; } \
            | grep -Ev '^[0-9A-F]+:error:' > "$base.txt"
    fi
done

python3 "$HERE/make_readme.py"
echo "corpus ready: $(ls "$CERTS"/*.pem | wc -l) PEM certificate files, $(ls $K | wc -l) key files, $(ls $S | wc -l) ssh files"
