"""Representative usages built from the catalogue, for comparing policies (``policy diff``).

Each probe is a usage a real input could produce: every key algorithm at the sizes people
deploy, every named curve, every signature scheme with every hash it is used with, key
protection ciphers, and certificate validity cases. They are generated from the catalogue, so a
new curve or algorithm there is compared without editing this file.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from cryptocheck import catalog
from cryptocheck.model import CryptoUsage, Location
from cryptocheck.sources.files.validity import lifetime_days

RSA_SIZES = (512, 1024, 1536, 2048, 2056, 3072, 4096, 7680, 8192, 15360)
FFC_SIZES = (1024, 2048, 3072)
KEY_CONTEXTS = ("certificate.public-key", "public-key", "private-key")
_WHERE = Location(path="<probe>")


def _key(context: str, algorithm: str, size: int | None = None, curve: str | None = None) -> CryptoUsage:
    label = f"{algorithm}-{curve or size or ''}".rstrip("-")
    return CryptoUsage(
        asset_id=f"probe:{context}:{label}", context=context, algorithm=algorithm, location=_WHERE,
        key_size=size, curve=curve, strength=catalog.key_strength(algorithm, size, curve),
        quantum_vulnerable=catalog.quantum_vulnerable(algorithm),
        attributes=(("is_ca", False), ("self_signed", False)) if context.startswith("certificate") else (),
    )


def probe_usages() -> Iterator[CryptoUsage]:
    """Yield the probe usages in a fixed order."""
    for context in KEY_CONTEXTS:
        for size in RSA_SIZES:
            yield _key(context, "RSA", size)
            yield _key(context, "RSA-PSS", size)
        for size in FFC_SIZES:
            yield _key(context, "DSA", size)
        for curve in catalog.all_curves():
            if curve.oid is None:
                continue
            yield _key(context, "EC", curve.order_bits, curve.name)
        # Algorithms with a fixed strength (EdDSA, X25519/X448, ML-DSA, SLH-DSA, ML-KEM).
        for name, info in sorted(catalog.all_algorithms().items()):
            if info.strength is not None:
                yield _key(context, name)

    seen: set[tuple[str, str | None]] = set()
    for sig in catalog.all_signature_algorithms():
        hash_name = None if sig.hash == "params" else sig.hash
        hashes = ("SHA-256", "SHA-384", "SHA-512", "SHA-1") if sig.hash == "params" else (hash_name,)
        for h in hashes:
            if (sig.scheme, h) in seen:
                continue
            seen.add((sig.scheme, h))
            for context, self_signed in (("certificate.signature", False),
                                         ("certificate.self-signature", True)):
                strength = (catalog.hash_collision_strength(h) if h
                            else catalog.key_strength(sig.scheme))
                yield CryptoUsage(
                    asset_id=f"probe:{context}:{sig.scheme}-{h}", context=context,
                    algorithm=sig.scheme, location=_WHERE, hash=h, strength=strength,
                    quantum_vulnerable=catalog.quantum_vulnerable(sig.scheme), oid=sig.oid,
                    attributes=(("is_ca", self_signed), ("self_signed", self_signed),
                                ("signature_algorithm", sig.name)),
                )

    for name in ("none", "AES-128", "AES-256", "3TDEA", "2TDEA", "DES", "RC2", "RC4", "ChaCha20"):
        cipher = catalog.cipher(name)
        yield CryptoUsage(
            asset_id=f"probe:private-key.protection:{name}", context="private-key.protection",
            algorithm=cipher.name if cipher else name, location=_WHERE,
            strength=0 if name == "none" else (cipher.strength if cipher else None),
            attributes=(("encrypted", name != "none"),),
        )

    utc = UTC
    validity = (
        ("subscriber-90d-2026", False, datetime(2026, 6, 1, tzinfo=utc), 90),
        ("subscriber-397d-2025", False, datetime(2025, 6, 1, tzinfo=utc), 397),
        ("subscriber-825d-2019", False, datetime(2019, 1, 1, tzinfo=utc), 825),
        ("subscriber-398d-2026-06", False, datetime(2026, 6, 1, tzinfo=utc), 398),
        ("ca-20y-2020", True, datetime(2020, 1, 1, tzinfo=utc), 7305),
        ("expired-2020", False, datetime(2019, 1, 1, tzinfo=utc), 365),
        ("not-yet-valid-2035", False, datetime(2035, 1, 1, tzinfo=utc), 90),
    )
    for label, is_ca, start, days in validity:
        end = start + timedelta(days=days) - timedelta(seconds=1)
        yield CryptoUsage(
            asset_id=f"probe:certificate.validity:{label}", context="certificate.validity",
            algorithm="validity-period", location=_WHERE,
            attributes=(("is_ca", is_ca), ("lifetime_days", lifetime_days(start, end)),
                        ("not_after", end), ("not_before", start), ("self_signed", is_ca)),
        )

