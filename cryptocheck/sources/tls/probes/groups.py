"""Key-exchange groups: ECDHE groups of TLS <= 1.2 (with the TLS 1.2 signature schemes, read
from the same ServerKeyExchange), and in compliance mode the groups the policy flags.

ECDHE groups for TLS <= 1.2 are read from the ServerKeyExchange (which names the curve and the
scheme of its signature), removing each one found as for the suites; TLS 1.2 does groups and
signature schemes together, so each connection removes one of each. TLS 1.3 groups come with
its suites (:mod:`.versions`). RFC 7919 makes a TLS 1.2 server that knows ffdhe refuse DHE
with its own prime when offered ffdhe groups, so <= 1.2 hellos carry elliptic-curve groups only
(``LEGACY_GROUPS``). Compliance mode asks only about the groups the policy flags: one found is
enough to decide.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from cryptocheck.catalog import tls as tls_catalog
from cryptocheck.model import CryptoUsage, EndpointAsset
from cryptocheck.sources.probe import COMPLIANCE, FULL, Probe
from cryptocheck.sources.tls import usages as tls_usages
from cryptocheck.sources.tls.connection import Endpoint
from cryptocheck.sources.tls.facts import (
    LEGACY_GROUPS,
    LEGACY_SUITES,
    SCHEMES,
    TLS13_GROUPS,
    TLS13_SUITES,
    VERSIONS,
    EndpointFacts,
    ProbeContext,
    chosen_suite,
    guarded,
    hello_spec,
    kx_suites,
    send_hello,
)
from cryptocheck.sources.tls.probes.order import group_order
from cryptocheck.sources.tls.probes.versions import enumerate_tls13, suites_fact


async def enumerate_legacy_groups(ep: Endpoint, facts: EndpointFacts, protocol: str,
                                  ecdhe_suites: list[int], candidates: tuple[int, ...],
                                  max_found: int | None = None) -> None:
    """ECDHE groups of TLS <= 1.2 from the ServerKeyExchange, removing each one found."""
    version = VERSIONS[protocol]
    found = facts.groups.setdefault(protocol, [])
    remaining = [g for g in candidates if g not in found]
    while remaining:
        flight = await send_hello(ep, facts, hello_spec(ep, version, ecdhe_suites, remaining))
        kex = flight.key_exchange
        if chosen_suite(flight, version, ecdhe_suites) is None or kex is None \
                or kex.group not in remaining:
            break
        assert kex.group is not None
        facts.observe(protocol, flight)
        remaining.remove(kex.group)
        if max_found is not None and len(found) >= max_found:
            break
    if not found:
        facts.groups.pop(protocol, None)


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
        flight = await send_hello(ep, facts, hello_spec(ep, 0x0303, ecdhe, offer_g, offer_s))
        kex = flight.key_exchange
        if chosen_suite(flight, 0x0303, ecdhe) is not None and kex is not None:
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
            flight = await send_hello(ep, facts, hello_spec(ep, 0x0303, ecdhe, LEGACY_GROUPS,
                                                   remaining_s))
            kex = flight.key_exchange
            if chosen_suite(flight, 0x0303, ecdhe) is not None and kex is not None \
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


# --- full scan ------------------------------------------------------------------------------

def _tls12_ecdhe(ctx: ProbeContext) -> list[int]:
    result = ctx.version("TLSv1.2")
    return kx_suites(result.suites, ("ECDHE",)) if result.accepted else []


async def _tls12_groups(ctx: ProbeContext) -> None:
    ecdhe = _tls12_ecdhe(ctx)

    async def groups_then_order() -> None:
        await enumerate_groups_and_schemes(ctx.endpoint, ctx.facts, ecdhe)
        await group_order(ctx.endpoint, ctx.facts, "TLSv1.2", ecdhe)

    await guarded(groups_then_order())


def _best_legacy(ctx: ProbeContext) -> str | None:
    """The newest version before TLS 1.2 accepted, asked about groups when TLS 1.2 has no
    ECDHE suite to ask with."""
    return next((p for p in ("TLSv1.1", "TLSv1.0", "SSLv3") if ctx.version(p).accepted), None)


def _legacy_ecdhe(ctx: ProbeContext) -> list[int]:
    best = _best_legacy(ctx)
    return kx_suites(ctx.version(best).suites, ("ECDHE",)) if best else []


async def _legacy_groups(ctx: ProbeContext) -> None:
    best = _best_legacy(ctx)
    assert best is not None
    await guarded(enumerate_legacy_groups(ctx.endpoint, ctx.facts, best, _legacy_ecdhe(ctx),
                                          LEGACY_GROUPS))


# --- compliance scan ------------------------------------------------------------------------

def _flagged_groups(ctx: ProbeContext) -> tuple[int, ...]:
    assert ctx.approves is not None
    return tuple(g.code for g in tls_catalog.groups()
                 if not ctx.approves(tls_usages.group_usage(g.name)))


async def _flagged_tls13(ctx: ProbeContext) -> None:
    # One handshake offering only the flagged groups: one found decides.
    await guarded(enumerate_tls13(ctx.endpoint, ctx.facts, TLS13_SUITES, _flagged_groups(ctx),
                                  want_suites=False, max_groups=1))


async def _flagged_tls12(ctx: ProbeContext) -> None:
    flagged = _flagged_groups(ctx)
    await guarded(enumerate_legacy_groups(
        ctx.endpoint, ctx.facts, "TLSv1.2", kx_suites(LEGACY_SUITES, ("ECDHE",)),
        tuple(g for g in LEGACY_GROUPS if g in flagged), max_found=1))


def usages(asset: EndpointAsset) -> Iterator[CryptoUsage]:
    """The groups accepted (``details["groups"]``, every version's)."""
    where: dict[str, Any] = {"asset_id": asset.id, "location": asset.location}
    for name in asset.details.get("groups", []):
        yield tls_usages.group_usage(name, **where)


TLS12_GROUPS: Probe[ProbeContext] = Probe(
    "groups:TLSv1.2", _tls12_groups, needs=(suites_fact("TLSv1.2"),),
    adds=("groups:TLSv1.2", "schemes:TLSv1.2"),
    budget=len(LEGACY_GROUPS) + len(SCHEMES) + 5, modes=(FULL,),
    when=lambda ctx: bool(_tls12_ecdhe(ctx)), usages=usages)
LEGACY_VERSION_GROUPS: Probe[ProbeContext] = Probe(
    "groups:legacy", _legacy_groups, needs=("versions",), adds=("groups:legacy",),
    budget=len(LEGACY_GROUPS) + 1, modes=(FULL,),
    when=lambda ctx: not _tls12_ecdhe(ctx) and bool(_legacy_ecdhe(ctx)), usages=usages)
FLAGGED_TLS13_GROUPS: Probe[ProbeContext] = Probe(
    "flagged-groups:TLSv1.3", _flagged_tls13, needs=(suites_fact("TLSv1.3"),),
    adds=("groups:TLSv1.3",), budget=len(TLS13_GROUPS) + 4, modes=(COMPLIANCE,),
    when=lambda ctx: bool(_flagged_groups(ctx)) and ctx.version("TLSv1.3").accepted is not False,
    usages=usages)
# After the DHE probe: both record what their handshakes show (chains, schemes), and those
# lists keep the order in which they were found.
FLAGGED_TLS12_GROUPS: Probe[ProbeContext] = Probe(
    "flagged-groups:TLSv1.2", _flagged_tls12, needs=("dh-prime",), adds=("groups:TLSv1.2",),
    budget=len(LEGACY_GROUPS) + 1, modes=(COMPLIANCE,),
    when=lambda ctx: bool(ctx.version("TLSv1.2").accepted) and any(
        g in _flagged_groups(ctx) for g in LEGACY_GROUPS),
    usages=usages)
