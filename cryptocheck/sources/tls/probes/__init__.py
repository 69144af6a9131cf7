"""The TLS probes: one module per check, one record per probe, and the list the scans run.

Both the full scan and the compliance scan run :data:`PROBES` (each record says in which modes
it runs) through :func:`cryptocheck.sources.probe.run_probes`, which starts each probe as soon
as the facts it needs are known. The list's order is the order the probes queue for a
connection when they become ready together, and the order the usages of an endpoint are
derived in (versions and suites, groups, DH primes, signature schemes).

Adding a check: a module here declaring its :class:`~cryptocheck.sources.probe.Probe`
record(s), and one line below.
"""

from __future__ import annotations

from collections.abc import Iterator

from cryptocheck.model import Asset, CryptoUsage, EndpointAsset
from cryptocheck.sources.probe import Probe
from cryptocheck.sources.probe import usages_of as probe_usages
from cryptocheck.sources.tls.facts import ProbeContext
from cryptocheck.sources.tls.probes import (
    chain,
    dhe,
    groups,
    order,
    schemes,
    tls13_schemes,
    versions,
)

PROBES: tuple[Probe[ProbeContext], ...] = (
    versions.HELLO_PROBE,
    *versions.SUITES,
    *versions.FLAGGED_SUITES,
    versions.ANSWERED,
    versions.ANSWERED_AT_END,
    *order.SUITE_ORDER,
    order.TLS13_GROUP_ORDER,
    groups.TLS12_GROUPS,
    groups.LEGACY_VERSION_GROUPS,
    groups.FLAGGED_TLS13_GROUPS,
    groups.FLAGGED_TLS12_GROUPS,
    dhe.DHE_PRIME,
    schemes.DHE_SCHEMES,
    schemes.FLAGGED_SCHEMES,
    tls13_schemes.TLS13_SCHEMES,
    tls13_schemes.FLAGGED_TLS13_SCHEMES,
    chain.TLS12_CHAIN,
    chain.FALLBACK_CHAIN,
)


def usages_of(asset: Asset) -> Iterator[CryptoUsage]:
    """Every usage of a ``tls-endpoint`` asset, in a fixed order: accepted protocols, then per
    protocol its suites (and their key exchanges, once each), then groups, DH primes and
    signature schemes. Each comes from the probe record that reports it
    (:data:`cryptocheck.sources.tls.probes.PROBES`); the served certificates are assets of
    their own.
    """
    if not isinstance(asset, EndpointAsset) or asset.type != "tls-endpoint":
        return
    yield from probe_usages(PROBES, asset)


__all__ = ["PROBES", "usages_of"]
