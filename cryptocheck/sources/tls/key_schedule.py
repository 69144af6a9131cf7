"""The TLS 1.3 key schedule (RFC 8446 §7.1) and record protection (§5.2, §5.3), for
cryptocheck's own handshake (:mod:`.tls13`).

The cryptography is `cryptography`'s (HKDF-Expand, AES-GCM, AES-CCM, ChaCha20-Poly1305); what
is here is the glue: HKDF-Expand-Label, Derive-Secret, the handshake traffic secrets and the
record nonce. RFC 8448's published trace checks it (tests/test_tls13_keyschedule.py).
"""

from __future__ import annotations

import hashlib
import hmac
import struct
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESCCM, AESGCM, ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDFExpand

from cryptocheck.sources.tls import wire

CONTENT_APPLICATION_DATA = 23


class Tls13Error(wire.WireError):
    """The server's TLS 1.3 messages are not what RFC 8446 allows, or do not decrypt."""


@dataclass(frozen=True)
class Suite:
    """A TLS 1.3 cipher suite this client can decrypt: its hash and its AEAD."""

    hash_name: str  # hashlib / hmac name
    key_length: int
    aead: Callable[[bytes], Any]
    tag_length: int = 16

    def algorithm(self) -> hashes.HashAlgorithm:
        return hashes.SHA384() if self.hash_name == "sha384" else hashes.SHA256()

    @property
    def hash_length(self) -> int:
        return hashlib.new(self.hash_name).digest_size


# RFC 8446 §B.4 and RFC 8447: the suites with an AEAD in `cryptography`.
SUITES: dict[int, Suite] = {
    0x1301: Suite("sha256", 16, AESGCM),
    0x1302: Suite("sha384", 32, AESGCM),
    0x1303: Suite("sha256", 32, ChaCha20Poly1305),
    0x1304: Suite("sha256", 16, AESCCM),
    0x1305: Suite("sha256", 16, lambda key: AESCCM(key, tag_length=8), tag_length=8),
}


def hkdf_extract(suite: Suite, salt: bytes, ikm: bytes) -> bytes:
    """HKDF-Extract (RFC 5869 §2.2): HMAC(salt, IKM); an empty salt is HashLen zeros."""
    return hmac.digest(salt or bytes(suite.hash_length), ikm, suite.hash_name)


def hkdf_expand_label(suite: Suite, secret: bytes, label: bytes, context: bytes,
                      length: int) -> bytes:
    """HKDF-Expand-Label (§7.1): HKDF-Expand(secret, HkdfLabel, length)."""
    label = b"tls13 " + label
    info = struct.pack(">HB", length, len(label)) + label + bytes([len(context)]) + context
    return HKDFExpand(suite.algorithm(), length, info).derive(secret)


def derive_secret(suite: Suite, secret: bytes, label: bytes, transcript_hash: bytes) -> bytes:
    """Derive-Secret (§7.1), given the transcript hash of the messages."""
    return hkdf_expand_label(suite, secret, label, transcript_hash, suite.hash_length)


@dataclass(frozen=True)
class HandshakeSecrets:
    """The handshake stage of the key schedule (no PSK): what RFC 8448 publishes for it."""

    early_secret: bytes
    derived: bytes
    handshake_secret: bytes
    client_handshake_traffic: bytes
    server_handshake_traffic: bytes


def handshake_secrets(suite: Suite, shared_secret: bytes, hello_hash: bytes
                      ) -> HandshakeSecrets:
    """The handshake traffic secrets from the (EC)DHE secret and Hash(ClientHello..ServerHello)."""
    early = hkdf_extract(suite, b"", bytes(suite.hash_length))
    derived = derive_secret(suite, early, b"derived", hashlib.new(suite.hash_name).digest())
    handshake = hkdf_extract(suite, derived, shared_secret)
    return HandshakeSecrets(early, derived, handshake,
                            derive_secret(suite, handshake, b"c hs traffic", hello_hash),
                            derive_secret(suite, handshake, b"s hs traffic", hello_hash))


class RecordProtection:
    """One direction of record protection (§5.2, §5.3): the traffic key, the IV and the
    record sequence number, which XORed into the IV makes each record's nonce."""

    def __init__(self, suite: Suite, traffic_secret: bytes, sequence: int = 0) -> None:
        self.suite = suite
        self.key = hkdf_expand_label(suite, traffic_secret, b"key", b"", suite.key_length)
        self.iv = hkdf_expand_label(suite, traffic_secret, b"iv", b"", 12)
        self.aead = suite.aead(self.key)
        self.sequence = sequence

    def _nonce(self) -> bytes:
        nonce = bytes(a ^ b for a, b in zip(self.iv, self.sequence.to_bytes(12, "big"),
                                            strict=True))
        self.sequence += 1
        return nonce

    def open(self, header: bytes, fragment: bytes) -> tuple[int, bytes]:
        """(inner content type, content) of a TLSCiphertext with ``header`` (its 5 bytes)."""
        if len(fragment) < self.suite.tag_length + 1:
            raise Tls13Error("encrypted record too short")
        try:
            plain = self.aead.decrypt(self._nonce(), fragment, header)
        except InvalidTag:
            raise Tls13Error("a record did not decrypt (bad AEAD tag)") from None
        content = plain.rstrip(b"\x00")
        if not content:
            raise Tls13Error("encrypted record without a content type")
        return content[-1], content[:-1]

    def seal(self, content_type: int, content: bytes) -> bytes:
        """The TLSCiphertext record carrying ``content`` of ``content_type``."""
        length = len(content) + 1 + self.suite.tag_length
        header = struct.pack(">BHH", CONTENT_APPLICATION_DATA, 0x0303, length)
        sealed: bytes = self.aead.encrypt(self._nonce(), content + bytes([content_type]), header)
        return header + sealed
