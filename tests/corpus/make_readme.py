"""Write tests/corpus/README.md: a table of every corpus file and what it is.

The certificate rows are read from the ``NAME.txt`` (``openssl x509 -text -noout``) beside each
certificate, so the table says what openssl sees, not what we meant; key and SSH rows come from
the descriptions below, and a file without a description stops the script (the table must stay
complete). Run by make_corpus.sh.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

KEY_FILES = {
    "keys/rsa-2048-pkcs1.pem": "RSA 2048 private key, PKCS#1 PEM (`BEGIN RSA PRIVATE KEY`); key of leaf-rsa-2048",
    "keys/rsa-2048-pkcs1.der": "RSA 2048 private key, PKCS#1 DER",
    "keys/rsa-2048-pkcs8.pem": "RSA 2048 private key, PKCS#8 PEM (`BEGIN PRIVATE KEY`)",
    "keys/rsa-2048-pkcs8.der": "RSA 2048 private key, PKCS#8 DER",
    "keys/rsa-2048-pkcs8-aes256.pem": "RSA 2048 private key, encrypted PKCS#8 PEM: PBES2, PBKDF2-HMAC-SHA256, AES-256-CBC (password: line 1 of passwords.txt)",
    "keys/rsa-2048-legacy-des3.pem": "RSA 2048 private key, legacy OpenSSL PEM encryption (`Proc-Type: 4,ENCRYPTED`, `DEK-Info: DES-EDE3-CBC`)",
    "keys/rsa-2048-spki.pem": "RSA 2048 public key, SubjectPublicKeyInfo PEM (`BEGIN PUBLIC KEY`)",
    "keys/rsa-2048-spki.der": "RSA 2048 public key, SubjectPublicKeyInfo DER",
    "keys/rsa-2048-pkcs1-public.pem": "RSA 2048 public key, PKCS#1 PEM (`BEGIN RSA PUBLIC KEY`)",
    "keys/rsa-1024-pkcs8.pem": "RSA 1024 private key, PKCS#8 PEM; key of leaf-rsa-1024",
    "keys/rsapss-2048-pkcs8.pem": "RSA-PSS (id-RSASSA-PSS, no parameters) 2048 private key, PKCS#8 PEM",
    "keys/rsapss-2048-spki.pem": "RSA-PSS (id-RSASSA-PSS) 2048 public key, SubjectPublicKeyInfo PEM",
    "keys/ec-p256-sec1.pem": "EC secp256r1 private key, SEC1 PEM (`BEGIN EC PRIVATE KEY`); key of leaf-ec-p256",
    "keys/ec-p256-sec1.der": "EC secp256r1 private key, SEC1 DER",
    "keys/ec-p256-pkcs8.pem": "EC secp256r1 private key, PKCS#8 PEM",
    "keys/ec-p256-pkcs8-aes256.der": "EC secp256r1 private key, encrypted PKCS#8 DER: PBES2, PBKDF2-HMAC-SHA256, AES-256-CBC (password: line 1 of passwords.txt)",
    "keys/ec-p256-legacy-des3.pem": "EC secp256r1 private key, legacy OpenSSL PEM encryption, DES-EDE3-CBC",
    "keys/ec-p256-spki.pem": "EC secp256r1 public key, SubjectPublicKeyInfo PEM",
    "keys/ec-p384-spki.pem": "EC secp384r1 public key, SubjectPublicKeyInfo PEM",
    "keys/ec-secp256k1-sec1.pem": "EC secp256k1 private key, SEC1 PEM",
    "keys/dsa-2048-traditional.pem": "DSA 2048/256 private key, traditional PEM (`BEGIN DSA PRIVATE KEY`)",
    "keys/dsa-1024-spki.pem": "DSA 1024/160 public key, SubjectPublicKeyInfo PEM",
    "keys/ed25519-pkcs8.pem": "Ed25519 private key, PKCS#8 PEM",
    "keys/ed25519-spki.pem": "Ed25519 public key, SubjectPublicKeyInfo PEM",
    "keys/ed448-pkcs8.pem": "Ed448 private key, PKCS#8 PEM",
    "keys/x25519-pkcs8.pem": "X25519 private key, PKCS#8 PEM (RFC 8410)",
    "keys/x25519-spki.pem": "X25519 public key, SubjectPublicKeyInfo PEM",
    "keys/x448-pkcs8.pem": "X448 private key, PKCS#8 PEM (RFC 8410)",
    "keys/x448-spki.pem": "X448 public key, SubjectPublicKeyInfo PEM",
    "keys/dh-ffdhe2048-pkcs8.pem": "finite-field DH private key, RFC 7919 group ffdhe2048 (2048-bit p), PKCS#8 PEM, PKCS#3 dhKeyAgreement",
    "keys/dh-ffdhe2048-spki.pem": "finite-field DH public key, ffdhe2048, SubjectPublicKeyInfo PEM",
    "keys/dh-ffdhe3072-pkcs8.pem": "finite-field DH private key, RFC 7919 group ffdhe3072 (3072-bit p), PKCS#8 PEM, PKCS#3 dhKeyAgreement",
    "keys/dh-ffdhe3072-spki.pem": "finite-field DH public key, ffdhe3072, SubjectPublicKeyInfo PEM",
    "keys/dhx-1024-160-pkcs8.pem": "finite-field DH private key, RFC 5114 §2.1 group (1024-bit p, 160-bit q), PKCS#8 PEM, X9.42 dhpublicnumber",
    "keys/dhx-1024-160-spki.pem": "finite-field DH public key, RFC 5114 1024/160 group, SubjectPublicKeyInfo PEM",
    "keys/ml-kem-768-pkcs8.pem": "ML-KEM-768 private key (FIPS 203), PKCS#8 PEM, seed form (python `cryptography`; openssl 3.0 cannot read it)",
    "keys/ml-kem-768-spki.pem": "ML-KEM-768 public key, SubjectPublicKeyInfo PEM",
    "keys/ml-kem-1024-pkcs8.pem": "ML-KEM-1024 private key (FIPS 203), PKCS#8 PEM, seed form (python `cryptography`; openssl 3.0 cannot read it)",
    "keys/ml-kem-1024-spki.pem": "ML-KEM-1024 public key, SubjectPublicKeyInfo PEM",
    "keys/ec-p256-pkcs8-pbe-md5-des.pem": "EC secp256r1 private key, encrypted PKCS#8 PEM: PBES1 pbeWithMD5AndDES-CBC (password: line 4 of passwords.txt)",
    "keys/ec-p256-pkcs8-pbe-sha1-rc2-40.pem": "EC secp256r1 private key, encrypted PKCS#8 PEM: PKCS#12 pbeWithSHAAnd40BitRC2-CBC (password: line 4)",
    "keys/ec-p256-pkcs8-pbes2-rc2.pem": "EC secp256r1 private key, encrypted PKCS#8 PEM: PBES2, PBKDF2-HMAC-SHA256, RC2-CBC (password: line 4)",
    "keys/ec-p256-pkcs8-pbe-sha1-rc4-128.pem": "EC secp256r1 private key, encrypted PKCS#8 PEM: PKCS#12 pbeWithSHAAnd128BitRC4 (password: line 4)",
    "keys/ec-p256-pkcs8-pbe-sha1-2des.pem": "EC secp256r1 private key, encrypted PKCS#8 PEM: PKCS#12 pbeWithSHAAnd2-KeyTripleDES-CBC, two-key TDEA (password: line 4)",
    "keys/rsa-2048-legacy-des.pem": "RSA 2048 private key, legacy OpenSSL PEM encryption, `DEK-Info: DES-CBC` (password: line 4)",
    "ssh/id_ed25519_chacha20": "OpenSSH private key, ssh-ed25519, encrypted: chacha20-poly1305@openssh.com, bcrypt KDF 16 rounds (password: line 3 of passwords.txt)",
    "ssh/id_ed25519_chacha20.pub": "OpenSSH public key of id_ed25519_chacha20",
    "ssh/id_ed25519": "OpenSSH private key, ssh-ed25519, unencrypted (`BEGIN OPENSSH PRIVATE KEY`, cipher none)",
    "ssh/id_ed25519.pub": "OpenSSH public key, ssh-ed25519",
    "ssh/id_ed25519_encrypted": "OpenSSH private key, ssh-ed25519, encrypted: aes256-ctr, bcrypt KDF 16 rounds (password: line 3 of passwords.txt)",
    "ssh/id_ed25519_encrypted.pub": "OpenSSH public key of id_ed25519_encrypted",
    "ssh/id_rsa": "OpenSSH private key, ssh-rsa 3072, unencrypted",
    "ssh/id_rsa.pub": "OpenSSH public key, ssh-rsa 3072",
    "ssh/id_rsa1024": "OpenSSH private key, ssh-rsa 1024, unencrypted (too small for any current policy)",
    "ssh/id_rsa1024.pub": "OpenSSH public key, ssh-rsa 1024",
    "ssh/id_ecdsa": "OpenSSH private key, ecdsa-sha2-nistp256, unencrypted",
    "ssh/id_ecdsa.pub": "OpenSSH public key, ecdsa-sha2-nistp256",
    "ssh/id_ecdsa384": "OpenSSH private key, ecdsa-sha2-nistp384, unencrypted",
    "ssh/id_ecdsa384.pub": "OpenSSH public key, ecdsa-sha2-nistp384",
    "ssh/authorized_keys": "4 keys: ed25519; rsa 3072 with `from=...,no-pty`; ecdsa-p256 with `command=...,restrict`; rsa 1024; plus a comment and a blank line",
    "ssh/known_hosts": "4 host keys: ed25519 (host,ip), ecdsa-p256 (`[host]:2222`), ecdsa-p384 (`@cert-authority`), rsa 3072 (hashed host name `|1|...`)",
    "passwords.txt": "passwords of the encrypted fixtures, one per line; the tests read it",
}


def _field(pattern: str, text: str) -> str | None:
    match = re.search(pattern, text, re.MULTILINE)
    return match.group(1).strip() if match else None


def describe_certificate(txt: str) -> dict[str, str]:
    """Key, signature, validity and role of one certificate, from openssl's text."""
    key_alg = _field(r"Public Key Algorithm: (\S+)", txt) or "?"
    bits = _field(r"Public-Key: \((\d+) bit\)", txt)
    curve = _field(r"ASN1 OID: (\S+)", txt)
    key = key_alg + (f" {bits}" if bits and not curve else "") + (f" {curve}" if curve else "")
    sig = _field(r"^    Signature Algorithm: (\S+)", txt) or "?"
    pss_hash = _field(r"Signature Algorithm: rsassaPss\s*\n\s*Hash Algorithm: (\S+)", txt)
    if pss_hash:
        sig += f" ({pss_hash})"
    nb = _field(r"Not Before: (.+)", txt) or "?"
    na = _field(r"Not After : (.+)", txt) or "?"
    ca = "CA" if re.search(r"CA:TRUE", txt) else "end-entity"
    issuer = _field(r"Issuer: .*CN = (\S+)", txt) or "?"
    subject = _field(r"Subject: .*CN = (\S+)", txt) or "?"
    role = ca + (", self-signed" if issuer == subject else f", issued by {issuer.split('.')[0]}")
    return {"key": key, "sig": sig, "validity": f"{_date(nb)} → {_date(na)}", "role": role}


def _date(openssl_date: str) -> str:
    from datetime import datetime
    try:
        return datetime.strptime(openssl_date, "%b %d %H:%M:%S %Y GMT").strftime("%Y-%m-%d %H:%M:%S")
    except ValueError:
        return openssl_date


def main() -> int:
    lines = [
        "# Test corpus",
        "",
        "Real certificates and keys made by `make_corpus.sh` with openssl 3.0 and ssh-keygen, and",
        "by `make_pq.py` (python `cryptography` for ML-DSA, the `slh-dsa` package for SLH-DSA) and",
        "`make_pyca.py` (python `cryptography` for ML-KEM keys and an ECDSA-with-SHAKE128",
        "certificate) for what openssl 3.0 cannot make. Every signature is genuine. This file is generated by",
        "`make_readme.py`; do not edit it by hand.",
        "",
        "- Re-running `make_corpus.sh` keeps every existing file (idempotent); `--force` remakes all.",
        "  Keys are random, so a forced run changes fingerprints: golden tests must then be updated.",
        "- Dates are pinned: normal certificates run 2025-01-01 → 2035-01-01, so results as of any",
        "  date in between (the golden tests use 2026-11-22) do not change.",
        "- `NAME.txt` beside each certificate is `openssl x509 -text -noout` (openssl 3.0 shows",
        "  ML-DSA/SLH-DSA and ECDSA-with-SHAKE128 only by OID). `certs/keys/` holds the private keys",
        "  of the certificates.",
        "- Passwords of encrypted keys are in `passwords.txt` (fixtures, not secrets).",
        "- Not covered: composite/hybrid (ML-DSA + classical) certificates, and ML-DSA/SLH-DSA",
        "  certificates issued by a CA (the PQ ones are self-signed). SLH-DSA signatures are checked",
        "  only by the package that made them: no second SLH-DSA implementation is available here.",
        "",
        "## Certificates (`certs/`)",
        "",
        "| file | public key (openssl) | signature (openssl) | validity (UTC) | role |",
        "| --- | --- | --- | --- | --- |",
    ]
    for pem in sorted((HERE / "certs").glob("*.pem")):
        txt_path = pem.with_suffix(".txt")
        txt = txt_path.read_text()
        if txt.count("Certificate:") > 1:
            count = txt.count("Certificate:")
            lines.append(f"| `certs/{pem.name}` | bundle of {count} certificates: leaf-rsa-2048, "
                         "intermediate, root (leaf first) | | | chain |")
            continue
        d = describe_certificate(txt)
        lines.append(f"| `certs/{pem.name}` | {d['key']} | {d['sig']} | {d['validity']} | {d['role']} |")
    for der in sorted((HERE / "certs").glob("*.der")):
        lines.append(f"| `certs/{der.name}` | DER form of `{der.stem}.pem` | | | |")
    lines += ["", "## Certificate keys (`certs/keys/`)", "",
              ("PKCS#8 PEM private keys of the certificates above, named after the key "
               "(`leaf-rsa-2048.key` is the key of every `leaf-rsa-2048*` certificate)."), ""]
    lines += ["", "## Keys and SSH files", "", "| file | what it is |", "| --- | --- |"]
    missing = []
    actual = sorted(
        str(p.relative_to(HERE)) for sub in ("keys", "ssh") for p in (HERE / sub).iterdir()
    ) + ["passwords.txt"]
    for rel in actual:
        if rel not in KEY_FILES:
            missing.append(rel)
            continue
        lines.append(f"| `{rel}` | {KEY_FILES[rel]} |")
    if missing:
        print(f"make_readme: no description for {missing}", file=sys.stderr)
        return 1
    (HERE / "README.md").write_text("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
