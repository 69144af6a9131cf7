"""Which protocol versions and cipher suites an endpoint accepts, in the server's order.

Cipher suites, per protocol version, by iterative removal: offer every suite of the IANA
registry, record the server's choice, remove it, offer the rest, until the server refuses —
(accepted + 1) connections per version, not one per suite. When a server chooses by its own
preference, the order of its choices *is* its preference order; one more connection offering
the accepted suites reversed tells whether it does.

TLS 1.3 groups come with the suites: the ClientHello carries an empty key_share, so the
server answers with a HelloRetryRequest naming the group it wants (and the suite) without any
key material being exchanged; the chosen group is removed too. SSLv2 takes one connection.
"""

from __future__ import annotations

import asyncio

from cryptocheck.catalog import tls as tls_catalog
from cryptocheck.sources.tls import wire
from cryptocheck.sources.tls.connection import Endpoint, sslv2_exchange
from cryptocheck.sources.tls.facts import (
    TLS13_GROUPS,
    TLS13_SUITES,
    VERSIONS,
    EndpointFacts,
    VersionResult,
    _add,
    _chosen,
    _probe,
    _spec,
)


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
