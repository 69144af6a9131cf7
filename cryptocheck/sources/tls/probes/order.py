"""Whether the server picks cipher suites, and groups, by its own preference.

When a server chooses by its own preference, the order of its choices during iterative removal
*is* its preference order; one more hello offering the accepted suites reversed tells whether
it does (``server_order`` in the version's entry). The same for groups: one hello offering the
groups found, reversed (``groups_server_order``). The TLS 1.2 group order is asked by the
groups probe, right after it has found them (:mod:`.groups`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from cryptocheck.sources.probe import FULL, Probe
from cryptocheck.sources.tls.connection import Endpoint
from cryptocheck.sources.tls.facts import (
    TLS13_SUITES,
    VERSIONS,
    EndpointFacts,
    ProbeContext,
    chosen_suite,
    guarded,
    hello_spec,
    send_hello,
)
from cryptocheck.sources.tls.probes.versions import suites_fact


async def server_order(ep: Endpoint, facts: EndpointFacts, protocol: str,
                       accepted: list[int]) -> bool | None:
    """Whether the server picks by its own preference: offer the accepted suites reversed."""
    if len(accepted) < 2:
        return None
    version = VERSIONS[protocol]
    offered = list(reversed(accepted))
    flight = await send_hello(ep, facts, hello_spec(ep, version, offered))
    choice = chosen_suite(flight, version, offered)
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
    flight = await send_hello(ep, facts, hello_spec(ep, version, suites, offered))
    if chosen_suite(flight, version, suites) is None or flight.hello is None:
        return
    if version >= 0x0304:
        chosen = flight.hello.selected_group
    else:
        chosen = flight.key_exchange.group if flight.key_exchange else None
    if chosen in offered:
        facts.group_order[protocol] = chosen != offered[0]


def _suite_order(protocol: str) -> Callable[[ProbeContext], Awaitable[None]]:
    async def run(ctx: ProbeContext) -> None:
        result = ctx.facts.versions[protocol]

        async def ask() -> None:
            result.server_order = await server_order(ctx.endpoint, ctx.facts, protocol,
                                                     result.suites)

        await guarded(ask())

    return run


def _accepted(protocol: str) -> Callable[[ProbeContext], bool]:
    def when(ctx: ProbeContext) -> bool:
        return protocol != "SSLv2" and bool(ctx.version(protocol).accepted)

    return when


async def _tls13_group_order(ctx: ProbeContext) -> None:
    await guarded(group_order(ctx.endpoint, ctx.facts, "TLSv1.3", TLS13_SUITES))


# TLS 1.2 and 1.3 are asked as soon as their suites are known, beside the other versions'
# enumerations; the older versions once every version is known (``versions``).
SUITE_ORDER: tuple[Probe[ProbeContext], ...] = tuple(
    Probe(f"order:{p}", _suite_order(p),
          needs=(suites_fact(p),) if p in ("TLSv1.2", "TLSv1.3") else ("versions",),
          adds=(f"order:{p}",), budget=1, modes=(FULL,), when=_accepted(p))
    for p in ("TLSv1.2", "TLSv1.3", "TLSv1.1", "TLSv1.0", "SSLv3"))
TLS13_GROUP_ORDER: Probe[ProbeContext] = Probe(
    "group-order:TLSv1.3", _tls13_group_order, needs=(suites_fact("TLSv1.3"),),
    adds=("group-order:TLSv1.3",), budget=1, modes=(FULL,), when=_accepted("TLSv1.3"))
