"""TLS endpoints: what each server negotiates, as assets for the policy to judge.

:func:`iter_tls_items` scans targets concurrently (asyncio) within per-host and global
connection limits, and yields each endpoint asset, followed by the certificates it served,
as soon as that endpoint is finished; an endpoint that cannot be scanned is one
:class:`~cryptocheck.model.RunError`. See docs/tls.md.

>>> # for item in iter_tls_items(["example.org"], TlsOptions()): print(item)
"""

from __future__ import annotations

import asyncio
import queue
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from cryptocheck.model import Asset, CryptoUsage, Location, RunError
from cryptocheck.sources.tls.options import TlsOptions, TlsStats
from cryptocheck.sources.tls.targets import Target, TargetError, parse_target

__all__ = ["TlsOptions", "TlsStats", "iter_tls_items", "start_tls_scan"]


def _approver(options: TlsOptions) -> Callable[[CryptoUsage], bool]:
    if options.approves is None:
        raise ValueError("compliance mode needs the caller's approves predicate")
    return options.approves


def _expand(targets: Sequence[str], options: TlsOptions) -> Iterator[Target | RunError]:
    for text in targets:
        try:
            yield from parse_target(text, options.sni, options.ports)
        except TargetError as exc:
            yield RunError(Location(host=text), "bad-target", str(exc))


def iter_tls_items(targets: Sequence[str], options: TlsOptions,
                   stats: TlsStats | None = None) -> Iterator[Asset | RunError]:
    """Scan ``targets`` and yield, as each endpoint finishes, its EndpointAsset and then the
    CertificateAssets it served (or one RunError). A background thread runs the asyncio
    scanner; this generator streams its results, so memory does not grow with the targets.
    The scan starts at the first ``next()`` (see :func:`start_tls_scan` to start it now)."""
    yield from start_tls_scan(targets, options, stats)


def start_tls_scan(targets: Sequence[str], options: TlsOptions,
                   stats: TlsStats | None = None) -> Iterator[Asset | RunError]:
    """:func:`iter_tls_items`, but the scanner thread starts at once: the command line starts
    the network work first and loads the policy and the reporters while the servers answer.
    The returned iterator must be consumed (the scanner waits when 1,024 items are unread)."""
    results: queue.Queue[Asset | RunError | None] = queue.Queue(maxsize=1024)
    stats = stats if stats is not None else TlsStats()
    failure: list[BaseException] = []

    def run() -> None:
        try:
            asyncio.run(_scan_all(targets, options, results, stats))
        except BaseException as exc:  # noqa: BLE001 - re-raised in the consuming thread
            failure.append(exc)
        finally:
            results.put(None)

    thread = threading.Thread(target=run, name="cryptocheck-tls", daemon=True)
    thread.start()
    return _drain(results, thread, failure)


def _drain(results: queue.Queue[Asset | RunError | None], thread: threading.Thread,
           failure: list[BaseException]) -> Iterator[Asset | RunError]:
    while True:
        item = results.get()
        if item is None:
            break
        yield item
    thread.join()
    if failure:
        raise failure[0]


def _warm_up() -> None:
    """Import what turns facts into assets (cryptography's X.509 and verifier) and read the
    trust stores, in a worker thread while the first probes wait for the server."""
    from cryptocheck.sources.tls.certs import warm_up

    warm_up()


async def _scan_all(targets: Sequence[str], options: TlsOptions,
                    results: queue.Queue[Asset | RunError | None], stats: TlsStats) -> None:
    from cryptocheck.sources.tls.endpoint import scan_target

    global_limit = asyncio.Semaphore(options.global_limit)
    limiters: dict[str, Any] = {}
    pending: set[asyncio.Task[list[Asset | RunError]]] = set()
    approves = _approver(options) if options.mode == "compliance" else None
    total = done = 0
    started = time.monotonic()
    loop = asyncio.get_running_loop()
    warming = loop.run_in_executor(None, _warm_up)

    async def put(items: list[Asset | RunError]) -> None:
        for item in items:
            await loop.run_in_executor(None, results.put, item)

    def progress() -> None:
        if options.progress:
            rate = done / max(time.monotonic() - started, 1e-6)
            sys.stderr.write(f"\r\x1b[Kcryptocheck tls: {done}/{total} endpoints, "
                             f"{stats.connections} connections, {rate:.1f}/s")
            sys.stderr.flush()

    for entry in _expand(targets, options):
        if isinstance(entry, RunError):
            stats.errors += 1
            await put([entry])
            continue
        total += 1
        if len(pending) >= options.concurrency:
            finished, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            for task in finished:
                done += 1
                await put(task.result())
            progress()
        pending.add(asyncio.create_task(
            scan_target(entry, options, global_limit, limiters, stats, approves)))
    while pending:
        finished, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
        for task in finished:
            done += 1
            await put(task.result())
        progress()
    if options.progress:
        sys.stderr.write("\n")
    await warming
