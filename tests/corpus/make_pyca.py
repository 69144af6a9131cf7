"""Make the corpus files openssl 3.0 cannot make that are not post-quantum signatures.

Why: policies judge ML-KEM keys (FIPS 203) and ECDSA signatures with SHAKE (RFC 8692), and
openssl 3.0 can make neither. As in make_pq.py, every file is real: keys come from
``cryptography`` and every signature is genuine and verified before it is written.

- ML-KEM-768 and ML-KEM-1024 keys (``cryptography`` >= 48,
  ``hazmat.primitives.asymmetric.mlkem``): PKCS#8 PEM private key (the 64-byte seed form
  cryptography writes) and SubjectPublicKeyInfo PEM public key (NIST CSOR kems OIDs
  2.16.840.1.101.3.4.4.2 / .3).
- ``selfsigned-ec-p256-shake128``: a self-signed certificate over the corpus P-256 key,
  signed id-ecdsa-with-shake128 (1.3.6.1.5.5.7.6.32, parameters absent; RFC 8692 §3.2: the
  message is hashed with SHAKE128 to 256 bits). cryptography's x509 builder does not sign with
  SHAKE, so the TBSCertificate is assembled by make_pq.self_signed and the SHAKE128 digest is
  signed as a prehashed ECDSA digest.

Usage: python3 make_pyca.py CORPUS_DIR   (keeps existing files; make_corpus.sh --force
removes them)
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, mlkem, utils

sys.path.insert(0, str(Path(__file__).resolve().parent))
from make_pq import self_signed  # the shared DER certificate assembly (after sys.path)

ECDSA_WITH_SHAKE128 = "1.3.6.1.5.5.7.6.32"  # RFC 8692 §3.2


def make_mlkem(keys: Path) -> None:
    for tag, cls in (("ml-kem-768", mlkem.MLKEM768PrivateKey),
                     ("ml-kem-1024", mlkem.MLKEM1024PrivateKey)):
        private_file = keys / f"{tag}-pkcs8.pem"
        public_file = keys / f"{tag}-spki.pem"
        if private_file.exists() and private_file.stat().st_size:
            key = serialization.load_pem_private_key(private_file.read_bytes(), None)
        else:
            key = cls.generate()
            private_file.write_bytes(key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption()))
        if not (public_file.exists() and public_file.stat().st_size):
            public_file.write_bytes(key.public_key().public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))


def _shake128_signer(key: ec.EllipticCurvePrivateKey):  # type: ignore[no-untyped-def]
    def sign(tbs: bytes) -> bytes:
        digest = hashlib.shake_128(tbs).digest(32)
        return key.sign(digest, ec.ECDSA(utils.Prehashed(hashes.SHAKE128(32))))
    return sign


def make_ecdsa_shake(certs: Path) -> None:
    out = certs / "selfsigned-ec-p256-shake128.pem"
    if out.exists() and out.stat().st_size:
        return
    key = serialization.load_pem_private_key((certs / "keys" / "ec-p256.key").read_bytes(), None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    public = key.public_key()
    spki = public.public_bytes(serialization.Encoding.DER,
                               serialization.PublicFormat.SubjectPublicKeyInfo)
    point = public.public_bytes(serialization.Encoding.X962,
                                serialization.PublicFormat.UncompressedPoint)
    der, tbs, signature = self_signed("selfsigned-ec-p256-shake128", 9200, ECDSA_WITH_SHAKE128,
                                      spki, point, _shake128_signer(key))
    # Verify before writing: a signature that does not verify is never kept.
    public.verify(signature, hashlib.shake_128(tbs).digest(32),
                  ec.ECDSA(utils.Prehashed(hashes.SHAKE128(32))))
    cert = x509.load_der_x509_certificate(der)
    out.write_bytes(cert.public_bytes(serialization.Encoding.PEM))


def main() -> None:
    if len(sys.argv) != 2 or not (Path(sys.argv[1]) / "certs").is_dir():
        raise SystemExit("usage: make_pyca.py CORPUS_DIR (the directory holding certs/ and keys/)")
    corpus = Path(sys.argv[1])
    (corpus / "keys").mkdir(exist_ok=True)
    make_mlkem(corpus / "keys")
    make_ecdsa_shake(corpus / "certs")


if __name__ == "__main__":
    main()
