"""The ``tls`` source: what TLS servers negotiate, endpoint by endpoint.

Its record, for the registry (:mod:`cryptocheck.sources.registry`). The scanner is
:mod:`cryptocheck.sources.tls`; the usages come from its probe records (:mod:`cryptocheck.sources.tls.probes`).

The stream starts the scan at once (in its own thread, :func:`start_tls_scan`): the run asks
for the stream before it loads the policy and opens the reporters, so that the servers
answer while those load (start-up time is a benchmarked figure, docs/tls.md).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator, Sequence
from datetime import date
from typing import TYPE_CHECKING

from cryptocheck.model import Asset, CryptoUsage, Status
from cryptocheck.sources.registry import LOWER, Item, Source, Verdict
from cryptocheck.sources.tls import TlsOptions, TlsStats, start_tls_scan

if TYPE_CHECKING:
    from cryptocheck.sources.files import SourceStats


def _items(targets: Sequence[str], options: TlsOptions, stats: SourceStats) -> Iterator[Item]:
    return start_tls_scan(targets, options, TlsStats())


def _bind(options: TlsOptions, verdict: Callable[[], Verdict], as_of: date) -> TlsOptions:
    # Compliance mode asks only what the policy needs to decide, so it needs the verdict
    # before the first connection; a full scan needs neither (and starts sooner).
    if options.mode != "compliance":
        return options
    judge = verdict()

    # What the policy approves, or has no rule for (unknown), is not worth a connection:
    # compliance mode asks only about what it flags (legacy, deprecated, disallowed).
    def approves(usage: CryptoUsage) -> bool:
        return judge(usage) in (Status.APPROVED, Status.UNKNOWN)

    return dataclasses.replace(options, approves=approves)


def _usages(asset: Asset) -> Iterator[CryptoUsage]:
    from cryptocheck.sources.tls.probes import usages_of

    return usages_of(asset)


SOURCE = Source(
    name="tls",
    help="What TLS servers negotiate: versions, cipher suites, groups, signature schemes, "
         "certificates.",
    options=TlsOptions,
    items=_items,
    usages=_usages,
    network=True,
    nothing_found="no TLS endpoints found",
    tunable={"mode": ("full", "compliance"), "connect_timeout": LOWER, "read_timeout": LOWER,
             "retries": LOWER, "per_host": LOWER, "target_timeout": LOWER,
             "concurrency": LOWER},
    bind=_bind,
)
