"""The ``ssh`` source: what SSH servers offer, endpoint by endpoint.

Its record, for the registry (:mod:`cryptocheck.sources.registry`). The scanner is
:mod:`cryptocheck.sources.ssh.scan`; the usages come from its probe records (:mod:`cryptocheck.sources.ssh.probes`)
(which also decompose sshd_config and ssh_config settings, read by the ``config`` source).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

from cryptocheck.model import Asset, CryptoUsage
from cryptocheck.sources.registry import LOWER, Item, Source
from cryptocheck.sources.ssh.scan import SshOptions, iter_ssh_items

if TYPE_CHECKING:
    from cryptocheck.sources.files import SourceStats


def _items(targets: Sequence[str], options: SshOptions, stats: SourceStats) -> Iterator[Item]:
    return iter_ssh_items(targets, options)


def _usages(asset: Asset) -> Iterator[CryptoUsage]:
    from cryptocheck.sources.ssh.probes import usages_of

    return usages_of(asset)


SOURCE = Source(
    name="ssh",
    help="What SSH servers offer: key exchange, host keys, ciphers, MACs, group-exchange "
         "moduli.",
    options=SshOptions,
    items=_items,
    usages=_usages,
    network=True,
    nothing_found="no SSH target answered",
    tunable={"timeout": LOWER, "target_timeout": LOWER, "concurrency": LOWER,
             "per_host": LOWER, "host_keys": bool, "gex": bool},
)
