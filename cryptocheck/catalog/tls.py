"""The TLS catalogue: IANA cipher suites (and SSLv2 cipher kinds), groups and signature schemes.

Loaded once from ``catalog/data/tls.toml`` (generated from the IANA registries by
``tests/fixtures/tls/make_tls_catalog.py``; the file says where each table comes from) into
immutable lookups. Every TLS source (the live scanner, configuration parsers) maps what it
reads through here, so a suite named ``ECDHE-RSA-AES128-GCM-SHA256`` in an nginx file and
codepoint ``0xC02F`` on the wire are the same :class:`CipherSuite`.

>>> suite(0xC02F).name
'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256'
>>> suite_by_openssl_name("ECDHE-RSA-AES128-GCM-SHA256").code == 0xC02F
True
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from types import MappingProxyType
from typing import Any


def _protocol_table() -> tuple[tuple[str, int, tuple[str, ...]], ...]:
    from cryptocheck.catalog import data_toml

    return tuple((p["name"], p["version"], tuple(p.get("aliases", ())))
                 for p in data_toml("protocols.toml")["protocol"])


_PROTOCOL_ROWS = _protocol_table()
# The protocol versions by their standard names, oldest first (catalog/data/protocols.toml).
PROTOCOLS: tuple[str, ...] = tuple(name for name, _, _ in _PROTOCOL_ROWS)
# Wire versions (ProtocolVersion) of the protocols; SSLv2 has its own record format.
PROTOCOL_VERSIONS: Mapping[str, int] = MappingProxyType(
    {name: version for name, version, _ in _PROTOCOL_ROWS})
_PROTOCOL_NAMES: Mapping[str, str] = MappingProxyType(
    {key.lower(): name for name, _, aliases in _PROTOCOL_ROWS for key in (name, *aliases)})


def protocol(text: str) -> str | None:
    """The standard name of a protocol version from its name or any spelling configuration
    files use (any case, surrounding blanks ignored), or None.

    >>> protocol("TLS1_2"), protocol("tlsv1"), protocol("TLSv1.3"), protocol("QUIC")
    ('TLSv1.2', 'TLSv1.0', 'TLSv1.3', None)
    """
    return _PROTOCOL_NAMES.get(text.strip().lower())

# Effective strength in bits of bulk ciphers whose key length overstates it (NIST SP 800-57
# Part 1 Rev 5 Table 2 note for 3TDEA; RC4 is prohibited, RFC 7465, and counted as 0).
_BULK_STRENGTH = {"NULL": 0, "RC4": 0, "3DES": 112}


@dataclass(frozen=True, slots=True)
class CipherSuite:
    """One cipher suite, decomposed into its parts (docs/contexts.md ``tls.cipher-suite``).

    ``code`` is the 2-byte codepoint (3-byte CIPHER-KIND for SSLv2 suites, ``sslv2`` True);
    ``name`` the IANA name; ``openssl_name`` OpenSSL's name where OpenSSL has (or, when
    ``openssl_historic``, had) one. For TLS 1.3 suites ``kx`` and ``au`` are ``any``.
    ``key_size`` is the bulk cipher key in bits (40 for export ciphers, 168 for 3DES).
    """

    code: int
    name: str
    openssl_name: str | None
    tls13: bool
    kx: str
    au: str
    cipher: str
    key_size: int
    mode: str
    mac: str
    aead: bool
    export: bool
    sslv2: bool = False
    openssl_historic: bool = False

    @property
    def strength(self) -> int:
        """Security strength in bits of the bulk encryption (0 for NULL and RC4)."""
        if self.export:
            return min(self.key_size, 40)
        return _BULK_STRENGTH.get(self.cipher, self.key_size)

    @property
    def forward_secret(self) -> bool:
        """Whether the key exchange is ephemeral (TLS 1.3 always is)."""
        return self.tls13 or self.kx in ("DHE", "ECDHE")

    def protocols(self) -> tuple[str, ...]:
        """The protocol versions this suite can be negotiated in."""
        if self.sslv2:
            return ("SSLv2",)
        if self.tls13:
            return ("TLSv1.3",)
        if self.aead or self.mac in ("SHA256", "SHA384"):
            return ("TLSv1.2",)  # RFC 5246: suites with SHA-256/384 PRF or AEAD are 1.2-only
        return ("SSLv3", "TLSv1.0", "TLSv1.1", "TLSv1.2")


@dataclass(frozen=True, slots=True)
class Group:
    """A TLS supported group (named curve, finite-field group, ML-KEM or a hybrid).

    ``kind``: ``ec``, ``ecx``, ``ff``, ``kem``, ``hybrid``, ``gost``, ``sm2``. ``key_size``
    is the field (or prime) size in bits, or the ML-KEM parameter number for pure ML-KEM;
    ``curve`` the catalogue curve name for (EC)DH and hybrids; ``pq_algorithm`` the ML-KEM
    parameter set of ``kem``/``hybrid`` groups; ``strength`` the classical strength.
    """

    code: int
    name: str
    kind: str
    key_size: int
    curve: str | None
    quantum_safe: bool
    pq_algorithm: str | None = None
    strength: int | None = None
    obsolete: bool = False


@dataclass(frozen=True, slots=True)
class SignatureScheme:
    """A TLS SignatureScheme (TLS 1.3) or SignatureAndHashAlgorithm pair (TLS 1.2).

    ``algorithm`` is the signature family as in certificate usages (``RSA``, ``RSA-PSS``,
    ``ECDSA``, ``DSA``, ``Ed25519``, ``ML-DSA-65``...), ``hash`` the catalogue hash name
    (None where the scheme names none), ``registered`` False for TLS 1.2 pairs the IANA
    SignatureScheme registry does not list.
    """

    code: int
    name: str
    algorithm: str
    hash: str | None
    curve: str | None = None
    registered: bool = True


@dataclass(frozen=True)
class _Tables:
    suites: tuple[CipherSuite, ...]
    suites_by_key: Mapping[str | int, CipherSuite]
    suites_by_openssl: Mapping[str, CipherSuite]
    groups: tuple[Group, ...]
    groups_by_key: Mapping[str | int, Group]
    schemes: tuple[SignatureScheme, ...]
    schemes_by_key: Mapping[str | int, SignatureScheme]


def _group_strength(entry: Mapping[str, Any]) -> int | None:
    from cryptocheck.catalog import (
        key_strength,  # the package imports this module lazily; no cycle at load
    )

    kind = entry["kind"]
    if kind == "ff":
        return key_strength("DH", entry["key_size"])
    if kind == "kem":
        return key_strength(entry["pq_algorithm"])
    # Curves the X.509 catalogue lacks (sect193r1...) and GOST groups: by field size.
    return (key_strength("EC", curve_name=entry["curve"]) if entry.get("curve") else None) \
        or key_strength("EC", entry["key_size"])


def _index(items: Any, key: str) -> dict[str | int, Any]:
    index: dict[str | int, Any] = {}
    for item in items:
        for alias in (item.code, item.name, item.name.lower()):
            if alias in index and index[alias] != item:
                raise ValueError(f"TLS catalogue: {alias!r} names two {key}s")
            index[alias] = item
    return index


Row = tuple[Any, ...]


def _rows() -> tuple[tuple[Row, ...], tuple[Row, ...], tuple[Row, ...]]:
    """The three tables as plain rows (the dataclasses' fields in order), from tls.toml."""
    from cryptocheck.catalog import data_toml

    data = data_toml("tls.toml")
    suites = tuple(
        (s["code"], s["name"], s.get("openssl_name"), s["tls13"], s["kx"], s["au"], s["cipher"],
         s["key_size"], s["mode"], s["mac"], s["aead"], s["export"], s.get("sslv2", False),
         s.get("openssl_historic", False))
        for s in data["suite"]
    )
    groups = tuple(
        (g["code"], g["name"], g["kind"], g["key_size"], g.get("curve"),
         g.get("quantum_safe", False), g.get("pq_algorithm"), _group_strength(g),
         g.get("obsolete", False))
        for g in data["group"]
    )
    schemes = tuple(
        (s["code"], s["name"], s["algorithm"], s.get("hash"), s.get("curve"),
         s.get("registered", True))
        for s in data["scheme"]
    )
    return suites, groups, schemes


@cache
def _tables() -> _Tables:
    suite_rows, group_rows, scheme_rows = _rows()
    suites = tuple(CipherSuite(*row) for row in suite_rows)
    by_openssl: dict[str, CipherSuite] = {}
    for s in suites:
        if s.openssl_name:
            if s.openssl_name in by_openssl:
                raise ValueError(f"TLS catalogue: OpenSSL name {s.openssl_name} names two suites")
            by_openssl[s.openssl_name] = s
    groups = tuple(Group(*row) for row in group_rows)
    schemes = tuple(SignatureScheme(*row) for row in scheme_rows)
    return _Tables(
        suites=suites, suites_by_key=MappingProxyType(_index(suites, "suite")),
        suites_by_openssl=MappingProxyType(by_openssl),
        groups=groups, groups_by_key=MappingProxyType(_index(groups, "group")),
        schemes=schemes, schemes_by_key=MappingProxyType(_index(schemes, "scheme")),
    )


def _lookup(table: Mapping[str | int, Any], name_or_code: str | int) -> Any:
    if isinstance(name_or_code, int):
        return table.get(name_or_code)
    return table.get(name_or_code) or table.get(name_or_code.lower())


def cipher_suites() -> tuple[CipherSuite, ...]:
    """Every cipher suite of the IANA registry (registry order), then the SSLv2 kinds."""
    return _tables().suites


def suite(name_or_code: str | int) -> CipherSuite | None:
    """The suite with this IANA name (any case) or codepoint, or None.

    >>> suite("TLS_AES_128_GCM_SHA256").code
    4865
    """
    found: CipherSuite | None = _lookup(_tables().suites_by_key, name_or_code)
    return found


def suite_by_openssl_name(name: str) -> CipherSuite | None:
    """The suite OpenSSL calls ``name`` (``ECDHE-RSA-AES128-GCM-SHA256``; historic names such
    as ``DES-CBC3-SHA`` too), or None. TLS 1.3 suites have their IANA name in OpenSSL."""
    tables = _tables()
    found = tables.suites_by_openssl.get(name)
    if found is None:
        found = tables.suites_by_key.get(name)
    return found


def groups() -> tuple[Group, ...]:
    """Every supported group in the catalogue, by codepoint."""
    return _tables().groups


def group(name_or_code: str | int) -> Group | None:
    """The group with this IANA name (any case) or codepoint, or None.

    >>> group(0x11EC).name
    'X25519MLKEM768'
    """
    found: Group | None = _lookup(_tables().groups_by_key, name_or_code)
    return found


def group_by_alias(text: str) -> Group | None:
    """The group with this IANA name (any case) or, for a named curve, any name of the curve
    (``prime256v1``, ``P-256``, ``nistp256``: catalog/data/x509.toml), or None.

    >>> group_by_alias("prime256v1").name, group_by_alias("X25519").name
    ('secp256r1', 'x25519')
    """
    key = text.strip()
    found = group(key)
    if found is None:
        from cryptocheck import catalog

        named = catalog.curve(key)
        found = group(named.name) if named is not None else None
    return found


def signature_schemes() -> tuple[SignatureScheme, ...]:
    """Every signature scheme in the catalogue, by codepoint."""
    return _tables().schemes


def signature_scheme(name_or_code: str | int) -> SignatureScheme | None:
    """The signature scheme with this name (any case) or codepoint, or None."""
    found: SignatureScheme | None = _lookup(_tables().schemes_by_key, name_or_code)
    return found


def known_names() -> dict[str, frozenset[str]]:
    """Names a policy may use (kind -> names): suites, protocols, key exchanges, groups,
    signature schemes as ``algorithm``; group curves as ``curve``; scheme hashes as ``hash``."""
    tables = _tables()
    algorithms = (
        {s.name for s in tables.suites} | set(PROTOCOLS) | {g.name for g in tables.groups}
        | {s.name for s in tables.schemes} | {s.kx for s in tables.suites if s.kx != "any"}
        | {"DH"}
    )
    curves = {g.curve for g in tables.groups if g.curve}
    hashes = {s.hash for s in tables.schemes if s.hash}
    return {"algorithm": frozenset(algorithms), "curve": frozenset(curves),
            "hash": frozenset(hashes)}
