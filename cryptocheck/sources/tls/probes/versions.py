"""Which protocol versions and cipher suites an endpoint accepts, in the server's order.

Cipher suites, per protocol version, by iterative removal: offer every suite of the IANA
registry, record the server's choice, remove it, offer the rest, until the server refuses —
(accepted + 1) connections per version, not one per suite.

TLS 1.3 groups come with the suites: the ClientHello carries an empty key_share, so the
server answers with a HelloRetryRequest naming the group it wants (and the suite) without any
key material being exchanged; the chosen group is removed too. SSLv2 takes one connection.

A full scan sends one TLS 1.2 hello first and alone (``hello``): a dead, hostile or non-TLS
endpoint fails there, once; then every version is enumerated at once. Compliance mode asks,
per version, only about the suites the policy does not approve: when the protocol itself is
not approved, one hello (is the version accepted at all?); otherwise one hello offering the
flagged suites, repeated while the server accepts one. ``answered`` ends the scan of an
endpoint that never gave a TLS answer.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from typing import Any

from cryptocheck.catalog import tls as tls_catalog
from cryptocheck.model import CryptoUsage, EndpointAsset
from cryptocheck.sources.probe import ALL, COMPLIANCE, FULL, Probe, announce
from cryptocheck.sources.tls import usages as tls_usages
from cryptocheck.sources.tls import wire
from cryptocheck.sources.tls.connection import Endpoint, ProbeError
from cryptocheck.sources.tls.facts import (
    LEGACY_SUITES,
    TLS13_GROUPS,
    TLS13_SUITES,
    VERSIONS,
    EndpointFacts,
    ProbeContext,
    VersionResult,
    add_once,
    chosen_suite,
    guarded_version,
    hello_spec,
    send_hello,
)
from cryptocheck.sources.tls.flight import sslv2_exchange

# Versions in the order their probes start (TLS 1.2 first: the most common, and the one the
# compliance scan asks first), and the facts that say each is known.
PROTOCOLS = ("TLSv1.2", "TLSv1.3", "TLSv1.1", "TLSv1.0", "SSLv3", "SSLv2")
HELLO = "tls-hello"


def suites_fact(protocol: str) -> str:
    """The fact that ``protocol``'s accepted suites are known."""
    return f"suites:{protocol}"


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
            flight = await send_hello(ep, facts, hello_spec(ep, version, remaining))
        choice = chosen_suite(flight, version, remaining)
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


async def enumerate_tls13(ep: Endpoint, facts: EndpointFacts, suites: tuple[int, ...],
                          groups: tuple[int, ...], want_suites: bool = True,
                          max_groups: int | None = None,
                          on_accepted: Callable[[], None] | None = None) -> VersionResult:
    """Suites and groups of TLS 1.3 together: each HelloRetryRequest names both.
    ``on_accepted`` is called as soon as the server is seen to speak TLS 1.3."""
    result = VersionResult()
    found_groups = facts.groups.setdefault("TLSv1.3", [])
    remaining_s, remaining_g = list(suites), [g for g in groups if g not in found_groups]
    suites_done, groups_done = not want_suites, not remaining_g
    while not (suites_done and groups_done):
        offer_s = remaining_s if not suites_done else list(TLS13_SUITES)
        offer_g = remaining_g if not groups_done else list(TLS13_GROUPS)
        flight = await send_hello(ep, facts, hello_spec(ep, 0x0304, offer_s, offer_g))
        choice = chosen_suite(flight, 0x0304, offer_s)
        group = flight.hello.selected_group if flight.hello else None
        if choice is not None and group in offer_g:
            result.accepted = True
            if on_accepted is not None:
                on_accepted()
            if not suites_done:
                result.suites.append(choice)
                remaining_s.remove(choice)
                suites_done = not remaining_s
            if not groups_done:
                assert group is not None
                add_once(found_groups, group)
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
            flight = await send_hello(ep, facts, hello_spec(ep, 0x0304, list(TLS13_SUITES), remaining_g))
            group = flight.hello.selected_group if flight.hello else None
            if chosen_suite(flight, 0x0304, TLS13_SUITES) is not None and group in remaining_g:
                assert group is not None
                result.accepted = True
                add_once(found_groups, group)
                remaining_g.remove(group)
                suites_done = True
                groups_done = not remaining_g
            else:
                groups_done = True
    if not found_groups:
        facts.groups.pop("TLSv1.3", None)
    return result


# Bounds of the enumerations above: iterative removal asks once per suite accepted and once
# more; TLS 1.3 removes a suite or a group per answer, and a refusal costs at most two more.
LEGACY_BUDGET = len(LEGACY_SUITES) + 1
TLS13_BUDGET = len(TLS13_SUITES) + len(TLS13_GROUPS) + 4


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


def check_answered(facts: EndpointFacts) -> None:
    """ProbeError ``not-tls`` when no connection got a TLS answer."""
    if not facts.answered_tls:
        raise ProbeError("not-tls", "the endpoint closed every connection without a TLS answer")


# --- full scan ------------------------------------------------------------------------------

async def _hello(ctx: ProbeContext) -> None:
    ep = ctx.endpoint
    ctx.facts.hellos["TLSv1.2"] = await send_hello(ep, ctx.facts, hello_spec(ep, 0x0303, LEGACY_SUITES))


def _full_version(protocol: str) -> Callable[[ProbeContext], Awaitable[None]]:
    async def run(ctx: ProbeContext) -> None:
        ep, facts = ctx.endpoint, ctx.facts
        if protocol == "TLSv1.2":  # not guarded: TLS 1.2 failing is the endpoint failing
            result = await enumerate_legacy(ep, facts, protocol, list(LEGACY_SUITES),
                                            first=facts.hellos.get("TLSv1.2"))
        elif protocol == "TLSv1.3":
            def seen() -> None:
                facts.tls13_seen = True
                announce("tls13-seen")

            result = await guarded_version(enumerate_tls13(
                ep, facts, TLS13_SUITES, TLS13_GROUPS, on_accepted=seen))
        elif protocol == "SSLv2":
            result = await guarded_version(probe_sslv2(ep, facts))
        else:
            result = await guarded_version(enumerate_legacy(ep, facts, protocol,
                                                            list(LEGACY_SUITES)))
        facts.versions[protocol] = result

    return run


async def _answered(ctx: ProbeContext) -> None:
    check_answered(ctx.facts)


# --- compliance scan ------------------------------------------------------------------------

def _flagged_suites(protocol: str, approves: Callable[[CryptoUsage], bool]) -> list[int]:
    pool = TLS13_SUITES if protocol == "TLSv1.3" else LEGACY_SUITES
    out = []
    for code in pool:
        suite = tls_catalog.suite(code)
        assert suite is not None
        if not all(approves(u) for u in tls_usages.cipher_suite_usages(suite, protocol)):
            out.append(code)
    return out


async def _compliance_version(ctx: ProbeContext, protocol: str) -> VersionResult:
    ep, facts, approves = ctx.endpoint, ctx.facts, ctx.approves
    assert approves is not None
    if protocol == "SSLv2":
        return await probe_sslv2(ep, facts)
    if not approves(tls_usages.protocol_usage(protocol)):
        if protocol == "TLSv1.3":
            return await enumerate_tls13(ep, facts, TLS13_SUITES, (), want_suites=True)
        return await enumerate_legacy(ep, facts, protocol, list(LEGACY_SUITES),
                                      stop_after_first=True)
    bad = _flagged_suites(protocol, approves)
    if protocol == "TLSv1.3":
        result = await enumerate_tls13(ep, facts, tuple(bad), (), want_suites=bool(bad))
        return result if result.accepted or result.version_refused \
            else VersionResult(accepted=None)
    if not bad:
        return VersionResult(accepted=None)
    result = await enumerate_legacy(ep, facts, protocol, bad)
    return result if result.accepted else VersionResult(accepted=None)


def _flagged_version(protocol: str) -> Callable[[ProbeContext], Awaitable[None]]:
    async def run(ctx: ProbeContext) -> None:
        step = _compliance_version(ctx, protocol)
        # TLS 1.2 goes first and alone, not guarded: it is where a dead endpoint fails.
        ctx.facts.versions[protocol] = await (step if protocol == "TLSv1.2"
                                              else guarded_version(step))

    return run


def usages(asset: EndpointAsset) -> Iterator[CryptoUsage]:
    """The accepted protocol versions, then per version its suites (and their key
    exchanges, once each), from ``details["protocols"]``."""
    where: dict[str, Any] = {"asset_id": asset.id, "location": asset.location}
    protocols: dict[str, Any] = asset.details.get("protocols", {})
    for version in tls_catalog.PROTOCOLS:
        entry = protocols.get(version)
        if entry and entry.get("accepted"):
            yield tls_usages.protocol_usage(version, **where)
    for version in tls_catalog.PROTOCOLS:
        entry = protocols.get(version)
        if not entry or not entry.get("accepted"):
            continue
        seen_kx: set[str] = set()
        for name in entry.get("cipher_suites", []):
            suite = tls_catalog.suite(name)
            if suite is None:
                yield CryptoUsage(asset_id=asset.id, context="tls.cipher-suite",
                                  algorithm=name, location=asset.location,
                                  attributes=(("protocol", version),))
                continue
            for usage in tls_usages.cipher_suite_usages(suite, version, **where):
                if usage.context == "tls.key-exchange":
                    if usage.algorithm in seen_kx:
                        continue
                    seen_kx.add(usage.algorithm)
                yield usage


def _budget(protocol: str) -> int:
    return {"TLSv1.3": TLS13_BUDGET, "SSLv2": 1}.get(protocol, LEGACY_BUDGET)


HELLO_PROBE: Probe[ProbeContext] = Probe(
    "hello", _hello, adds=(HELLO,), budget=1, modes=(FULL,))
SUITES: tuple[Probe[ProbeContext], ...] = tuple(
    Probe(f"suites:{p}", _full_version(p), needs=(HELLO,),
          adds=(suites_fact(p), "tls13-seen") if p == "TLSv1.3" else (suites_fact(p),),
          budget=_budget(p), modes=(FULL,), usages=usages)
    for p in PROTOCOLS)
FLAGGED_SUITES: tuple[Probe[ProbeContext], ...] = tuple(
    Probe(f"flagged-suites:{p}", _flagged_version(p),
          needs=() if p == "TLSv1.2" else (suites_fact("TLSv1.2"),),
          adds=(suites_fact(p),), budget=_budget(p), modes=(COMPLIANCE,), usages=usages)
    for p in PROTOCOLS)
# The fact ``versions``: every version known, and the endpoint answered TLS. A full scan
# asks it as soon as the versions are known (what follows them waits for it); compliance
# mode at the end, after its few probes.
ANSWERED: Probe[ProbeContext] = Probe(
    "answered", _answered, needs=tuple(suites_fact(p) for p in PROTOCOLS), adds=("versions",),
    budget=0, modes=(FULL,))
ANSWERED_AT_END: Probe[ProbeContext] = Probe(
    "answered-at-end", _answered, needs=(ALL,), adds=("versions",), budget=0,
    modes=(COMPLIANCE,))
