"""The certificate chain (and OCSP stapling) an endpoint serves.

TLS <= 1.2 sends its Certificate in the clear, so every flight the other probes read may carry
a chain (each new leaf is kept: a server may have several keys); TLS 1.3 encrypts it, and
cryptocheck's own TLS 1.3 handshake reads it (:mod:`.tls13_schemes`). Compliance mode makes one
ordinary TLS 1.2 handshake for it, which also settles whether TLS 1.2 is accepted when only
refused suites were offered. Last in both modes, where no probe has shown a chain and TLS 1.3
may be accepted, one full handshake fetches it (cryptocheck's own, else pyOpenSSL's); a failure
there is a note, not an error. The chain's assets and checks are made by :mod:`..certs`.
"""

from __future__ import annotations

from cryptocheck.sources.probe import ALL, COMPLIANCE, Probe
from cryptocheck.sources.tls.facts import (
    LEGACY_SUITES,
    SCHEMES,
    ProbeContext,
    chosen_suite,
    hello_spec,
    send_hello,
)
from cryptocheck.sources.tls.probes.tls13_schemes import enumerate_tls13_schemes, pyopenssl_chain
from cryptocheck.sources.tls.probes.versions import PROTOCOLS, suites_fact


async def _tls12_chain(ctx: ProbeContext) -> None:
    ep, facts = ctx.endpoint, ctx.facts
    tls12 = facts.versions["TLSv1.2"]
    flight = await send_hello(ep, facts, hello_spec(ep, 0x0303, list(LEGACY_SUITES)))
    if chosen_suite(flight, 0x0303, LEGACY_SUITES) is not None:
        facts.observe("TLSv1.2", flight)
        tls12.accepted = True
    elif tls12.accepted is None:
        tls12.accepted = False


def _tls12_chain_wanted(ctx: ProbeContext) -> bool:
    tls12 = ctx.version("TLSv1.2")
    return tls12.accepted is None or (bool(tls12.accepted) and not ctx.facts.chains)


async def _full_chain(ctx: ProbeContext) -> None:
    ctx.facts.chain_fetched = True
    outcome, _ = await enumerate_tls13_schemes(ctx.endpoint, ctx.facts, SCHEMES, max_found=1)
    if outcome != "made":
        await pyopenssl_chain(ctx.endpoint, ctx.facts)


def _no_chain_yet(ctx: ProbeContext) -> bool:
    facts = ctx.facts
    return not facts.chains and not facts.chain_fetched and \
        facts.versions.get("TLSv1.3") is not None and \
        facts.versions["TLSv1.3"].accepted is not False


# Not guarded: TLS 1.2 is the version a compliance scan starts with, known to answer.
TLS12_CHAIN: Probe[ProbeContext] = Probe(
    "chain:TLSv1.2", _tls12_chain, needs=tuple(suites_fact(p) for p in PROTOCOLS),
    adds=("chain:TLSv1.2",), budget=1, modes=(COMPLIANCE,), when=_tls12_chain_wanted)
FALLBACK_CHAIN: Probe[ProbeContext] = Probe(
    "chain", _full_chain, needs=("versions", ALL), adds=("chain",), budget=2,
    when=_no_chain_yet)
