"""Enumerate what one TLS endpoint negotiates, with as few connections as possible.

:func:`full_scan` takes the whole inventory, :func:`compliance_scan` only what a policy needs;
both add to :class:`~.facts.EndpointFacts` through the enumerations of :mod:`.suites`
(versions and cipher suites, TLS 1.3 groups), :mod:`.groups` (groups of TLS <= 1.2, TLS 1.2
signature schemes, group order) and :mod:`.tls13_schemes` (TLS 1.3 signature schemes and
chain, from cryptocheck's own handshake).

``compliance`` mode asks only what the policy needs: per version, the suites (groups,
signature schemes) the policy does not approve, so a compliant server is checked in a
handful of connections.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from cryptocheck.catalog import tls as tls_catalog
from cryptocheck.model import CryptoUsage
from cryptocheck.sources.tls import usages
from cryptocheck.sources.tls.connection import Endpoint, ProbeError
from cryptocheck.sources.tls.facts import (
    LEGACY_GROUPS,
    LEGACY_SUITES,
    SCHEMES,
    TLS13_GROUPS,
    TLS13_SUITES,
    EndpointFacts,
    VersionResult,
    _chosen,
    _probe,
    _spec,
)
from cryptocheck.sources.tls.groups import (
    enumerate_groups_and_schemes,
    enumerate_legacy_groups,
    enumerate_schemes,
    group_order,
)
from cryptocheck.sources.tls.suites import (
    enumerate_legacy,
    enumerate_tls13,
    probe_sslv2,
    server_order,
)
from cryptocheck.sources.tls.tls13_schemes import (
    _pyopenssl_chain,
    enumerate_tls13_schemes,
    tls13_schemes_and_chain,
)

Approves = Callable[[CryptoUsage], bool]


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
