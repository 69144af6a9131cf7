"""OpenSSH keys: public key lines, authorized_keys, known_hosts, openssh-key-v1 private keys.

Key blobs are read with a small RFC 4251 wire-format reader rather than
``load_ssh_public_key`` because that refuses security-key (``sk-*``) keys and
certificates; the public numbers are turned into an SPKI so that every key gets the same
facts (algorithm, size, curve, fingerprint) as X.509 keys do.
"""

from __future__ import annotations

import base64
import binascii
import re
import struct
from collections.abc import Iterator

from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa

from cryptocheck import catalog
from cryptocheck.model import KeyAsset, RunError
from cryptocheck.sources.files.context import FileContext
from cryptocheck.sources.files.keyinfo import KeyFacts, facts_of_public_key
from cryptocheck.sources.files.keys import key_asset_from_facts, private_key_from_facts

_KEY_TYPE = re.compile(
    r"^(ssh-rsa|ssh-dss|ssh-ed25519|ssh-ed448|ecdsa-sha2-nistp(?:256|384|521)"
    r"|sk-ssh-ed25519@openssh\.com|sk-ecdsa-sha2-nistp256@openssh\.com"
    r"|[a-z0-9-]+(?:@openssh\.com)?-cert-v01@openssh\.com)$")
_EMBEDDED = re.compile(
    r"(?<![A-Za-z0-9@.-])(ssh-rsa|ssh-dss|ssh-ed25519|ssh-ed448|ecdsa-sha2-nistp(?:256|384|521)"
    r"|sk-ssh-ed25519@openssh\.com|sk-ecdsa-sha2-nistp256@openssh\.com"
    r"|[a-z0-9-]+(?:@openssh\.com)?-cert-v01@openssh\.com) (AAAA[A-Za-z0-9+/]+={0,2})")
_AUTHORIZED_OPTIONS = re.compile(
    r"^(?:[a-z-]+(?:=\"(?:[^\"\\]|\\.)*\")?)(?:,[a-z-]+(?:=\"(?:[^\"\\]|\\.)*\")?)*$")


class WireError(ValueError):
    """The blob is not the SSH wire format expected."""


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data, self.pos = data, 0

    def string(self) -> bytes:
        if self.pos + 4 > len(self.data):
            raise WireError("truncated length")
        (length,) = struct.unpack(">I", self.data[self.pos:self.pos + 4])
        start = self.pos + 4
        if start + length > len(self.data):
            raise WireError("truncated string")
        self.pos = start + length
        return self.data[start:self.pos]

    def mpint(self) -> int:
        return int.from_bytes(self.string(), "big", signed=True)

    def uint32(self) -> int:
        if self.pos + 4 > len(self.data):
            raise WireError("truncated uint32")
        value = int.from_bytes(self.data[self.pos:self.pos + 4], "big")
        self.pos += 4
        return value


def blob_facts(blob: bytes) -> KeyFacts:
    """Facts of an SSH public key blob (plain, ``sk-`` or certificate)."""
    reader = _Reader(blob)
    key_type = reader.string().decode("ascii", "replace")
    base = key_type
    if key_type.endswith("-cert-v01@openssh.com"):
        reader.string()  # nonce (PROTOCOL.certkeys): the key fields follow it
        base = key_type[: -len("-cert-v01@openssh.com")]
        if base.startswith("sk-"):
            base += "@openssh.com"
    public: object
    try:
        if base == "ssh-rsa":
            e, n = reader.mpint(), reader.mpint()
            public = rsa.RSAPublicNumbers(e, n).public_key()
        elif base == "ssh-dss":
            p, q, g, y = (reader.mpint() for _ in range(4))
            public = dsa.DSAPublicNumbers(y, dsa.DSAParameterNumbers(p, q, g)).public_key()
        elif base.startswith(("ecdsa-sha2-", "sk-ecdsa-sha2-")):
            curve_id = reader.string().decode("ascii", "replace")
            point = reader.string()
            curve = catalog.ec_curve(curve_id)  # nistp256...: the catalogue's curve aliases
            if curve is None:
                found = catalog.curve(curve_id)
                return KeyFacts("EC", found.order_bits if found else None,
                                found.name if found else None, "1.2.840.10045.2.1", None)
            public = ec.EllipticCurvePublicKey.from_encoded_point(curve, point)
        elif base in ("ssh-ed25519", "sk-ssh-ed25519@openssh.com"):
            public = ed25519.Ed25519PublicKey.from_public_bytes(reader.string())
        elif base == "ssh-ed448":
            public = ed448.Ed448PublicKey.from_public_bytes(reader.string())
        else:
            return KeyFacts("unknown", None, None, None, None)
    except WireError:
        raise
    except ValueError as exc:  # numbers cryptography refuses (bad point, odd DSA sizes)
        raise WireError("key numbers do not form a valid key") from exc
    facts = facts_of_public_key(public)
    if facts.algorithm == "unknown":
        raise WireError("key does not encode")
    return facts


def _decode_blob(text: str) -> bytes:
    return base64.b64decode(text, validate=True)


def _key_from_fields(fields: list[str]) -> tuple[int, str, bytes, str | None] | None:
    """Find ``type base64 [comment]`` in a line's fields: (position, type, blob, comment)."""
    for i, field in enumerate(fields[:3]):
        if _KEY_TYPE.match(field) and i + 1 < len(fields):
            comment = " ".join(fields[i + 2:]) or None
            try:
                return i, field, _decode_blob(fields[i + 1]), comment
            except (binascii.Error, ValueError):
                return i, field, b"", comment
    return None


def _split_options(line: str) -> list[str]:
    """Split a line on whitespace, keeping quoted option values (``command="a b"``) whole."""
    return re.findall(r'(?:[^\s"]|"(?:[^"\\]|\\.)*")+', line)


def looks_like_ssh_file(text: str, path: str) -> bool:
    """Whether a text file is an SSH key list (each line a key) rather than other text."""
    name = path.rsplit("!", 1)[-1].rsplit("/", 1)[-1]
    if name.startswith(("authorized_keys", "known_hosts")) or name == "ssh_known_hosts":
        return True
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        return _key_from_fields(_split_options(line)) is not None
    return False


def _file_format(path: str, first_field: str, position: int) -> str:
    name = path.rsplit("!", 1)[-1].rsplit("/", 1)[-1]
    if "known_hosts" in name:
        return "known_hosts"
    if name.startswith("authorized_keys"):
        return "authorized_keys"
    if position == 0:
        return "ssh-public-key"
    if first_field.startswith(("|1|", "@")) or not _AUTHORIZED_OPTIONS.match(first_field):
        return "known_hosts"
    return "authorized_keys"


def public_key_lines(text: str, ctx: FileContext) -> Iterator[KeyAsset | RunError]:
    """Every key line of an ``.pub`` / ``authorized_keys`` / ``known_hosts`` file."""
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        fields = _split_options(stripped)
        found = _key_from_fields(fields)
        if found is None:
            yield ctx.error("unsupported-format", "line is not an SSH public key", number)
            continue
        position, _key_type, blob, comment = found
        fmt = _file_format(ctx.path, fields[0], position)
        yield _asset_from_blob(blob, ctx, number, fmt, comment)


def embedded_public_keys(text: str, ctx: FileContext) -> Iterator[KeyAsset | RunError]:
    """SSH public keys quoted inside other text (cloud-init, YAML, Terraform...)."""
    if " AAAA" not in text:
        # Every key blob starts so (its length field); without one, the pattern (whose last
        # alternative may start at any word) need not be tried across the whole text.
        return
    for match in _EMBEDDED.finditer(text):
        number = text.count("\n", 0, match.start()) + 1
        try:
            blob = _decode_blob(match.group(2))
        except (binascii.Error, ValueError):
            blob = b""
        yield _asset_from_blob(blob, ctx, number, "ssh-public-key", None)


def _asset_from_blob(blob: bytes, ctx: FileContext, line: int, fmt: str,
                     comment: str | None) -> KeyAsset | RunError:
    try:
        if not blob:
            raise WireError("empty or non-base64 key")
        facts = blob_facts(blob)
    except WireError:
        return ctx.error("malformed-pem", "SSH public key blob is not valid", line)
    return key_asset_from_facts(facts, ctx, line, fmt, comment)


def openssh_private_key(data: bytes, ctx: FileContext, line: int | None) -> KeyAsset | RunError:
    """An ``openssh-key-v1`` private key (PROTOCOL.key): cipher and KDF from the header.

    The public key is stored in clear in this format, so algorithm and size are known even
    when the private part is encrypted and no password is given.
    """
    magic = b"openssh-key-v1\x00"
    try:
        if not data.startswith(magic):
            raise WireError("bad magic")
        reader = _Reader(data[len(magic):])
        cipher = reader.string().decode("ascii", "replace")
        kdf = reader.string().decode("ascii", "replace")
        reader.string()  # kdf options (salt, rounds): not reported
        count = reader.uint32()
        if count < 1:
            raise WireError("no keys")
        facts = blob_facts(reader.string())
    except WireError:
        return ctx.error("malformed-der", "OpenSSH private key does not parse", line)
    encrypted = cipher != "none"
    return private_key_from_facts(facts, ctx, line, "OpenSSH", encrypted,
                                  f"{cipher} {kdf}" if encrypted else None)
