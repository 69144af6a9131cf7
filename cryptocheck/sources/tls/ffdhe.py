"""The RFC 7919 finite-field Diffie-Hellman groups for TLS (ffdhe2048 ... ffdhe8192), and an
ephemeral key share in them, made with Python's own modular arithmetic.

The primes are those of RFC 7919 Appendix A (generator 2), read from the catalogue's DH
table (:mod:`cryptocheck.catalog.dh`). `cryptography` has deprecated its finite-field DH, and
a key share needs no more than ``pow``: a random private exponent of 512 bits (a short exponent, RFC 7919 §5.2: more than twice the security strength
of the largest group, ffdhe8192, about 200 bits), the public value ``2^x mod p`` and the shared
secret ``Y^x mod p``, both as big-endian integers padded to the size of ``p`` (RFC 8446
§4.2.8.1, §7.4.1). Only a scanner's own handshake uses it: nothing it protects is secret.
"""

from __future__ import annotations

import secrets

from cryptocheck.catalog import dh
from cryptocheck.catalog import tls as tls_catalog

# TLS NamedGroup code point -> the group's prime (RFC 8446 §4.2.7): every ``ff`` group of the
# TLS catalogue, with its prime from the one DH table (catalog/data/dh-groups.toml).
PRIMES: dict[int, int] = {
    g.code: found.prime for g in tls_catalog.groups()
    if g.kind == "ff" and (found := dh.group(g.name)) is not None}
GENERATOR = 2
EXPONENT_BITS = 512


class FfdheShare:
    """An ephemeral key pair in one RFC 7919 group."""

    def __init__(self, group: int) -> None:
        self.prime = PRIMES[group]
        self.size = (self.prime.bit_length() + 7) // 8
        self._exponent = secrets.randbits(EXPONENT_BITS) | (1 << (EXPONENT_BITS - 1))
        self.public = pow(GENERATOR, self._exponent, self.prime).to_bytes(self.size, "big")

    def shared_secret(self, peer: bytes) -> bytes:
        """``Y^x mod p`` padded to the size of ``p``; raises ValueError for a public value that
        is not the size of ``p`` or not in 2 .. p-2 (RFC 7919 §5.1)."""
        if len(peer) != self.size:
            raise ValueError(f"public value of {len(peer)} bytes, not {self.size}")
        value = int.from_bytes(peer, "big")
        if not 1 < value < self.prime - 1:
            raise ValueError("public value out of range")
        return pow(value, self._exponent, self.prime).to_bytes(self.size, "big")
