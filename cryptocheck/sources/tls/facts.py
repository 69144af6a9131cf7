"""What the probes of one endpoint find, and the one probe they are all made of.

The catalogue's suites, groups and signature schemes as offered in ClientHellos;
:class:`EndpointFacts` (and :class:`VersionResult` per protocol version), which every probe
adds to; :class:`ProbeContext`, what a probe record's ``run`` is given; and the helpers that
build a hello, send it and read which suite the server chose. The probes themselves are the
modules of :mod:`cryptocheck.sources.tls.probes`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from cryptocheck.catalog import tls as tls_catalog
from cryptocheck.model import CryptoUsage
from cryptocheck.sources.tls import wire
from cryptocheck.sources.tls.connection import Endpoint, ProbeError
from cryptocheck.sources.tls.flight import exchange

# The versions a ClientHello can name, by standard name -> wire version (the catalogue's
# protocols table); SSLv2 is left out, as it has its own record format (flight.sslv2_exchange).
VERSIONS: Mapping[str, int] = MappingProxyType(
    {name: version for name, version in tls_catalog.PROTOCOL_VERSIONS.items()
     if name != "SSLv2"})
LEGACY_SUITES = tuple(s.code for s in tls_catalog.cipher_suites() if not s.tls13 and not s.sslv2)
TLS13_SUITES = tuple(s.code for s in tls_catalog.cipher_suites() if s.tls13)
# RFC 7919 makes a TLS 1.2 server that knows ffdhe refuse DHE with its own prime when the
# client offers ffdhe groups: offering them would hide a weak custom prime, so <= 1.2 hellos
# carry elliptic-curve groups only.
LEGACY_GROUPS = tuple(g.code for g in tls_catalog.groups() if g.kind in ("ec", "ecx"))
TLS13_GROUPS = tuple(g.code for g in tls_catalog.groups())
SCHEMES = tuple(s.code for s in tls_catalog.signature_schemes())


@dataclass
class VersionResult:
    accepted: bool | None = False
    suites: list[int] = field(default_factory=list)
    server_order: bool | None = None
    anomaly: str | None = None
    version_refused: bool = False  # a protocol_version alert: the version itself is refused


@dataclass
class EndpointFacts:
    """What the probes of one endpoint found (turned into asset details by the caller)."""

    versions: dict[str, VersionResult] = field(default_factory=dict)
    groups: dict[str, list[int]] = field(default_factory=dict)
    dh_primes: dict[int, bytes] = field(default_factory=dict)  # bits -> prime
    schemes: dict[str, list[int]] = field(default_factory=dict)
    chains: list[list[bytes]] = field(default_factory=list)
    ocsp_stapled: bool = False
    answered_tls: bool = False
    sslv2_certificate: bytes | None = None
    notes: list[str] = field(default_factory=list)
    chain_fetched: bool = False  # a full handshake for the chain was made (or tried)
    group_order: dict[str, bool] = field(default_factory=dict)  # server enforces its order
    # The answer to the first hello of a version, for the enumeration that goes on from it.
    hellos: dict[str, wire.ServerFlight] = field(default_factory=dict)
    tls13_seen: bool = False  # a HelloRetryRequest showed TLS 1.3 (set as soon as seen)
    # What a probe reports under a detail key of its own (a plain JSON value): the endpoint
    # asset's details take it as it is, so a new probe needs no field here and no line in
    # endpoint.py. A key the asset already has is a bug in the probe (ValueError there).
    reported: dict[str, Any] = field(default_factory=dict)

    def observe_chain(self, chain: list[bytes], stapled: bool) -> None:
        """A chain served (kept when its leaf is new: a server may have several keys)."""
        if chain and all(chain[0] != c[0] for c in self.chains):
            self.chains.append(list(chain))
        self.ocsp_stapled |= stapled

    def observe(self, protocol: str, flight: wire.ServerFlight) -> None:
        """Record what a flight reveals beyond the chosen suite."""
        self.observe_chain(flight.certificates, flight.ocsp_stapled)
        kex = flight.key_exchange
        if kex is None:
            return
        if kex.group is not None:
            add_once(self.groups.setdefault(protocol, []), kex.group)
        if kex.dh_prime:
            self.dh_primes.setdefault(len(kex.dh_prime) * 8 - _leading_zero_bits(kex.dh_prime),
                                      kex.dh_prime)
        if kex.signature_scheme is not None:
            add_once(self.schemes.setdefault(protocol, []), kex.signature_scheme)


@dataclass(frozen=True)
class ProbeContext:
    """What a TLS probe's ``run`` and ``when`` are given: the endpoint, the facts found so
    far, and in compliance mode the caller's predicate (None in a full scan)."""

    endpoint: Endpoint
    facts: EndpointFacts
    approves: Callable[[CryptoUsage], bool] | None = None

    def version(self, protocol: str) -> VersionResult:
        """The result of ``protocol`` so far (not accepted when not probed)."""
        return self.facts.versions.get(protocol) or VersionResult()


# A ProbeError for these reasons means the endpoint cannot be scanned at all: no probe
# tolerates it. Any other (a reset, a timeout, a malformed answer) a guarded probe takes as
# "this was not accepted" once the endpoint is known to answer (some servers reset
# connections for what they do not speak).
FATAL_REASONS = ("refused", "unreachable", "starttls-failed")


async def guarded(step: Awaitable[object]) -> None:
    """Run ``step``; a ProbeError other than :data:`FATAL_REASONS` ends it quietly."""
    try:
        await step
    except ProbeError as exc:
        if exc.reason in FATAL_REASONS:
            raise


async def guarded_version(step: Awaitable[VersionResult]) -> VersionResult:
    """A version probe whose network failure means 'not accepted', with the reason noted."""
    try:
        return await step
    except ProbeError as exc:
        if exc.reason in FATAL_REASONS:
            raise
        return VersionResult(anomaly=f"{exc.reason}: {exc.message}")


def kx_suites(accepted: list[int] | tuple[int, ...], kx: tuple[str, ...]) -> list[int]:
    """The suites of ``accepted`` whose key exchange is one of ``kx``."""
    out = []
    for code in accepted:
        suite = tls_catalog.suite(code)
        if suite is not None and suite.kx in kx:
            out.append(code)
    return out


def add_once(items: list[int], item: int) -> None:
    """Append ``item`` unless listed: lists of codes keep the order things were found in."""
    if item not in items:
        items.append(item)


def _leading_zero_bits(data: bytes) -> int:
    return 8 - data[0].bit_length() if data else 0


def hello_spec(ep: Endpoint, version: int, suites: list[int] | tuple[int, ...],
               groups: tuple[int, ...] | list[int] | None = None,
               schemes: tuple[int, ...] | list[int] = SCHEMES) -> wire.ClientHelloSpec:
    """A ClientHello for ``ep`` offering ``suites`` (and by default every group the version
    may be offered, and every signature scheme)."""
    if groups is None:
        groups = TLS13_GROUPS if version >= 0x0304 else LEGACY_GROUPS
    return wire.ClientHelloSpec(version=version, cipher_suites=tuple(suites),
                                server_name=ep.sni, groups=tuple(groups),
                                signature_schemes=tuple(schemes))


def chosen_suite(flight: wire.ServerFlight, version: int,
                 offered: list[int] | tuple[int, ...]) -> int | None:
    """The suite the server chose in ``version`` among ``offered``, or None (refused)."""
    hello = flight.hello
    if hello is None or hello.version != version or hello.cipher_suite not in offered:
        return None
    return hello.cipher_suite


async def send_hello(ep: Endpoint, facts: EndpointFacts, spec: wire.ClientHelloSpec
                     ) -> wire.ServerFlight:
    """Send one ClientHello and read the first flight, noting that the endpoint answers TLS
    (a ServerHello or an alert)."""
    flight = await exchange(ep, spec)
    if flight.hello is not None or flight.alert is not None:
        facts.answered_tls = True
    return flight
