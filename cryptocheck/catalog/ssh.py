"""SSH algorithm names (IANA SSH registry and OpenSSH's ``@openssh.com`` names), decomposed.

Each name maps to its canonical parts so that policies judge an SSH choice like its TLS and
X.509 equivalents: ``diffie-hellman-group1-sha1`` is 1024-bit finite-field DH with SHA-1,
``ecdsa-sha2-nistp256`` an EC key on secp256r1 signing with SHA-256, ``aes128-ctr`` AES-128
in CTR mode, ``mlkem768x25519-sha256`` a post-quantum hybrid. The table is
``catalog/data/ssh.toml``, which says where each name comes from.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from types import MappingProxyType
from typing import Any

from cryptocheck import catalog

KINDS = ("kex", "host-key", "cipher", "mac", "compression")
_TABLE = {"kex": "kex", "host-key": "host_key", "cipher": "cipher", "mac": "mac",
          "compression": "compression"}


@dataclass(frozen=True, slots=True)
class SshAlgorithm:
    """One SSH algorithm name and its canonical parts (see ssh.toml for each field).

    ``kind`` is one of :data:`KINDS`. ``family`` is the key-exchange family (kex: ``DH``,
    ``DH-GEX``, ``ECDH``, ``RSA``, ``PQ-hybrid``, ``marker``...), the key algorithm
    (host-key: ``RSA``, ``EC``, ``Ed25519``...), the cipher (``AES``, ``3DES``...) or the
    MAC construction (``HMAC``, ``UMAC``, ``AEAD``, ``none``). ``strength`` is the classical
    security strength where the name alone fixes it; None where it depends on a key or
    cannot be determined.
    """

    kind: str
    name: str
    source: str
    family: str | None = None
    key_size: int | None = None
    curve: str | None = None
    hash: str | None = None
    group: str | None = None
    pq: str | None = None
    mode: str | None = None
    block_size: int | None = None
    tag_bits: int | None = None
    etm: bool = False
    aead: bool = False
    cert: bool = False
    strength: int | None = None

    @property
    def quantum_vulnerable(self) -> bool | None:
        """Whether a quantum computer breaks it (IR 8547): classical key exchanges and
        signatures yes, hybrids with a PQ KEM no; None for symmetric parts and markers."""
        if self.kind == "kex":
            if self.family == "marker":
                return None
            return self.pq is None
        if self.kind == "host-key":
            if self.family in (None, "none"):
                return None
            return catalog.quantum_vulnerable(self.family) if self.family != "XMSS" else False
        return None


def _load_table() -> dict[str, Any]:
    from cryptocheck.catalog import data_toml

    return data_toml("ssh.toml")


def _make(kind: str, name: str, entry: Mapping[str, Any]) -> SshAlgorithm:
    family = entry.get("kx") or entry.get("key") or entry.get("cipher") or entry.get("mac")
    curve_name = entry.get("curve")
    strength = entry.get("strength")
    if strength is None and curve_name and kind == "kex":
        found = catalog.curve(curve_name)
        strength = found.strength if found else None
    return SshAlgorithm(
        kind=kind, name=name, source=entry["source"], family=family,
        key_size=entry.get("key_size"), curve=curve_name, hash=entry.get("hash"),
        group=entry.get("group"), pq=entry.get("pq"), mode=entry.get("mode"),
        block_size=entry.get("block_size"), tag_bits=entry.get("tag_bits"),
        etm=bool(entry.get("etm", False)), aead=bool(entry.get("aead", False)),
        cert=bool(entry.get("cert", False)), strength=strength,
    )


@cache
def _algorithms() -> Mapping[str, Mapping[str, SshAlgorithm]]:
    data = _load_table()
    tables: dict[str, Mapping[str, SshAlgorithm]] = {}
    for kind in KINDS:
        entries = data.get(_TABLE[kind], {})
        tables[kind] = MappingProxyType(
            {name: _make(kind, name, entry) for name, entry in entries.items()})
    return MappingProxyType(tables)


def algorithms(kind: str) -> Mapping[str, SshAlgorithm]:
    """Name -> algorithm for every name of ``kind`` (one of :data:`KINDS`)."""
    return _algorithms()[kind]


def algorithm(kind: str, name: str) -> SshAlgorithm | None:
    """The algorithm ``name`` of ``kind``, or None when the catalogue does not know it.

    GSS-API key exchange names carry a base64 mechanism OID suffix
    (``gss-group14-sha256-toWM5Slw5Ew8Mqkay+al2g==``, RFC 4462 §2.2): they resolve by their
    prefix. An ``ecdh-sha2-*`` name keeps its curve OID as written (RFC 5656 §6.3).

    >>> algorithm("kex", "diffie-hellman-group1-sha1").key_size
    1024
    """
    table = _algorithms().get(kind)
    if table is None:
        return None
    found = table.get(name)
    if found is None and kind == "kex" and name.startswith("gss-"):
        prefix = name[: name.rfind("-") + 1]
        found = table.get(prefix)
    return found


def known_names() -> dict[str, frozenset[str]]:
    """Every SSH name (kind ``algorithm``) and the curves and hashes the SSH names use."""
    names: set[str] = set()
    curves: set[str] = set()
    hashes: set[str] = set()
    for kind in KINDS:
        for alg in algorithms(kind).values():
            names.add(alg.name)
            if alg.curve:
                found = catalog.curve(alg.curve)
                curves.add(found.name if found else alg.curve)
            if alg.hash:
                hashes.add(alg.hash)
    return {"algorithm": frozenset(names), "curve": frozenset(curves),
            "hash": frozenset(hashes)}
