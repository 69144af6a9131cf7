"""Probes as records, and the small scheduler that runs a list of them against one endpoint.

A probe is one check of a live endpoint (TLS: the suites of one protocol version, the groups,
the signature schemes, the chain...; SSH: the KEXINIT lists, the host keys, the group-exchange
moduli). Its record says what it is called, which facts it needs before it can start, which
facts it adds, how many connections it may open (its budget), in which scan modes it runs and
which crypto usages are derived from what it found. The TLS and SSH scanners each keep one list
of records (``sources/tls/probes``, ``sources/ssh/probes``); adding a check is one module and
one line in that list.

The scheduler starts every probe of a mode at once and lets each wait for its ``needs``: a fact
is ready when every probe of the mode that adds it has ended (or when one of them announces it
early, :func:`announce`). So a probe starts as soon as what it reads is known, beside the
others, within the connection limits the scanner's connection layer keeps. The first
exception of any probe cancels the others and ends the scan of that endpoint: a probe that
tolerates a failure catches it itself.

Budgets are kept, not only declared: the connection layer calls :func:`charge` for each
connection it opens, and a probe that opens more than its budget fails with
:class:`BudgetExceeded` (a bug in the probe, never the server's doing).

>>> # await run_probes(PROBES, context, "full", counts)
"""

from __future__ import annotations

import asyncio
import contextvars
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from cryptocheck.model import CryptoUsage, EndpointAsset

__all__ = ["ALL", "COMPLIANCE", "FULL", "BudgetExceeded", "Probe", "announce", "charge",
           "plan", "run_probes", "usages_of"]

FULL, COMPLIANCE = "full", "compliance"
# In ``needs``: every other probe of the mode (those that do not need ALL themselves) has
# ended. For what comes last whatever is added before it (the TLS chain fallback).
ALL = "*"

Context = TypeVar("Context")


class BudgetExceeded(RuntimeError):
    """A probe opened more connections than its record allows (a bug in the probe)."""


def _always(_context: Any) -> bool:
    return True


@dataclass(frozen=True)
class Probe(Generic[Context]):
    """One check of an endpoint, as a record.

    ``run(context)`` does the check, adding to the scanner's facts; ``when(context)``, asked
    once ``needs`` are ready, decides whether it runs at all (a skipped probe adds nothing and
    opens no connection). ``needs`` and ``adds`` are fact names (``"suites:TLSv1.2"``) or
    :data:`ALL`. ``budget`` bounds the connections it opens (retries of a failed connect
    apart): a number, or a function of the context, asked when the probe starts, for a probe
    whose work depends on what the server listed (one connection per host key type). ``usages``, when set, derives the crypto usages of the endpoint asset from the
    facts this probe reports (it is called once per distinct function, in list order).
    """

    name: str
    run: Callable[[Context], Awaitable[None]]
    needs: tuple[str, ...] = ()
    adds: tuple[str, ...] = ()
    budget: int | Callable[[Context], int] = 1
    modes: tuple[str, ...] = (FULL, COMPLIANCE)
    when: Callable[[Context], bool] = _always
    usages: Callable[[EndpointAsset], Iterator[CryptoUsage]] | None = None


@dataclass
class _Running:
    probe: Probe[Any]
    budget: int
    counts: dict[str, int]
    ready: dict[str, asyncio.Event]


# The probe the current asyncio task runs: each probe runs in a task of its own, and a task
# works on a copy of the context, so the connection layer can charge the right probe without
# every helper passing it down.
_running: contextvars.ContextVar[_Running | None] = contextvars.ContextVar(
    "cryptocheck_probe", default=None)


def charge() -> None:
    """Count one connection against the running probe's budget (nothing outside a probe);
    :class:`BudgetExceeded` when it is spent."""
    running = _running.get()
    if running is None:
        return
    name = running.probe.name
    running.counts[name] = running.counts.get(name, 0) + 1
    if running.counts[name] > running.budget:
        raise BudgetExceeded(f"probe {name} opened more than its budget of "
                             f"{running.budget} connections")


def announce(fact: str) -> None:
    """Make ``fact`` ready now, before the running probe ends (it must be one of its
    ``adds``): what waits for it starts beside the rest of the probe."""
    running = _running.get()
    if running is None or fact not in running.probe.adds:
        raise ValueError(f"{fact!r} is not a fact of the running probe")
    running.ready[fact].set()


def plan(probes: Sequence[Probe[Context]], mode: str) -> list[Probe[Context]]:
    """The probes of ``mode``, in list order, checked: names unique, every fact needed added
    by some probe of the mode, no cycle. A ValueError names what is wrong."""
    selected = [p for p in probes if mode in p.modes]
    names = [p.name for p in selected]
    if len(set(names)) != len(names):
        raise ValueError(f"probe names repeated in mode {mode}: {names}")
    adders: dict[str, list[str]] = {}
    for probe in selected:
        for fact in probe.adds:
            adders.setdefault(fact, []).append(probe.name)
    last = [p.name for p in selected if ALL in p.needs]
    after: dict[str, set[str]] = {p.name: set() for p in selected}  # probe -> probes it waits for
    for probe in selected:
        for fact in probe.needs:
            if fact == ALL:
                after[probe.name].update(n for n in names if n not in last)
            elif fact not in adders:
                raise ValueError(f"probe {probe.name} needs {fact!r}, which no probe of "
                                 f"mode {mode} adds")
            else:
                after[probe.name].update(adders[fact])
    waiting = {name: set(deps) for name, deps in after.items()}
    while waiting:
        free = [name for name, deps in waiting.items() if not deps]
        if not free:
            raise ValueError(f"probes wait for one another in mode {mode}: {sorted(waiting)}")
        for name in free:
            del waiting[name]
        for deps in waiting.values():
            deps.difference_update(free)
    return selected


async def run_probes(probes: Sequence[Probe[Context]], context: Context, mode: str,
                     counts: dict[str, int] | None = None) -> None:
    """Run the probes of ``mode`` on ``context``, each as soon as its needs are ready;
    ``counts`` receives the connections each opened. The first exception cancels the rest
    and is raised."""
    selected = plan(probes, mode)
    counts = counts if counts is not None else {}
    remaining = Counter(fact for probe in selected for fact in probe.adds)
    ready = {fact: asyncio.Event() for fact in remaining}
    ordinary: list[asyncio.Task[None]] = []

    async def one(probe: Probe[Context]) -> None:
        for fact in probe.needs:
            if fact != ALL:
                await ready[fact].wait()
            elif ordinary:
                await asyncio.wait(ordinary)
        if probe.when(context):
            budget = probe.budget(context) if callable(probe.budget) else probe.budget
            token = _running.set(_Running(probe, budget, counts, ready))
            try:
                await probe.run(context)
            finally:
                _running.reset(token)
        for fact in probe.adds:
            remaining[fact] -= 1
            if not remaining[fact]:
                ready[fact].set()

    tasks: list[asyncio.Task[None]] = []
    for probe in selected:
        task = asyncio.create_task(one(probe), name=f"probe {probe.name}")
        tasks.append(task)
        if ALL not in probe.needs:
            ordinary.append(task)
    try:
        await asyncio.gather(*tasks)
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise


def usages_of(probes: Sequence[Probe[Any]], asset: EndpointAsset) -> Iterator[CryptoUsage]:
    """The usages of an endpoint asset: each distinct ``usages`` function of ``probes``, in
    list order (several records of one check share theirs)."""
    seen: list[Callable[[EndpointAsset], Iterator[CryptoUsage]]] = []
    for probe in probes:
        if probe.usages is not None and probe.usages not in seen:
            seen.append(probe.usages)
            yield from probe.usages(asset)
