"""Make the post-quantum certificates of the corpus, which openssl 3.0 cannot make.

Why: cryptocheck must recognise ML-DSA (FIPS 204) and SLH-DSA (FIPS 205) certificates, and
the fixtures must be real — genuinely signed, never a placeholder signature.

- ML-DSA-44/65/87: keys and signatures from ``cryptography`` (>= 48,
  ``hazmat.primitives.asymmetric.mldsa``). Its x509 builder does not accept ML-DSA keys yet,
  so the TBSCertificate is assembled here in DER (RFC 5280 layout, RFC 9881 algorithm
  identifiers: OID only, parameters absent) and signed with ML-DSA "pure" mode, empty context.
  Each signature is verified with ``cryptography`` before the file is written.
- SLH-DSA-SHA2-128s and SLH-DSA-SHAKE-128f: the ``slh-dsa`` PyPI package (pure Python FIPS 205,
  ``sign_pure``, empty context; RFC 9909 identifiers). Verified with the same package. When the
  package is not installed these are skipped with a note (never faked).

Usage: python3 make_pq.py CERTS_DIR   (keeps existing files; make_corpus.sh --force removes them)
"""

from __future__ import annotations

import hashlib
import sys
from datetime import UTC, datetime
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import mldsa
from cryptography.x509.oid import NameOID

NOT_BEFORE = datetime(2025, 1, 1, tzinfo=UTC)
NOT_AFTER = datetime(2035, 1, 1, tzinfo=UTC)


# ------------------------------------------------------------------ minimal DER encoder
def _len(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    body = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(body)]) + body


def tlv(tag: int, body: bytes) -> bytes:
    return bytes([tag]) + _len(len(body)) + body


def seq(*parts: bytes) -> bytes:
    return tlv(0x30, b"".join(parts))


def integer(value: int) -> bytes:
    body = value.to_bytes(value.bit_length() // 8 + 1, "big", signed=True)
    return tlv(0x02, body)


def oid(dotted: str) -> bytes:
    arcs = [int(a) for a in dotted.split(".")]
    out = bytearray([40 * arcs[0] + arcs[1]])
    for arc in arcs[2:]:
        chunk = [arc & 0x7F]
        arc >>= 7
        while arc:
            chunk.append(0x80 | (arc & 0x7F))
            arc >>= 7
        out.extend(reversed(chunk))
    return tlv(0x06, bytes(out))


def bit_string(data: bytes) -> bytes:
    return tlv(0x03, b"\x00" + data)


def utc_time(when: datetime) -> bytes:
    return tlv(0x17, when.strftime("%y%m%d%H%M%SZ").encode())


def explicit(n: int, body: bytes) -> bytes:
    return tlv(0xA0 + n, body)


def octet_string(data: bytes) -> bytes:
    return tlv(0x04, data)


def extension(ext_oid: str, critical: bool, value_der: bytes) -> bytes:
    parts = [oid(ext_oid)]
    if critical:
        parts.append(tlv(0x01, b"\xff"))
    parts.append(octet_string(value_der))
    return seq(*parts)


# ------------------------------------------------------------------ certificate assembly
def _name(cn: str) -> bytes:
    return x509.Name([
        x509.NameAttribute(NameOID.COUNTRY_NAME, "GB"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "cryptocheck test corpus"),
        x509.NameAttribute(NameOID.COMMON_NAME, cn),
    ]).public_bytes()


def self_signed(name: str, serial: int, sig_oid: str, spki_der: bytes, raw_public: bytes,
                sign) -> tuple[bytes, bytes, bytes]:  # type: ignore[no-untyped-def]
    """(certificate DER, TBS DER, signature) of a self-signed end-entity certificate over
    ``spki_der``, signed by ``sign``."""
    cn = f"{name}.corpus.example"
    subject = _name(cn)
    alg = seq(oid(sig_oid))  # RFC 9881 / RFC 9909: parameters absent
    ski = hashlib.sha1(raw_public).digest()  # RFC 5280 4.2.1.2 method (1)
    extensions = seq(
        extension("2.5.29.19", True, x509.BasicConstraints(ca=False, path_length=None).public_bytes()),
        extension("2.5.29.15", True, x509.KeyUsage(
            digital_signature=True, content_commitment=False, key_encipherment=False,
            data_encipherment=False, key_agreement=False, key_cert_sign=False, crl_sign=False,
            encipher_only=False, decipher_only=False).public_bytes()),
        extension("2.5.29.14", False, octet_string(ski)),
        extension("2.5.29.17", False, x509.SubjectAlternativeName([x509.DNSName(cn)]).public_bytes()),
    )
    tbs = seq(
        explicit(0, integer(2)),
        integer(serial),
        alg,
        subject,
        seq(utc_time(NOT_BEFORE), utc_time(NOT_AFTER)),
        subject,
        spki_der,
        explicit(3, extensions),
    )
    signature = sign(tbs)
    return seq(tbs, alg, bit_string(signature)), tbs, signature


def _pem_wrap(der: bytes) -> bytes:
    # cryptography cannot load an SLH-DSA certificate to write it; the stdlib can wrap DER.
    import ssl
    return ssl.DER_cert_to_PEM_cert(der).encode("ascii")


# ------------------------------------------------------------------ ML-DSA
MLDSA = {
    "ml-dsa-44": (mldsa.MLDSA44PrivateKey, "2.16.840.1.101.3.4.3.17", 9000),
    "ml-dsa-65": (mldsa.MLDSA65PrivateKey, "2.16.840.1.101.3.4.3.18", 9001),
    "ml-dsa-87": (mldsa.MLDSA87PrivateKey, "2.16.840.1.101.3.4.3.19", 9002),
}


def make_mldsa(certs: Path) -> None:
    for tag, (cls, sig_oid, serial) in MLDSA.items():
        out = certs / f"selfsigned-{tag}.pem"
        key_file = certs / "keys" / f"{tag}.key"
        if out.exists() and out.stat().st_size:
            continue
        if key_file.exists():
            key = serialization.load_pem_private_key(key_file.read_bytes(), None)
        else:
            key = cls.generate()
            key_file.write_bytes(key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption()))
        public = key.public_key()
        spki = public.public_bytes(serialization.Encoding.DER,
                                   serialization.PublicFormat.SubjectPublicKeyInfo)
        raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        der, _, _ = self_signed(f"selfsigned-{tag}", serial, sig_oid, spki, raw, key.sign)
        cert = x509.load_der_x509_certificate(der)
        public.verify(cert.signature, cert.tbs_certificate_bytes)  # raises if not genuine
        out.write_bytes(cert.public_bytes(serialization.Encoding.PEM))


# ------------------------------------------------------------------ SLH-DSA
def make_slhdsa(certs: Path) -> None:
    try:
        import slhdsa  # the `slh-dsa` PyPI package
    except ImportError:
        print("make_pq: slh-dsa package not installed: SLH-DSA certificates not made "
              "(pip install slh-dsa)", file=sys.stderr)
        return
    params = {
        "slh-dsa-sha2-128s": (slhdsa.sha2_128s, "2.16.840.1.101.3.4.3.20", 9100),
        "slh-dsa-shake-128f": (slhdsa.shake_128f, "2.16.840.1.101.3.4.3.27", 9101),
    }
    for tag, (par, sig_oid, serial) in params.items():
        out = certs / f"selfsigned-{tag}.pem"
        key_file = certs / "keys" / f"{tag}.key"
        if out.exists() and out.stat().st_size:
            continue
        if key_file.exists():
            secret = slhdsa.SecretKey.from_pkcs(str(key_file))
        else:
            secret = slhdsa.KeyPair.gen(par).sec
            secret.to_pkcs(str(key_file))
        public = secret.pubkey
        raw = public.digest()
        spki = seq(seq(oid(sig_oid)), bit_string(raw))
        der, tbs, signature = self_signed(f"selfsigned-{tag}", serial, sig_oid, spki, raw,
                                          secret.sign_pure)
        if not public.verify_pure(tbs, signature):
            raise SystemExit(f"make_pq: SLH-DSA signature of {tag} does not verify")
        out.write_bytes(_pem_wrap(der))


def main() -> None:
    certs = Path(sys.argv[1] if len(sys.argv) > 1 else "certs")
    (certs / "keys").mkdir(parents=True, exist_ok=True)
    make_mldsa(certs)
    make_slhdsa(certs)


if __name__ == "__main__":
    main()
