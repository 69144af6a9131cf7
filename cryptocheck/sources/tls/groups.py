"""Key-exchange groups of TLS <= 1.2 and TLS 1.2 signature schemes, and the group order.

ECDHE groups for TLS <= 1.2 and the signature schemes of TLS 1.2 are read from the
ServerKeyExchange (which names the curve and the scheme of its signature), removing each one
found as for the suites (:mod:`.suites`); the DHE prime size comes from the ServerKeyExchange
of any DHE suite the server picked. One hello offering the groups found, reversed, tells
whether the server picks groups by its own preference (TLS 1.3 included).
"""

from __future__ import annotations

from cryptocheck.sources.tls.connection import Endpoint
from cryptocheck.sources.tls.facts import (
    LEGACY_GROUPS,
    SCHEMES,
    VERSIONS,
    EndpointFacts,
    _chosen,
    _probe,
    _spec,
)


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
