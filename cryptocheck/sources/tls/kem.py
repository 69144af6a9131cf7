"""TLS 1.3 key shares with ML-KEM (FIPS 203): the hybrid groups of draft-ietf-tls-ecdhe-mlkem
(X25519MLKEM768, SecP256r1MLKEM768, SecP384r1MLKEM1024) and the pure ML-KEM groups of
draft-ietf-tls-mlkem (MLKEM768, MLKEM1024; `cryptography` has no ML-KEM-512).

Only the groups whose ML-KEM parameter set this `cryptography` supports are offered a share.
The client's key_exchange is its ML-KEM encapsulation key and, for a hybrid, its ECDH share;
the server answers with the ML-KEM ciphertext and its own ECDH share; the shared secret is the
two secrets joined. X25519MLKEM768 puts the ML-KEM part first in the client's share, the
server's and the secret; the SecP* hybrids put the ECDH part first. The ML-KEM and ECDH arithmetic is `cryptography`'s; a
handshake against OpenSSL's implementation checks the layout (tests/test_tls_servers.py).
"""

from __future__ import annotations

from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec, x25519
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from cryptocheck import catalog
from cryptocheck.catalog import tls as tls_catalog


def _kems() -> dict[int, tuple[Any, int]]:
    """ML-KEM parameter set -> (private key class, ciphertext length), for those this
    `cryptography` has and its backend supports (ML-KEM-768 came in 47.0, ML-KEM-1024 later)."""
    try:
        from cryptography.hazmat.primitives.asymmetric import mlkem
    except ImportError:
        return {}
    found = {}
    for size, name, ciphertext in ((768, "MLKEM768PrivateKey", 1088),
                                   (1024, "MLKEM1024PrivateKey", 1568)):
        kind: Any = getattr(mlkem, name, None)
        try:
            kind.generate()
            usable = True
        except Exception:  # noqa: BLE001 - missing, or UnsupportedAlgorithm from the backend
            usable = False
        if usable:
            found[size] = (kind, ciphertext)
    return found


_KEMS = _kems()
# The groups a key share can be made for here, in the order offered, by catalogue name, with
# whether the ECDH part comes first (the one fact of the layout the catalogue does not hold).
_ECDH_FIRST = {"X25519MLKEM768": False, "SecP256r1MLKEM768": True, "SecP384r1MLKEM1024": True,
               "MLKEM768": False, "MLKEM1024": False}


def _layouts() -> dict[int, tuple[int, str | None, bool]]:
    """TLS NamedGroup -> (ML-KEM parameter set, ECDH curve or None, whether the ECDH part
    comes first), the parameter set and curve from the group's catalogue record, for the
    groups whose ML-KEM this `cryptography` has."""
    layouts = {}
    for name, ecdh_first in _ECDH_FIRST.items():
        record = tls_catalog.group(name)
        if record is None or record.pq_algorithm is None:
            raise LookupError(f"TLS catalogue: no ML-KEM group {name!r}")
        size = int(record.pq_algorithm.removeprefix("ML-KEM-"))  # ML-KEM-768 -> 768
        if size in _KEMS:
            layouts[record.code] = (size, record.curve, ecdh_first)
    return layouts


GROUPS: dict[int, tuple[int, str | None, bool]] = _layouts()


class KemShare:
    """An ephemeral ML-KEM key (and ECDH key, for a hybrid) for one group."""

    def __init__(self, group: int) -> None:
        size, self.ecdh, self.ecdh_first = GROUPS[group]
        kind, self.ciphertext_length = _KEMS[size]
        self._kem = kind.generate()
        encapsulation_key = self._kem.public_key().public_bytes_raw()
        self._ecdh: Any = None
        ecdh_public = b""
        if self.ecdh == "x25519":
            self._ecdh = x25519.X25519PrivateKey.generate()
            ecdh_public = self._ecdh.public_key().public_bytes_raw()
        elif self.ecdh is not None:
            self._ecdh = ec.generate_private_key(catalog.ec_curve(self.ecdh))
            ecdh_public = self._ecdh.public_key().public_bytes(
                Encoding.X962, PublicFormat.UncompressedPoint)
        self.ecdh_length = len(ecdh_public)
        self.public = (ecdh_public + encapsulation_key if self.ecdh_first
                       else encapsulation_key + ecdh_public)

    def shared_secret(self, peer: bytes) -> bytes:
        """The joined secret from the server's key_exchange (ciphertext and ECDH share);
        ValueError when it is not the right size or does not decapsulate or exchange."""
        if len(peer) != self.ciphertext_length + self.ecdh_length:
            raise ValueError(f"key_exchange of {len(peer)} bytes, not "
                             f"{self.ciphertext_length + self.ecdh_length}")
        if self.ecdh_first:
            ecdh_part, ciphertext = peer[:self.ecdh_length], peer[self.ecdh_length:]
        else:
            ciphertext, ecdh_part = peer[:self.ciphertext_length], peer[self.ciphertext_length:]
        kem_secret = bytes(self._kem.decapsulate(ciphertext))
        if self._ecdh is None:
            return kem_secret
        if self.ecdh == "x25519":
            ecdh_secret = self._ecdh.exchange(x25519.X25519PublicKey.from_public_bytes(ecdh_part))
        else:
            point = ec.EllipticCurvePublicKey.from_encoded_point(self._ecdh.curve, ecdh_part)
            ecdh_secret = self._ecdh.exchange(ec.ECDH(), point)
        ecdh_secret = bytes(ecdh_secret)
        return ecdh_secret + kem_secret if self.ecdh_first else kem_secret + ecdh_secret
