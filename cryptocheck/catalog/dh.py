"""Finite-field Diffie-Hellman groups: the well-known primes, by name and by value.

Why one table: a DHE prime served by a TLS server, a ``dhparam`` file named in an nginx
configuration, a TLS 1.3 ffdhe key share and an SSH ``diffie-hellman-group14-sha256`` exchange
all meet the same few primes. Naming them in one place means a prime is ``modp2048`` for TLS,
configuration and SSH alike. The table is ``catalog/data/dh-groups.toml``, which says where
each prime is published.

>>> by_prime(group("ffdhe2048").prime).name
'ffdhe2048'
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from types import MappingProxyType


@dataclass(frozen=True, slots=True)
class DhGroup:
    """A named finite-field group: its ``prime`` and ``generator``, the prime's size in
    ``bits``, and where it is published (``source``, ``section``)."""

    name: str
    bits: int
    prime: int
    generator: int
    source: str
    section: str
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Table:
    groups: tuple[DhGroup, ...]
    by_name: Mapping[str, DhGroup]  # lower-case name and aliases
    by_prime: Mapping[int, DhGroup]


@cache
def _table() -> _Table:
    from cryptocheck.catalog import data_toml

    groups = []
    by_name: dict[str, DhGroup] = {}
    by_prime: dict[int, DhGroup] = {}
    for name, entry in data_toml("dh-groups.toml")["group"].items():
        prime = int(entry["prime"], 16)
        if prime.bit_length() != entry["bits"]:
            raise ValueError(f"catalogue: DH group {name} has a prime of "
                             f"{prime.bit_length()} bits, not {entry['bits']}")
        found = DhGroup(name, entry["bits"], prime, entry["generator"], entry["source"],
                        entry["section"], tuple(entry.get("aliases", ())))
        for key in (name, *found.aliases):
            if key.lower() in by_name:
                raise ValueError(f"catalogue: DH group name {key!r} names two groups")
            by_name[key.lower()] = found
        if prime in by_prime:
            raise ValueError(f"catalogue: DH groups {by_prime[prime].name} and {name} "
                             "have the same prime")
        by_prime[prime] = found
        groups.append(found)
    return _Table(tuple(groups), MappingProxyType(by_name), MappingProxyType(by_prime))


def groups() -> tuple[DhGroup, ...]:
    """Every named group, in the order of the data file."""
    return _table().groups


def group(name: str) -> DhGroup | None:
    """The group called ``name`` or one of its aliases (any case), or None.

    >>> group("modp_2048").name
    'modp2048'
    """
    return _table().by_name.get(name.lower())


def by_prime(prime: int | bytes) -> DhGroup | None:
    """The named group whose prime is ``prime`` (an integer, or big-endian bytes with or
    without leading zeros), or None for a custom prime.

    >>> by_prime(7) is None
    True
    """
    value = int.from_bytes(prime, "big") if isinstance(prime, bytes) else prime
    return _table().by_prime.get(value)


def group_name(prime: int | bytes) -> str | None:
    """The name of the named group with ``prime`` (``ffdhe2048``, ``modp1024``), or None."""
    found = by_prime(prime)
    return found.name if found else None
