"""The size of the finite-field DH prime a server uses with DHE suites (TLS <= 1.2).

The prime is in the ServerKeyExchange of any DHE suite the server picks: a full scan sees it
while enumerating the suites (every flight is observed), so only compliance mode asks for it,
with one hello offering the DHE suites alone, when the policy judges DH primes at all and no
handshake has shown one yet. ``dh_parameters`` lists each prime's size and, for RFC 7919 /
RFC 3526 primes, its name.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from cryptocheck.model import CryptoUsage, EndpointAsset
from cryptocheck.sources.probe import COMPLIANCE, Probe
from cryptocheck.sources.tls import usages as tls_usages
from cryptocheck.sources.tls.facts import (
    LEGACY_SUITES,
    ProbeContext,
    chosen_suite,
    hello_spec,
    kx_suites,
    send_hello,
)

DHE_SUITES = kx_suites(LEGACY_SUITES, ("DHE",))


def _judged(ctx: ProbeContext) -> bool:
    """Whether the policy flags a common prime size (else a prime is not worth a connection)."""
    assert ctx.approves is not None
    return any(not ctx.approves(tls_usages.dh_usage(bits, None)) for bits in (1024, 2048, 3072))


async def _dhe_prime(ctx: ProbeContext) -> None:
    flight = await send_hello(ctx.endpoint, ctx.facts, hello_spec(ctx.endpoint, 0x0303, DHE_SUITES))
    if chosen_suite(flight, 0x0303, DHE_SUITES) is not None:
        ctx.facts.observe("TLSv1.2", flight)


def usages(asset: EndpointAsset) -> Iterator[CryptoUsage]:
    """The DH primes served (``details["dh_parameters"]``), whichever probe saw them."""
    where: dict[str, Any] = {"asset_id": asset.id, "location": asset.location}
    for dh in asset.details.get("dh_parameters", []):
        yield tls_usages.dh_usage(int(dh["key_size"]), dh.get("group"), **where)


# After the TLS 1.2 chain handshake, which may already have shown a prime. Not guarded (as
# the chain handshake): TLS 1.2 is known to be accepted here.
DHE_PRIME: Probe[ProbeContext] = Probe(
    "dhe-prime", _dhe_prime, needs=("chain:TLSv1.2",), adds=("dh-prime",), budget=1,
    modes=(COMPLIANCE,),
    when=lambda ctx: bool(ctx.version("TLSv1.2").accepted) and not ctx.facts.dh_primes
    and _judged(ctx),
    usages=usages)
