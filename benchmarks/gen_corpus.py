"""Generate a realistic corpus of N certificates for the bulk benchmark, in seconds.

A few thousand real certificates are made with ``cryptography`` (RSA-1024/2048/4096,
P-256/P-384 and Ed25519 subject keys; signatures by an RSA issuer with SHA-1, SHA-256 or
SHA-384, by a P-384 issuer with ECDSA SHA-256 or SHA-384, or by an Ed25519 issuer). Every
other certificate is derived from one of them by rewriting, in place, the serial number and
the two validity dates (same lengths, so the DER stays well-formed; the signature no longer
verifies, which no scanner here checks). Every certificate is unique (random serial).

A share of entries (``--garbage``, default 1%) is garbage of three kinds: random bytes in a
CERTIFICATE block (malformed DER), a certificate cut short (malformed DER), and a body that
is not base64 (malformed PEM). The manifest (``manifest.json``) holds the count of
certificates per ``key/signature-hash`` and the file, index and line of every garbage entry,
so a scanner's answers can be checked exactly.

    python benchmarks/gen_corpus.py --count 1000000 --out /tmp/corpus-1m
"""

from __future__ import annotations

import argparse
import binascii
import json
import os
import random
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID

# (subject key, weight) and (issuer, signature hash, weight)
KEYS = [("RSA-1024", 5), ("RSA-2048", 40), ("RSA-4096", 10), ("EC-secp256r1", 25),
        ("EC-secp384r1", 10), ("Ed25519", 10)]
SIGNATURES = [("rsa", "SHA-1", 5), ("rsa", "SHA-256", 50), ("rsa", "SHA-384", 10),
              ("ec", "SHA-256", 15), ("ec", "SHA-384", 15), ("ed25519", "none", 5)]
_SHA256_RSA = bytes.fromhex("06092a864886f70d01010b")  # OID sha256WithRSAEncryption
_SHA1_RSA = bytes.fromhex("06092a864886f70d010105")  # OID sha1WithRSAEncryption
HASHES = {"SHA-1": hashes.SHA1, "SHA-256": hashes.SHA256, "SHA-384": hashes.SHA384}


def _new_key(label: str) -> Any:
    if label.startswith("RSA-"):
        return rsa.generate_private_key(65537, int(label[4:]))
    if label == "EC-secp256r1":
        return ec.generate_private_key(ec.SECP256R1())
    if label == "EC-secp384r1":
        return ec.generate_private_key(ec.SECP384R1())
    return ed25519.Ed25519PrivateKey.generate()


def _name(text: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Bulk Benchmark"),
                      x509.NameAttribute(NameOID.COMMON_NAME, text)])


def make_templates(count: int, rng: random.Random) -> list[tuple[bytes, str]]:
    """``count`` real certificates with their manifest class (``key/hash``)."""
    issuers = {"rsa": rsa.generate_private_key(65537, 2048),
               "ec": ec.generate_private_key(ec.SECP384R1()),
               "ed25519": ed25519.Ed25519PrivateKey.generate()}
    # A few keys per kind is enough: certificates differ by names, serials and dates.
    pool = {label: [_new_key(label) for _ in range(2 if label == "RSA-4096" else 4)]
            for label, _ in KEYS}
    key_labels = [k for k, _ in KEYS]
    key_weights = [w for _, w in KEYS]
    sigs = [(i, h) for i, h, _ in SIGNATURES]
    sig_weights = [w for _, _, w in SIGNATURES]
    start = datetime(2020, 1, 1, tzinfo=UTC)
    out = []
    for number in range(count):
        label = rng.choices(key_labels, key_weights)[0]
        issuer, digest = rng.choices(sigs, sig_weights)[0]
        key = rng.choice(pool[label])
        not_before = start + timedelta(seconds=rng.randrange(0, 6 * 365 * 86400))
        builder = (x509.CertificateBuilder()
                   .subject_name(_name(f"host{number}.bulk.example"))
                   .issuer_name(_name(f"Bulk {issuer.upper()} CA"))
                   .public_key(key.public_key())
                   .serial_number(rng.getrandbits(127) | (1 << 120))
                   .not_valid_before(not_before)
                   .not_valid_after(not_before + timedelta(days=rng.choice((90, 397, 398, 825))))
                   .add_extension(x509.BasicConstraints(ca=False, path_length=None), True))
        # OpenSSL 3 refuses to make SHA-1 signatures: sign with SHA-256 and rename the
        # algorithm (same OID length), as a SHA-1 certificate found in an estate reads.
        sign_hash = "SHA-256" if digest == "SHA-1" else digest
        algorithm = None if issuer == "ed25519" else HASHES[sign_hash]()
        der = builder.sign(issuers[issuer], algorithm).public_bytes(Encoding.DER)  # type: ignore[arg-type]
        if digest == "SHA-1":
            der = der.replace(_SHA256_RSA, _SHA1_RSA)
        out.append((der, f"{label}/{digest}"))
    return out


def _fields(der: bytes) -> tuple[int, int, int, int]:
    """(serial value offset, serial length, notBefore value offset, notAfter value offset)."""
    def header(pos: int) -> tuple[int, int]:
        first = der[pos + 1]
        if first < 0x80:
            return pos + 2, first
        count = first & 0x7F
        return pos + 2 + count, int.from_bytes(der[pos + 2:pos + 2 + count], "big")

    cert_value, _ = header(0)
    tbs_value, _ = header(cert_value)
    pos = tbs_value
    version_value, version_len = header(pos)
    pos = version_value + version_len  # skip [0] version
    serial_value, serial_len = header(pos)
    pos = serial_value + serial_len
    sig_value, sig_len = header(pos)
    pos = sig_value + sig_len
    issuer_value, issuer_len = header(pos)
    pos = issuer_value + issuer_len
    validity_value, _ = header(pos)
    nb_value, nb_len = header(validity_value)
    na_value, _ = header(nb_value + nb_len)
    return serial_value, serial_len, nb_value, na_value


def _pem(der: bytes | bytearray) -> bytes:
    b64 = binascii.b2a_base64(der, newline=False)
    lines = b"\n".join(b64[i:i + 64] for i in range(0, len(b64), 64))
    return b"-----BEGIN CERTIFICATE-----\n" + lines + b"\n-----END CERTIFICATE-----\n"


def _garbage(kind: int, rng: random.Random, template: bytes) -> tuple[bytes, str]:
    if kind == 0:
        return _pem(rng.randbytes(rng.randrange(200, 900))), "malformed-der"
    if kind == 1:
        return _pem(template[: len(template) // 2]), "malformed-der"
    body = b"this is not base64 %% ~~ " + rng.randbytes(8).hex().encode()
    return b"-----BEGIN CERTIFICATE-----\n" + body + b"\n-----END CERTIFICATE-----\n", \
        "malformed-pem"


def generate(count: int, out: Path, files: int, garbage: float, templates: int,
             seed: int) -> dict[str, Any]:
    """Write ``files`` PEM bundles holding ``count`` entries in all, and the manifest."""
    rng = random.Random(seed)
    started = time.perf_counter()
    bases = make_templates(templates, rng)
    made = time.perf_counter() - started
    layouts = [(bytearray(der), label, _fields(der)) for der, label in bases]
    out.mkdir(parents=True, exist_ok=True)
    classes: Counter[str] = Counter()
    errors: list[dict[str, Any]] = []
    per_file = -(-count // files)
    every = int(1 / garbage) if garbage > 0 else 0
    written = 0
    # Dates as UTCTime digits, for a spread of issuance days and lifetimes (made once: a
    # strftime per certificate would cost more than everything else).
    day0 = datetime(2023, 1, 1, tzinfo=UTC)
    dates = []
    for _ in range(50_000):
        not_before = day0 + timedelta(seconds=rng.randrange(0, 4 * 365 * 86400))
        not_after = not_before + timedelta(days=rng.choice((90, 365, 398, 825)))
        dates.append((not_before.strftime("%y%m%d%H%M%S").encode(),
                      not_after.strftime("%y%m%d%H%M%S").encode()))
    for number in range(files):
        path = out / f"bundle-{number:03d}.pem"
        line = 1
        with open(path, "wb") as handle:
            parts: list[bytes] = []
            for index in range(min(per_file, count - written)):
                der, label, (serial_at, serial_len, nb_at, na_at) = rng.choice(layouts)
                if every and (written + 1) % every == 0:
                    text, reason = _garbage(written % 3, rng, bytes(der))
                    errors.append({"file": path.name, "index": index, "line": line,
                                   "reason": reason})
                else:
                    serial = bytearray(os.urandom(serial_len))
                    serial[0] = (serial[0] & 0x7F) | 0x01
                    der[serial_at:serial_at + serial_len] = serial
                    not_before, not_after = rng.choice(dates)
                    der[nb_at:nb_at + 12] = not_before
                    der[na_at:na_at + 12] = not_after
                    text = _pem(der)
                    classes[label] += 1
                parts.append(text)
                line += text.count(b"\n")
                written += 1
                if len(parts) >= 4096:
                    handle.write(b"".join(parts))
                    parts.clear()
            handle.write(b"".join(parts))
    manifest = {"count": count, "certificates": sum(classes.values()), "garbage": len(errors),
                "classes": dict(sorted(classes.items())), "errors": errors,
                "templates": templates, "files": files, "seed": seed,
                "seconds_templates": round(made, 2),
                "seconds_total": round(time.perf_counter() - started, 2)}
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1))
    return manifest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--files", type=int, default=16, help="PEM bundles to split into")
    parser.add_argument("--garbage", type=float, default=0.01, help="share of garbage entries")
    parser.add_argument("--templates", type=int, default=2000, help="real certificates made")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    manifest = generate(args.count, args.out, args.files, args.garbage, args.templates,
                        args.seed)
    print(f"{manifest['count']:,} entries ({manifest['certificates']:,} certificates, "
          f"{manifest['garbage']:,} garbage) in {args.files} files under {args.out} in "
          f"{manifest['seconds_total']}s ({manifest['seconds_templates']}s for "
          f"{args.templates} real certificates)")


if __name__ == "__main__":
    main()
