"""Signed evidence: a detached signature over the canonical JSON report and every output.

Why: an auditor hands a report on; whoever receives it must be able to tell that nobody
changed it afterwards. ``--sign KEYFILE`` writes a signature file (JSON) holding

- the SHA-256 of the *canonical* JSON report (keys sorted, no blanks, UTF-8: the same
  report gives the same digest however it was indented),
- a manifest of every output the run wrote (format, path relative to the signature file,
  size and SHA-256 of the exact bytes; the JSON report is one of them, so a changed byte
  anywhere, even in white space, is caught),
- who signed (the SHA-256 of the public key) and the algorithm,

and an Ed25519 or ECDSA P-256 (SHA-256) signature over the canonical form of all that.
Both algorithms are ones the default policy approves. :func:`verify` checks it all and says
exactly what no longer matches. Private keys are read to sign and never written anywhere
else; an encrypted one is opened with the password in ``CRYPTOCHECK_SIGNING_PASSWORD``.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

__all__ = ["SIGNATURE_TYPE", "SignError", "VerificationError", "Verified", "canonical_json",
           "generate_keypair", "load_private_key", "load_public_key", "sign_outputs", "verify"]

SIGNATURE_TYPE = "cryptocheck-signature"
SIGNATURE_VERSION = 1
PASSWORD_ENV = "CRYPTOCHECK_SIGNING_PASSWORD"

PrivateKey = ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey
PublicKey = ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey
KeyAlgorithm = Literal["ed25519", "ecdsa-p256"]


class SignError(ValueError):
    """A key or signature file that cannot be used (wrong type, unreadable, malformed)."""


class VerificationError(ValueError):
    """The evidence does not verify; the message lists every mismatch found."""


@dataclass(frozen=True)
class Verified:
    """What a good signature covers."""

    algorithm: str
    key_id: str
    report_sha256: str
    outputs: tuple[str, ...]


def canonical_json(document: Any) -> bytes:
    """``document`` as canonical JSON bytes: keys sorted, no blanks, UTF-8, no NaN.

    >>> canonical_json({"b": 1, "a": [True, None]})
    b'{"a":[true,null],"b":1}'
    """
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False).encode("utf-8")


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _algorithm_of(key: PrivateKey | PublicKey) -> str:
    if isinstance(key, (ed25519.Ed25519PrivateKey, ed25519.Ed25519PublicKey)):
        return "Ed25519"
    if isinstance(key.curve, ec.SECP256R1):
        return "ECDSA-P256-SHA256"
    raise SignError(f"ECDSA keys must be on P-256 (secp256r1), not {key.curve.name}")


def key_id(public_key: PublicKey) -> str:
    """The SHA-256 (hex) of the DER SubjectPublicKeyInfo: which key signed."""
    der = public_key.public_bytes(serialization.Encoding.DER,
                                  serialization.PublicFormat.SubjectPublicKeyInfo)
    return _sha256(der)


def generate_keypair(algorithm: KeyAlgorithm = "ed25519") -> tuple[bytes, bytes]:
    """A new key pair as (PKCS#8 private key PEM, SubjectPublicKeyInfo public key PEM)."""
    private: PrivateKey
    if algorithm == "ed25519":
        private = ed25519.Ed25519PrivateKey.generate()
    elif algorithm == "ecdsa-p256":
        private = ec.generate_private_key(ec.SECP256R1())
    else:
        raise SignError(f"unknown key algorithm {algorithm!r} (ed25519 or ecdsa-p256)")
    private_pem = private.private_bytes(serialization.Encoding.PEM,
                                        serialization.PrivateFormat.PKCS8,
                                        serialization.NoEncryption())
    public_pem = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    return private_pem, public_pem


def _read(path: str | Path, what: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise SignError(f"cannot read {what} {path}: {exc.strerror}") from None


def load_private_key(path: str | Path) -> PrivateKey:
    """The Ed25519 or ECDSA P-256 private key in PEM or DER file ``path``."""
    data = _read(path, "signing key")
    password = os.environ.get(PASSWORD_ENV)
    secret = password.encode("utf-8") if password else None
    loader = (serialization.load_pem_private_key if b"-----BEGIN" in data
              else serialization.load_der_private_key)
    try:
        key = loader(data, secret)
    except TypeError:
        raise SignError(f"signing key {path} is encrypted: set {PASSWORD_ENV}") from None
    except ValueError:
        # The library's message may say why the bytes did not parse; it never holds them.
        raise SignError(f"signing key {path} is not a private key this tool can read "
                        "(or the password is wrong)") from None
    if not isinstance(key, (ed25519.Ed25519PrivateKey, ec.EllipticCurvePrivateKey)):
        raise SignError(f"signing key {path} must be Ed25519 or ECDSA P-256, "
                        f"not {type(key).__name__.removesuffix('PrivateKey').lstrip('_')}")
    _algorithm_of(key)
    return key


def load_public_key(path: str | Path) -> PublicKey:
    """The Ed25519 or ECDSA P-256 public key in PEM or DER file ``path``."""
    data = _read(path, "public key")
    loader = (serialization.load_pem_public_key if b"-----BEGIN" in data
              else serialization.load_der_public_key)
    try:
        key = loader(data)
    except ValueError:
        raise SignError(f"{path} is not a public key this tool can read") from None
    if not isinstance(key, (ed25519.Ed25519PublicKey, ec.EllipticCurvePublicKey)):
        raise SignError(f"public key {path} must be Ed25519 or ECDSA P-256")
    _algorithm_of(key)
    return key


def _manifest_path(output: Path, base: Path) -> str:
    return Path(os.path.relpath(output.resolve(), base.resolve())).as_posix()


def sign_outputs(report_document: Mapping[str, Any], outputs: Sequence[tuple[str, Path]],
                 private_key: PrivateKey, signature_path: Path) -> dict[str, Any]:
    """Sign the canonical report and the outputs already written; write ``signature_path``.

    ``outputs`` are (format, path) of every file the run wrote. Returns the signature
    document written. Example: ``sign_outputs(report_to_dict(r), [("json", p)], key, sig)``.
    """
    base = signature_path.parent
    manifest = []
    for fmt, path in outputs:
        data = path.read_bytes()
        manifest.append({"format": fmt, "path": _manifest_path(path, base),
                         "bytes": len(data), "sha256": _sha256(data)})
    public = private_key.public_key()
    policy = report_document.get("policy", {})
    payload: dict[str, Any] = {
        "type": SIGNATURE_TYPE,
        "version": SIGNATURE_VERSION,
        "algorithm": _algorithm_of(private_key),
        "key_id": key_id(public),
        "report": {
            "canonical_sha256": _sha256(canonical_json(report_document)),
            "tool": report_document.get("tool"),
            "policy": {k: policy.get(k) for k in ("id", "version", "sha256", "as_of")},
            "finished": report_document.get("finished"),
        },
        "outputs": manifest,
    }
    message = canonical_json(payload)
    if isinstance(private_key, ed25519.Ed25519PrivateKey):
        signature = private_key.sign(message)
    else:
        signature = private_key.sign(message, ec.ECDSA(hashes.SHA256()))
    document = payload | {"signature": base64.b64encode(signature).decode("ascii")}
    signature_path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    return document


def _check_signature(public_key: PublicKey, signature: bytes, message: bytes) -> bool:
    try:
        if isinstance(public_key, ed25519.Ed25519PublicKey):
            public_key.verify(signature, message)
        else:
            public_key.verify(signature, message, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        return False
    return True


def verify(report_path: str | Path, signature_path: str | Path,
           public_key_path: str | Path) -> Verified:
    """Check a signed report: the signature, the canonical report and every listed output.

    Raises :class:`VerificationError` naming each thing that does not match (a changed
    report, a changed or missing output, another key, an altered signature file), or
    :class:`SignError` when a file cannot be read at all.
    """
    public_key = load_public_key(public_key_path)
    signature_file = Path(signature_path)
    try:
        document = json.loads(_read(signature_file, "signature"))
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise VerificationError(f"signature file {signature_path} is not JSON: "
                                "it was altered or is not a cryptocheck signature") from None
    if not isinstance(document, dict) or document.get("type") != SIGNATURE_TYPE:
        raise VerificationError(f"{signature_path} is not a cryptocheck signature file")
    try:
        signature = base64.b64decode(document.pop("signature"), validate=True)
    except (KeyError, TypeError, ValueError):
        raise VerificationError(f"signature file {signature_path} has no valid signature") from None
    expected_key = key_id(public_key)
    if document.get("key_id") != expected_key:
        raise VerificationError(
            f"signature was made with another key (key id {document.get('key_id')}), "
            f"not {public_key_path} (key id {expected_key})")
    if not _check_signature(public_key, signature, canonical_json(document)):
        raise VerificationError(f"signature in {signature_path} does not match its contents: "
                                "the signature file was altered")
    problems: list[str] = []
    report_text = _read(report_path, "report")
    try:
        report_digest = _sha256(canonical_json(json.loads(report_text)))
    except (json.JSONDecodeError, UnicodeDecodeError, ValueError):
        report_digest = None
    signed_digest = document["report"]["canonical_sha256"]
    if report_digest is None:
        problems.append(f"report {report_path} is no longer valid JSON: it was changed after "
                        "signing")
    elif report_digest != signed_digest:
        problems.append(f"report {report_path} was changed after signing (canonical SHA-256 "
                        f"{report_digest}, signed {signed_digest})")
    checked = []
    for entry in document.get("outputs", []):
        path = signature_file.parent / entry["path"]
        try:
            data = path.read_bytes()
        except OSError:
            problems.append(f"{entry['format']} output {path} listed in the signature is missing")
            continue
        digest = _sha256(data)
        if digest != entry["sha256"]:
            problems.append(f"{entry['format']} output {path} was changed after signing "
                            f"(SHA-256 {digest}, signed {entry['sha256']})")
        checked.append(str(path))
    if problems:
        raise VerificationError("verification FAILED:\n  " + "\n  ".join(problems))
    return Verified(algorithm=document["algorithm"], key_id=expected_key,
                    report_sha256=signed_digest, outputs=tuple(checked))
