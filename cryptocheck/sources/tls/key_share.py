"""Ephemeral key shares for cryptocheck's own TLS 1.3 handshake (RFC 8446 §4.2.8), in every
group one can be made for here: X25519, X448, the NIST and brainpool curves (`cryptography`'s
ECDH), the ML-KEM groups (:mod:`.kem`) and the RFC 7919 finite-field groups (:mod:`.ffdhe`).

No secret leaves this module but the shared secret the key schedule needs; only a scanner's own
handshake uses it, and nothing it protects is secret.
"""

from __future__ import annotations

from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec, x448, x25519
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from cryptocheck import catalog
from cryptocheck.catalog import tls as tls_catalog
from cryptocheck.sources.tls import ffdhe, kem
from cryptocheck.sources.tls.key_schedule import Tls13Error


def _code(name: str) -> int:
    """The codepoint of the catalogue's group ``name`` (a name missing there is a bug here)."""
    found = tls_catalog.group(name)
    if found is None:
        raise LookupError(f"TLS catalogue: no group {name!r}")
    return found.code


X25519, X448 = _code("x25519"), _code("x448")
# The groups whose share is an ECDH key on the curve the catalogue's group record names: the
# NIST curves and the brainpool curves of TLS 1.3 (RFC 8734).
_EC_GROUPS = tuple(_code(name) for name in (
    "secp256r1", "secp384r1", "secp521r1",
    "brainpoolP256r1tls13", "brainpoolP384r1tls13", "brainpoolP512r1tls13"))
# The groups a key share can be made for, in the order offered (x25519 first: every TLS 1.3
# server must support it or P-256, RFC 8446 §9.1, and it is the cheapest to compute; the NIST
# and brainpool curves; then the ML-KEM hybrids and ML-KEM, whose shares are large; the RFC
# 7919 finite-field groups last, the dearest to compute, for a server that takes nothing else).
KEY_SHARE_GROUPS = (X25519, _EC_GROUPS[0], X448, *_EC_GROUPS[1:], *kem.GROUPS, *ffdhe.PRIMES)


def _curve(group: int) -> ec.EllipticCurve:
    """`cryptography`'s curve for an ECDH group of :data:`_EC_GROUPS`, found by the curve its
    catalogue record names."""
    record = tls_catalog.group(group)
    curve = catalog.ec_curve(record.curve) if record is not None and record.curve else None
    if curve is None:
        raise ValueError(f"no key share for group 0x{group:04X}")
    found: ec.EllipticCurve = curve
    return found


class KeyShare:
    """An ephemeral key pair for one group; ``public`` is the key_share entry's key_exchange."""

    def __init__(self, group: int) -> None:
        self.group = group
        self._private: Any
        if group == X25519:
            self._private = x25519.X25519PrivateKey.generate()
            self.public = self._private.public_key().public_bytes_raw()
        elif group == X448:
            self._private = x448.X448PrivateKey.generate()
            self.public = self._private.public_key().public_bytes_raw()
        elif group in _EC_GROUPS:
            self._private = ec.generate_private_key(_curve(group))
            self.public = self._private.public_key().public_bytes(
                Encoding.X962, PublicFormat.UncompressedPoint)
        elif group in ffdhe.PRIMES:
            self._private = ffdhe.FfdheShare(group)
            self.public = self._private.public
        elif group in kem.GROUPS:
            self._private = kem.KemShare(group)
            self.public = self._private.public
        else:
            raise ValueError(f"no key share for group 0x{group:04X}")

    @classmethod
    def from_x25519(cls, private: bytes) -> KeyShare:
        """A known x25519 key (for published test vectors)."""
        share = cls.__new__(cls)
        share.group = X25519
        share._private = x25519.X25519PrivateKey.from_private_bytes(private)
        share.public = share._private.public_key().public_bytes_raw()
        return share

    def shared_secret(self, peer: bytes) -> bytes:
        """The (EC)DHE shared secret with the server's key_exchange (§7.4); a key that is not
        a valid point, or gives an all-zero X25519/X448 secret, raises :class:`Tls13Error`."""
        try:
            if self.group == X25519:
                return bytes(self._private.exchange(
                    x25519.X25519PublicKey.from_public_bytes(peer)))
            if self.group == X448:
                return bytes(self._private.exchange(x448.X448PublicKey.from_public_bytes(peer)))
            if self.group in ffdhe.PRIMES or self.group in kem.GROUPS:
                return bytes(self._private.shared_secret(peer))
            public = ec.EllipticCurvePublicKey.from_encoded_point(self._private.curve, peer)
            return bytes(self._private.exchange(ec.ECDH(), public))
        except ValueError as exc:
            raise Tls13Error(f"bad key share from the server ({exc})") from None
