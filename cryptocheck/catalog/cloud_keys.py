"""Key specs of cloud key services (``RSA_2048``, ``ECC_NIST_P256``, ``EC_prime256v1``,
``ML_DSA_65``): the public-key choice each names, from ``catalog/data/cloud-key-specs.toml``.

A configuration parser that reads one (Terraform's ``aws_kms_key``, ``aws_acm_certificate``)
looks it up here, so the spec's algorithm, size and curve are the catalogue's and not a table
in the parser; an EC spec's key size is its curve's order bits.

>>> key_spec("ECC_NIST_P384")
KeySpec(name='ECC_NIST_P384', algorithm='EC', key_size=384, curve='secp384r1')
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from types import MappingProxyType


@dataclass(frozen=True, slots=True)
class KeySpec:
    """A cloud key spec: the catalogue key ``algorithm``, ``key_size`` in bits (None where the
    algorithm's name fixes it, as for ML-DSA) and the catalogue ``curve`` of an EC spec."""

    name: str
    algorithm: str
    key_size: int | None
    curve: str | None


@cache
def _specs() -> Mapping[str, KeySpec]:
    from cryptocheck import catalog

    specs = {}
    for name, entry in catalog.data_toml("cloud-key-specs.toml")["key_spec"].items():
        size, curve = entry.get("key_size"), None
        if "curve" in entry:
            named = catalog.curve(entry["curve"])
            if named is None:
                raise ValueError(f"cloud-key-specs.toml: {name}: no curve {entry['curve']!r}")
            size, curve = named.order_bits, named.name
        specs[name] = KeySpec(name, entry["algorithm"], size, curve)
    return MappingProxyType(specs)


def key_spec(name: str) -> KeySpec | None:
    """The public-key spec called ``name`` (exactly as the provider spells it), or None (an
    unknown name, or a symmetric or HMAC spec, which chooses no public key)."""
    return _specs().get(name)


def key_specs() -> tuple[KeySpec, ...]:
    """Every key spec in the table, in its order."""
    return tuple(_specs().values())
