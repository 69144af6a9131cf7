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

from cryptocheck.sources.tls import ffdhe, kem
from cryptocheck.sources.tls.key_schedule import Tls13Error

X25519, X448 = 0x001D, 0x001E
_CURVES: dict[int, type[ec.EllipticCurve]] = {
    0x0017: ec.SECP256R1, 0x0018: ec.SECP384R1, 0x0019: ec.SECP521R1,
    # brainpoolP256r1tls13, brainpoolP384r1tls13, brainpoolP512r1tls13 (RFC 8734)
    0x001F: ec.BrainpoolP256R1, 0x0020: ec.BrainpoolP384R1, 0x0021: ec.BrainpoolP512R1}
# The groups a key share can be made for, in the order offered (x25519 first: every TLS 1.3
# server must support it or P-256, RFC 8446 §9.1, and it is the cheapest to compute; the NIST
# and brainpool curves; then the ML-KEM hybrids and ML-KEM, whose shares are large; the RFC
# 7919 finite-field groups last, the dearest to compute, for a server that takes nothing else).
KEY_SHARE_GROUPS = (X25519, 0x0017, X448, 0x0018, 0x0019, 0x001F, 0x0020, 0x0021, *kem.GROUPS,
                    *ffdhe.PRIMES)


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
        elif group in _CURVES:
            self._private = ec.generate_private_key(_CURVES[group]())
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
            curve = _CURVES[self.group]()
            public = ec.EllipticCurvePublicKey.from_encoded_point(curve, peer)
            return bytes(self._private.exchange(ec.ECDH(), public))
        except ValueError as exc:
            raise Tls13Error(f"bad key share from the server ({exc})") from None
