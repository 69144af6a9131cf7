"""TLS 1.2 signature schemes, from the signature of the ServerKeyExchange.

A full scan reads them with the ECDHE groups (:mod:`.groups`, each connection removes one of
each); this probe asks for them with DHE suites where TLS 1.2 has no ECDHE suite, removing each
scheme found as for the suites. Compliance mode asks only about the schemes the policy flags,
with ECDHE and DHE suites: one found decides. TLS 1.3 schemes are :mod:`.tls13_schemes`.
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
    LEGACY_SUITES,
    SCHEMES,
    EndpointFacts,
    ProbeContext,
    chosen_suite,
    guarded,
    hello_spec,
    kx_suites,
    send_hello,
)


async def enumerate_schemes(ep: Endpoint, facts: EndpointFacts, suites: list[int],
                            candidates: tuple[int, ...], max_found: int | None = None) -> None:
    """TLS 1.2 signature schemes from the ServerKeyExchange signature, removing each found."""
    found = facts.schemes.setdefault("TLSv1.2", [])
    remaining = [s for s in candidates if s not in found]
    while remaining:
        flight = await send_hello(ep, facts, hello_spec(ep, 0x0303, suites, schemes=remaining))
        kex = flight.key_exchange
        if chosen_suite(flight, 0x0303, suites) is None or kex is None \
                or kex.signature_scheme not in remaining:
            break
        assert kex.signature_scheme is not None
        facts.observe("TLSv1.2", flight)
        remaining.remove(kex.signature_scheme)
        if max_found is not None and len(found) >= max_found:
            break
    if not found:
        facts.schemes.pop("TLSv1.2", None)


def _tls12_suites(ctx: ProbeContext, kx: str) -> list[int]:
    result = ctx.version("TLSv1.2")
    return kx_suites(result.suites, (kx,)) if result.accepted else []


async def _dhe_schemes(ctx: ProbeContext) -> None:
    await guarded(enumerate_schemes(ctx.endpoint, ctx.facts, _tls12_suites(ctx, "DHE"), SCHEMES))


def _flagged(ctx: ProbeContext) -> tuple[int, ...]:
    assert ctx.approves is not None
    return tuple(s.code for s in tls_catalog.signature_schemes()
                 if not ctx.approves(tls_usages.signature_scheme_usage(s.name, "TLSv1.2")))


async def _flagged_schemes(ctx: ProbeContext) -> None:
    await guarded(enumerate_schemes(
        ctx.endpoint, ctx.facts, kx_suites(LEGACY_SUITES, ("ECDHE", "DHE")), _flagged(ctx),
        max_found=1))


def usages(asset: EndpointAsset) -> Iterator[CryptoUsage]:
    """The schemes the server signed with in versions before TLS 1.3."""
    where: dict[str, Any] = {"asset_id": asset.id, "location": asset.location}
    schemes: dict[str, list[str]] = asset.details.get("signature_schemes", {})
    for version in tls_catalog.PROTOCOLS:
        if version != "TLSv1.3":
            for name in schemes.get(version, []):
                yield tls_usages.signature_scheme_usage(name, version, **where)


DHE_SCHEMES: Probe[ProbeContext] = Probe(
    "schemes:TLSv1.2-dhe", _dhe_schemes, needs=("versions",), adds=("schemes:TLSv1.2",),
    budget=len(SCHEMES) + 1, modes=(FULL,),
    when=lambda ctx: not _tls12_suites(ctx, "ECDHE") and bool(_tls12_suites(ctx, "DHE")),
    usages=usages)
# After the flagged TLS 1.2 groups, for the order of what their handshakes show.
FLAGGED_SCHEMES: Probe[ProbeContext] = Probe(
    "flagged-schemes:TLSv1.2", _flagged_schemes, needs=("groups:TLSv1.2",),
    adds=("schemes:TLSv1.2",), budget=len(SCHEMES) + 1, modes=(COMPLIANCE,),
    when=lambda ctx: bool(ctx.version("TLSv1.2").accepted) and bool(_flagged(ctx)),
    usages=usages)
