"""Enumerate what one TLS endpoint negotiates, with as few connections as possible.

Cipher suites, per protocol version, by iterative removal: offer every suite of the IANA
registry, record the server's choice, remove it, offer the rest, until the server refuses —
(accepted + 1) connections per version, not one per suite. When a server chooses by its own
preference, the order of its choices *is* its preference order; one more connection offering
the accepted suites reversed tells whether it does.

TLS 1.3 groups come with the suites: the ClientHello carries an empty key_share, so the
server answers with a HelloRetryRequest naming the group it wants (and the suite) without any
key material being exchanged; the chosen group is removed too. ECDHE groups for TLS <= 1.2
and the signature schemes of TLS 1.2 are read from the ServerKeyExchange the same way; the
DHE prime size comes from the ServerKeyExchange of any DHE suite the server picked.

TLS 1.3 signature schemes are in the CertificateVerify, which is encrypted: :mod:`.tls13` makes
the handshake (a real key share, the key schedule, record decryption) as far as that message,
and the schemes are removed one by one as for TLS 1.2. Its first handshake gives the TLS 1.3
chain and OCSP stapling too (pyOpenSSL is the fallback where that handshake cannot be made).

``compliance`` mode asks only what the policy needs: per version, the suites (groups,
signature schemes) the policy does not approve, so a compliant server is checked in a
handful of connections.
"""

from __future__ import annotations

import asyncio
import importlib
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Literal

from ..catalog import tls as tls_catalog
from ..model import CryptoUsage
from . import usages, wire
from .connection import Endpoint, ProbeError, exchange, sslv2_exchange

VERSIONS = {"SSLv3": 0x0300, "TLSv1.0": 0x0301, "TLSv1.1": 0x0302, "TLSv1.2": 0x0303,
            "TLSv1.3": 0x0304}
LEGACY_SUITES = tuple(s.code for s in tls_catalog.cipher_suites() if not s.tls13 and not s.sslv2)
TLS13_SUITES = tuple(s.code for s in tls_catalog.cipher_suites() if s.tls13)
# RFC 7919 makes a TLS 1.2 server that knows ffdhe refuse DHE with its own prime when the
# client offers ffdhe groups: offering them would hide a weak custom prime, so <= 1.2 hellos
# carry elliptic-curve groups only.
LEGACY_GROUPS = tuple(g.code for g in tls_catalog.groups() if g.kind in ("ec", "ecx"))
TLS13_GROUPS = tuple(g.code for g in tls_catalog.groups())
SCHEMES = tuple(s.code for s in tls_catalog.signature_schemes())

Approves = Callable[[CryptoUsage], bool]


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
            _add(self.groups.setdefault(protocol, []), kex.group)
        if kex.dh_prime:
            self.dh_primes.setdefault(len(kex.dh_prime) * 8 - _leading_zero_bits(kex.dh_prime),
                                      kex.dh_prime)
        if kex.signature_scheme is not None:
            _add(self.schemes.setdefault(protocol, []), kex.signature_scheme)


def _add(items: list[int], item: int) -> None:
    if item not in items:
        items.append(item)


def _leading_zero_bits(data: bytes) -> int:
    return 8 - data[0].bit_length() if data else 0


def _spec(ep: Endpoint, version: int, suites: list[int] | tuple[int, ...],
          groups: tuple[int, ...] | list[int] | None = None,
          schemes: tuple[int, ...] | list[int] = SCHEMES) -> wire.ClientHelloSpec:
    if groups is None:
        groups = TLS13_GROUPS if version >= 0x0304 else LEGACY_GROUPS
    return wire.ClientHelloSpec(version=version, cipher_suites=tuple(suites),
                                server_name=ep.sni, groups=tuple(groups),
                                signature_schemes=tuple(schemes))


def _chosen(flight: wire.ServerFlight, version: int, offered: list[int] | tuple[int, ...]
            ) -> int | None:
    """The suite the server chose in ``version`` among ``offered``, or None (refused)."""
    hello = flight.hello
    if hello is None or hello.version != version or hello.cipher_suite not in offered:
        return None
    return hello.cipher_suite


async def _probe(ep: Endpoint, facts: EndpointFacts, spec: wire.ClientHelloSpec
                 ) -> wire.ServerFlight:
    flight = await exchange(ep, spec)
    if flight.hello is not None or flight.alert is not None:
        facts.answered_tls = True
    return flight


async def enumerate_legacy(ep: Endpoint, facts: EndpointFacts, protocol: str,
                           offer: list[int], stop_after_first: bool = False,
                           first: wire.ServerFlight | None = None) -> VersionResult:
    """Iterative removal for SSLv3 .. TLS 1.2: the suites accepted, in the server's order.
    ``first`` is the answer to a hello offering all of ``offer`` already sent."""
    version = VERSIONS[protocol]
    result = VersionResult()
    remaining = list(offer)
    while remaining:
        if first is not None:
            flight, first = first, None
        else:
            flight = await _probe(ep, facts, _spec(ep, version, remaining))
        choice = _chosen(flight, version, remaining)
        if choice is None:
            if flight.hello is not None and flight.hello.version == version:
                result.anomaly = (f"server chose 0x{flight.hello.cipher_suite:04X}, "
                                  "which was not offered")
            break
        result.accepted = True
        result.suites.append(choice)
        remaining.remove(choice)
        facts.observe(protocol, flight)
        if stop_after_first:
            break
    return result


async def server_order(ep: Endpoint, facts: EndpointFacts, protocol: str,
                       accepted: list[int]) -> bool | None:
    """Whether the server picks by its own preference: offer the accepted suites reversed."""
    if len(accepted) < 2:
        return None
    version = VERSIONS[protocol]
    offered = list(reversed(accepted))
    flight = await _probe(ep, facts, _spec(ep, version, offered))
    choice = _chosen(flight, version, offered)
    if choice is None:
        return None
    return choice != offered[0]


async def group_order(ep: Endpoint, facts: EndpointFacts, protocol: str,
                      suites: list[int] | tuple[int, ...]) -> None:
    """Whether the server picks groups by its own preference (then ``facts.groups`` lists
    them in that order): one hello offering the groups found, reversed."""
    found = facts.groups.get(protocol, [])
    if len(found) < 2:
        return
    version = VERSIONS[protocol]
    offered = list(reversed(found))
    flight = await _probe(ep, facts, _spec(ep, version, suites, offered))
    if _chosen(flight, version, suites) is None or flight.hello is None:
        return
    if version >= 0x0304:
        chosen = flight.hello.selected_group
    else:
        chosen = flight.key_exchange.group if flight.key_exchange else None
    if chosen in offered:
        facts.group_order[protocol] = chosen != offered[0]


async def enumerate_tls13(ep: Endpoint, facts: EndpointFacts, suites: tuple[int, ...],
                          groups: tuple[int, ...], want_suites: bool = True,
                          max_groups: int | None = None,
                          accepted: asyncio.Event | None = None) -> VersionResult:
    """Suites and groups of TLS 1.3 together: each HelloRetryRequest names both.
    ``accepted`` is set as soon as the server is seen to speak TLS 1.3."""
    result = VersionResult()
    found_groups = facts.groups.setdefault("TLSv1.3", [])
    remaining_s, remaining_g = list(suites), [g for g in groups if g not in found_groups]
    suites_done, groups_done = not want_suites, not remaining_g
    while not (suites_done and groups_done):
        offer_s = remaining_s if not suites_done else list(TLS13_SUITES)
        offer_g = remaining_g if not groups_done else list(TLS13_GROUPS)
        flight = await _probe(ep, facts, _spec(ep, 0x0304, offer_s, offer_g))
        choice = _chosen(flight, 0x0304, offer_s)
        group = flight.hello.selected_group if flight.hello else None
        if choice is not None and group in offer_g:
            result.accepted = True
            if accepted is not None:
                accepted.set()
            if not suites_done:
                result.suites.append(choice)
                remaining_s.remove(choice)
                suites_done = not remaining_s
            if not groups_done:
                assert group is not None
                _add(found_groups, group)
                remaining_g.remove(group)
                groups_done = not remaining_g or (
                    max_groups is not None and len(found_groups) >= max_groups)
            continue
        if choice is not None:  # a group we did not offer: stop asking about groups
            result.anomaly = "server selected a group that was not offered"
            groups_done = True
            continue
        if flight.alert is not None and flight.alert[1] == 70 and not result.accepted:
            result.version_refused = True
        if suites_done:
            groups_done = True
        elif groups_done:
            suites_done = True
        else:
            # Both lists were reduced: find out which ran out.
            flight = await _probe(ep, facts, _spec(ep, 0x0304, list(TLS13_SUITES), remaining_g))
            group = flight.hello.selected_group if flight.hello else None
            if _chosen(flight, 0x0304, TLS13_SUITES) is not None and group in remaining_g:
                assert group is not None
                result.accepted = True
                _add(found_groups, group)
                remaining_g.remove(group)
                suites_done = True
                groups_done = not remaining_g
            else:
                groups_done = True
    if not found_groups:
        facts.groups.pop("TLSv1.3", None)
    return result


async def enumerate_legacy_groups(ep: Endpoint, facts: EndpointFacts, protocol: str,
                                  ecdhe_suites: list[int], candidates: tuple[int, ...],
                                  max_found: int | None = None) -> None:
    """ECDHE groups of TLS <= 1.2 from the ServerKeyExchange, removing each one found."""
    version = VERSIONS[protocol]
    found = facts.groups.setdefault(protocol, [])
    remaining = [g for g in candidates if g not in found]
    while remaining:
        flight = await _probe(ep, facts, _spec(ep, version, ecdhe_suites, remaining))
        kex = flight.key_exchange
        if _chosen(flight, version, ecdhe_suites) is None or kex is None \
                or kex.group not in remaining:
            break
        assert kex.group is not None
        facts.observe(protocol, flight)
        remaining.remove(kex.group)
        if max_found is not None and len(found) >= max_found:
            break
    if not found:
        facts.groups.pop(protocol, None)


async def enumerate_schemes(ep: Endpoint, facts: EndpointFacts, suites: list[int],
                            candidates: tuple[int, ...], max_found: int | None = None) -> None:
    """TLS 1.2 signature schemes from the ServerKeyExchange signature, removing each found."""
    found = facts.schemes.setdefault("TLSv1.2", [])
    remaining = [s for s in candidates if s not in found]
    while remaining:
        flight = await _probe(ep, facts, _spec(ep, 0x0303, suites, schemes=remaining))
        kex = flight.key_exchange
        if _chosen(flight, 0x0303, suites) is None or kex is None \
                or kex.signature_scheme not in remaining:
            break
        assert kex.signature_scheme is not None
        facts.observe("TLSv1.2", flight)
        remaining.remove(kex.signature_scheme)
        if max_found is not None and len(found) >= max_found:
            break
    if not found:
        facts.schemes.pop("TLSv1.2", None)


async def enumerate_groups_and_schemes(ep: Endpoint, facts: EndpointFacts, ecdhe: list[int]
                                       ) -> None:
    """TLS 1.2 ECDHE groups and signature schemes together: each ServerKeyExchange names the
    curve and the scheme of its signature, so each connection removes one of each (the TLS 1.3
    trick again); when one list runs out the other goes on alone."""
    groups = facts.groups.setdefault("TLSv1.2", [])
    schemes = facts.schemes.setdefault("TLSv1.2", [])
    remaining_g = [g for g in LEGACY_GROUPS if g not in groups]
    remaining_s = [s for s in SCHEMES if s not in schemes]
    groups_done, schemes_done = not remaining_g, not remaining_s
    while not (groups_done and schemes_done):
        offer_g = remaining_g if not groups_done else list(LEGACY_GROUPS)
        offer_s = remaining_s if not schemes_done else list(SCHEMES)
        flight = await _probe(ep, facts, _spec(ep, 0x0303, ecdhe, offer_g, offer_s))
        kex = flight.key_exchange
        if _chosen(flight, 0x0303, ecdhe) is not None and kex is not None:
            facts.observe("TLSv1.2", flight)
            if kex.group in remaining_g and not groups_done:
                remaining_g.remove(kex.group)
                groups_done = not remaining_g
            elif not groups_done:
                groups_done = True  # a group we did not offer: stop asking
            if kex.signature_scheme in remaining_s and not schemes_done:
                remaining_s.remove(kex.signature_scheme)
                schemes_done = not remaining_s
            elif not schemes_done:
                schemes_done = True  # a scheme we did not offer (or none): stop asking
            continue
        if groups_done:
            schemes_done = True
        elif schemes_done:
            groups_done = True
        else:
            # Both lists reduced and refused: did the groups run out? Ask with every group.
            flight = await _probe(ep, facts, _spec(ep, 0x0303, ecdhe, LEGACY_GROUPS,
                                                   remaining_s))
            kex = flight.key_exchange
            if _chosen(flight, 0x0303, ecdhe) is not None and kex is not None \
                    and kex.signature_scheme in remaining_s:
                facts.observe("TLSv1.2", flight)
                remaining_s.remove(kex.signature_scheme)
                groups_done, schemes_done = True, not remaining_s
            else:
                schemes_done = True
    if not groups:
        facts.groups.pop("TLSv1.2", None)
    if not schemes:
        facts.schemes.pop("TLSv1.2", None)

async def probe_sslv2(ep: Endpoint, facts: EndpointFacts) -> VersionResult:
    """SSLv2 in one connection: the SERVER-HELLO lists every cipher kind supported."""
    hello = await sslv2_exchange(ep)
    result = VersionResult()
    if hello is not None and hello.cipher_kinds:
        result.accepted = True
        result.suites = [k for k in hello.cipher_kinds if tls_catalog.suite(k) is not None]
        facts.answered_tls = True
        facts.sslv2_certificate = hello.certificate
    return result


def _kx_suites(accepted: list[int], kx: tuple[str, ...]) -> list[int]:
    out = []
    for code in accepted:
        suite = tls_catalog.suite(code)
        if suite is not None and suite.kx in kx:
            out.append(code)
    return out


async def _guarded(coro: object) -> VersionResult:
    """A version probe whose network failure means 'not accepted' once the endpoint is known
    to answer (some servers reset connections for versions they do not speak)."""
    try:
        return await coro  # type: ignore[no-any-return, misc]
    except ProbeError as exc:
        if exc.reason in ("refused", "unreachable", "starttls-failed"):
            raise
        return VersionResult(anomaly=f"{exc.reason}: {exc.message}")


Outcome = Literal["made", "refused", "no-tls13", "failed"]


async def _import_tls13() -> None:
    """:mod:`.tls13` imports cryptography: import it in a worker thread, so that the probes
    waiting in the event loop are not held up (another thread may be importing it already)."""
    if f"{__package__}.tls13" not in sys.modules:
        await asyncio.to_thread(importlib.import_module, f"{__package__}.tls13")


def _share_groups(facts: EndpointFacts, shareable: tuple[int, ...]) -> tuple[int, ...]:
    """The groups to offer in a TLS 1.3 handshake, the one to make a key share for first:
    x25519 unless the groups found so far show that the server prefers another one it can be
    made for. The others follow, so that a HelloRetryRequest can still ask for one of them."""
    known = [g for g in facts.groups.get("TLSv1.3", []) if g in shareable]
    first = known[0] if known and shareable[0] not in known else shareable[0]
    return (first, *(g for g in shareable if g != first))


async def enumerate_tls13_schemes(ep: Endpoint, facts: EndpointFacts,
                                  candidates: tuple[int, ...], max_found: int | None = None
                                  ) -> tuple[Outcome, str]:
    """TLS 1.3 signature schemes from the CertificateVerify, removing each one found: (accepted
    + 1) handshakes; every handshake also gives the chain it served and its OCSP stapling.

    Returns ``made`` when at least one handshake reached the CertificateVerify, ``refused``
    when the first was refused (``no-tls13``: with an older version), ``failed`` when it could
    not be made; with the reason."""
    await _import_tls13()
    from . import tls13

    found = facts.schemes.setdefault("TLSv1.3", [])
    remaining = [s for s in candidates if s not in found]
    groups = _share_groups(facts, tls13.KEY_SHARE_GROUPS)
    outcome: tuple[Outcome, str] = ("refused", "nothing to offer")
    while remaining:
        try:
            auth = await tls13.server_auth(ep, _spec(ep, 0x0304, tuple(tls13.SUITES), groups,
                                                     remaining))
        except tls13.HandshakeRefused as exc:
            if outcome[0] != "made":
                outcome = ("no-tls13" if exc.no_tls13 else "refused", f"refused ({exc})")
            break
        except ProbeError as exc:  # a note, as for the chain before: the scan has its results
            if outcome[0] == "made":
                facts.notes.append(f"TLS 1.3 signature schemes: {exc.message}")
            else:
                outcome = ("failed", exc.message)
            break
        outcome = ("made", "")
        facts.observe_chain(auth.certificates, auth.ocsp_stapled)
        groups = (auth.group, *(g for g in groups if g != auth.group))
        if auth.signature_scheme not in remaining:
            facts.notes.append(f"TLS 1.3: the server signed with scheme "
                               f"0x{auth.signature_scheme:04X}, which was not offered")
            break
        found.append(auth.signature_scheme)
        remaining.remove(auth.signature_scheme)
        if max_found is not None and len(found) >= max_found:
            break
    if not found:
        facts.schemes.pop("TLSv1.3", None)
    return outcome


async def _pyopenssl_chain(ep: Endpoint, facts: EndpointFacts) -> None:
    from .certs import fetch_chain

    try:
        chain, stapled = await fetch_chain(ep)
    except ProbeError as exc:
        facts.notes.append(f"certificate chain not read: {exc.message}")
        return
    facts.observe_chain(chain, stapled)


async def tls13_schemes_and_chain(ep: Endpoint, facts: EndpointFacts, have_chain: bool
                                  ) -> None:
    """Every TLS 1.3 signature scheme, and the TLS 1.3 chain and stapling with them; when
    cryptocheck's own handshake cannot be made, a note, and the chain from pyOpenSSL (unless
    ``have_chain``: TLS 1.2 showed one)."""
    facts.chain_fetched = True
    outcome, why = await enumerate_tls13_schemes(ep, facts, SCHEMES)
    if outcome != "made":
        facts.notes.append(f"TLS 1.3 signature schemes not read: {why}")
        if not have_chain:
            await _pyopenssl_chain(ep, facts)


async def fetch_full_chain(ep: Endpoint, facts: EndpointFacts) -> None:
    """The chain from a full handshake, where TLS 1.3 encrypts the Certificate message and
    no TLS <= 1.2 hello has shown it: cryptocheck's own TLS 1.3 handshake (which shows the
    server's preferred scheme too), else pyOpenSSL's; a failure is a note, not an error."""
    facts.chain_fetched = True
    outcome, _ = await enumerate_tls13_schemes(ep, facts, SCHEMES, max_found=1)
    if outcome != "made":
        await _pyopenssl_chain(ep, facts)


async def full_scan(ep: Endpoint) -> EndpointFacts:
    """The complete inventory of one endpoint (raises ProbeError when it cannot be scanned)."""
    facts = EndpointFacts()
    # One TLS 1.2 hello first and alone: a dead, hostile or non-TLS endpoint fails here, once.
    # Then every version is enumerated concurrently (within the per-host limit).
    first = await _probe(ep, facts, _spec(ep, 0x0303, LEGACY_SUITES))

    async def legacy(protocol: str) -> VersionResult:
        return await enumerate_legacy(ep, facts, protocol, list(LEGACY_SUITES),
                                      first=first if protocol == "TLSv1.2" else None)

    # As soon as the first HelloRetryRequest shows TLS 1.3, the handshakes that read its
    # signature schemes (and chain) run beside the enumeration instead of after it.
    tls13 = asyncio.Event()
    have_chain = _chosen(first, 0x0303, LEGACY_SUITES) is not None and bool(first.certificates)

    async def schemes_when_tls13() -> None:
        await tls13.wait()
        await tls13_schemes_and_chain(ep, facts, have_chain)

    chain_task: asyncio.Task[None] | None = asyncio.create_task(
        _guarded_none(schemes_when_tls13()))

    async def order(protocol: str, result: VersionResult) -> None:
        if protocol != "SSLv2" and result.accepted:
            result.server_order = await server_order(ep, facts, protocol, result.suites)

    async def groups_and_schemes_then_order(ecdhe: list[int]) -> None:
        await enumerate_groups_and_schemes(ep, facts, ecdhe)
        await group_order(ep, facts, "TLSv1.2", ecdhe)

    # What follows from TLS 1.2's and TLS 1.3's suites (server order, groups, signature
    # schemes) starts as soon as those are known, beside the other versions' probes, rather
    # than after all of them: each is a chain of one connection after another, and the
    # per-host limit leaves a slot free for it while the other versions' chains run.
    early: list[asyncio.Task[None]] = []

    async def tls12() -> VersionResult:
        result = await legacy("TLSv1.2")
        if result.accepted:
            early.append(asyncio.create_task(_guarded_none(order("TLSv1.2", result))))
            ecdhe = _kx_suites(result.suites, ("ECDHE",))
            if ecdhe:
                early.append(asyncio.create_task(
                    _guarded_none(groups_and_schemes_then_order(ecdhe))))
        return result

    async def tls13_versions() -> VersionResult:
        result = await _guarded(enumerate_tls13(ep, facts, TLS13_SUITES, TLS13_GROUPS,
                                                accepted=tls13))
        if result.accepted:
            early.append(asyncio.create_task(_guarded_none(order("TLSv1.3", result))))
            early.append(asyncio.create_task(
                _guarded_none(group_order(ep, facts, "TLSv1.3", TLS13_SUITES))))
        return result

    protocols = ["TLSv1.2", "TLSv1.3", "TLSv1.1", "TLSv1.0", "SSLv3", "SSLv2"]
    try:
        results = await asyncio.gather(
            tls12(), tls13_versions(),
            _guarded(legacy("TLSv1.1")), _guarded(legacy("TLSv1.0")), _guarded(legacy("SSLv3")),
            _guarded(probe_sslv2(ep, facts)))
    except BaseException:
        for task in [*early, *([chain_task] if chain_task is not None else [])]:
            task.cancel()
        raise
    for protocol, result in zip(protocols, results, strict=True):
        facts.versions[protocol] = result
    if chain_task is not None and not tls13.is_set():
        chain_task.cancel()
        chain_task = None
    try:
        _check_answered(facts)
    except ProbeError:
        for task in early:
            task.cancel()
        raise

    extra: list[Awaitable[None]] = [*early]
    extra += [_guarded_none(order(p, facts.versions[p]))
              for p in ("TLSv1.1", "TLSv1.0", "SSLv3")]
    tls12_suites = facts.versions["TLSv1.2"].suites if facts.versions["TLSv1.2"].accepted else []
    if not _kx_suites(tls12_suites, ("ECDHE",)):
        if _kx_suites(tls12_suites, ("DHE",)):
            extra.append(_guarded_none(enumerate_schemes(
                ep, facts, _kx_suites(tls12_suites, ("DHE",)), SCHEMES)))
        best_legacy = next((p for p in ("TLSv1.1", "TLSv1.0", "SSLv3")
                            if facts.versions[p].accepted), None)
        ecdhe = _kx_suites(facts.versions[best_legacy].suites, ("ECDHE",)) if best_legacy else []
        if best_legacy and ecdhe:
            extra.append(_guarded_none(enumerate_legacy_groups(ep, facts, best_legacy, ecdhe,
                                                               LEGACY_GROUPS)))
    if chain_task is not None:
        extra.append(chain_task)
    await asyncio.gather(*extra)
    return facts


async def _guarded_none(coro: object) -> None:
    try:
        await coro  # type: ignore[misc]
    except ProbeError as exc:
        if exc.reason in ("refused", "unreachable", "starttls-failed"):
            raise


def _check_answered(facts: EndpointFacts) -> None:
    if not facts.answered_tls:
        raise ProbeError("not-tls", "the endpoint closed every connection without a TLS answer")


def _non_approved_suites(protocol: str, approves: Approves) -> list[int]:
    pool = TLS13_SUITES if protocol == "TLSv1.3" else LEGACY_SUITES
    out = []
    for code in pool:
        suite = tls_catalog.suite(code)
        assert suite is not None
        if not all(approves(u) for u in usages.cipher_suite_usages(suite, protocol)):
            out.append(code)
    return out


async def compliance_scan(ep: Endpoint, approves: Approves) -> EndpointFacts:
    """Only what the policy needs to decide: is anything it does not approve accepted?

    Per version: when the protocol itself is not approved, one hello offering every suite
    (is the version accepted at all?); otherwise one hello offering only the suites the
    policy does not approve, repeated while the server accepts one. Then the groups and
    signature schemes the policy flags (one found is enough to decide; for TLS 1.3 one handshake
    offering only those), a DHE probe when DH primes are judged, and one connection for the
    certificate chain.
    """
    facts = EndpointFacts()

    async def version(protocol: str) -> VersionResult:
        if protocol == "SSLv2":
            return await probe_sslv2(ep, facts)
        if not approves(usages.protocol_usage(protocol)):
            if protocol == "TLSv1.3":
                return await enumerate_tls13(ep, facts, TLS13_SUITES, (), want_suites=True)
            return await enumerate_legacy(ep, facts, protocol, list(LEGACY_SUITES),
                                          stop_after_first=True)
        bad = _non_approved_suites(protocol, approves)
        if protocol == "TLSv1.3":
            result = await enumerate_tls13(ep, facts, tuple(bad), (), want_suites=bool(bad))
            return result if result.accepted or result.version_refused \
                else VersionResult(accepted=None)
        if not bad:
            return VersionResult(accepted=None)
        result = await enumerate_legacy(ep, facts, protocol, bad)
        return result if result.accepted else VersionResult(accepted=None)

    facts.versions["TLSv1.2"] = await version("TLSv1.2")
    others = ["TLSv1.3", "TLSv1.1", "TLSv1.0", "SSLv3", "SSLv2"]
    results = await asyncio.gather(*(_guarded(version(p)) for p in others))
    for protocol, result in zip(others, results, strict=True):
        facts.versions[protocol] = result

    # One ordinary TLS 1.2 handshake for what is judged whatever the suite (the chain), which
    # also settles whether TLS 1.2 is accepted when only refused suites were offered; the
    # DHE prime, ECDHE groups and signature schemes of TLS 1.2 are asked about only then.
    tls12 = facts.versions["TLSv1.2"]
    if tls12.accepted is None or (tls12.accepted and not facts.chains):
        flight = await _probe(ep, facts, _spec(ep, 0x0303, list(LEGACY_SUITES)))
        if _chosen(flight, 0x0303, LEGACY_SUITES) is not None:
            facts.observe("TLSv1.2", flight)
            tls12.accepted = True
        elif tls12.accepted is None:
            tls12.accepted = False
    bad_groups = tuple(g.code for g in tls_catalog.groups()
                       if not approves(usages.group_usage(g.name)))
    if bad_groups and facts.versions["TLSv1.3"].accepted is not False:
        await _guarded_none(enumerate_tls13(ep, facts, TLS13_SUITES, bad_groups,
                                            want_suites=False, max_groups=1))
    if tls12.accepted:
        dhe = _kx_suites(list(LEGACY_SUITES), ("DHE",))
        if not facts.dh_primes and any(not approves(usages.dh_usage(bits, None))
                                       for bits in (1024, 2048, 3072)):
            flight = await _probe(ep, facts, _spec(ep, 0x0303, dhe))
            if _chosen(flight, 0x0303, dhe) is not None:
                facts.observe("TLSv1.2", flight)
        bad_legacy_groups = tuple(g for g in LEGACY_GROUPS if g in bad_groups)
        if bad_legacy_groups:
            await _guarded_none(enumerate_legacy_groups(
                ep, facts, "TLSv1.2", _kx_suites(list(LEGACY_SUITES), ("ECDHE",)),
                bad_legacy_groups, max_found=1))
        bad_schemes = tuple(s.code for s in tls_catalog.signature_schemes()
                            if not approves(usages.signature_scheme_usage(s.name, "TLSv1.2")))
        if bad_schemes:
            await _guarded_none(enumerate_schemes(
                ep, facts, _kx_suites(list(LEGACY_SUITES), ("ECDHE", "DHE")), bad_schemes,
                max_found=1))
    await _compliance_tls13_schemes(ep, facts, approves)
    _check_answered(facts)
    return facts


async def _compliance_tls13_schemes(ep: Endpoint, facts: EndpointFacts, approves: Approves
                                    ) -> None:
    """One TLS 1.3 handshake offering only the signature schemes the policy flags. A refusal
    means none is accepted only if a handshake offering every scheme can be made: one more
    (which also gives the TLS 1.3 chain) checks that, where the first gave no chain."""
    tls13 = facts.versions["TLSv1.3"].accepted
    bad = tuple(s.code for s in tls_catalog.signature_schemes()
                if not approves(usages.signature_scheme_usage(s.name, "TLSv1.3")))
    if not bad or tls13 is False:
        return
    facts.chain_fetched = True
    outcome, why = await enumerate_tls13_schemes(ep, facts, bad, max_found=1)
    if outcome == "refused":
        outcome, why = await enumerate_tls13_schemes(ep, facts, SCHEMES, max_found=1)
    if tls13 is None and outcome in ("made", "no-tls13"):
        facts.versions["TLSv1.3"].accepted = outcome == "made"
    elif outcome in ("refused", "failed") and tls13:
        facts.notes.append(f"TLS 1.3 signature schemes not checked: {why}")
    if outcome in ("refused", "failed") and not facts.chains:
        await _pyopenssl_chain(ep, facts)
