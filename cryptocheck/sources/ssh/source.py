"""The ``ssh`` source: what SSH servers offer, endpoint by endpoint, and the sshd_config and
ssh_config files named beside them.

Its record, for the registry (:mod:`cryptocheck.sources.registry`). The scanner is
:mod:`cryptocheck.sources.ssh.scan`; the usages come from its probe records
(:mod:`cryptocheck.sources.ssh.probes`) and, for the configuration files, from the config
source's sshd parser (:mod:`cryptocheck.sources.config.sshd`), whose ``ssh.*`` usages are the
same as a server's.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from cryptocheck.model import Asset, ConfigAsset, CryptoUsage, Location, RunError
from cryptocheck.sources.registry import LOWER, Item, Source
from cryptocheck.sources.ssh.scan import SshOptions, iter_ssh_items

if TYPE_CHECKING:
    from cryptocheck.sources.files import SourceStats


def config_items(options: SshOptions) -> Iterator[ConfigAsset | RunError]:
    """The settings of every file of ``options.sshd_configs`` then ``options.ssh_configs``,
    absent algorithm lists filled with the defaults of ``options.openssh_version``; a file
    that cannot be read is one error record."""
    if not options.sshd_configs and not options.ssh_configs:
        return
    # Imported here: a scan of servers alone does not load the configuration parser.
    from cryptocheck.sources.config import sshd

    named = [(path, "sshd") for path in options.sshd_configs]
    named += [(path, "ssh") for path in options.ssh_configs]
    for path, kind in named:
        try:
            text = Path(path).read_text("utf-8", errors="replace")
        except OSError as exc:
            yield RunError(Location(path=path), "unreadable", f"cannot read: {exc.strerror}")
            continue
        yield from sshd.config_assets(path, text, kind, version=options.openssh_version,
                                      defaults=True)


def hosts(targets: Sequence[str], options: SshOptions) -> list[str]:
    """The targets to connect to: ``targets`` less the configuration files of ``options``.

    A command names its configuration files among the run's targets (the report's scope
    lists everything the run read); each is taken out once, so that a host that happens to
    share a file's name is still scanned as often as it was named.
    """
    files = Counter([*options.sshd_configs, *options.ssh_configs])
    found: list[str] = []
    for target in targets:
        if files[target]:
            files[target] -= 1
        else:
            found.append(target)
    return found


def _items(targets: Sequence[str], options: SshOptions, stats: SourceStats) -> Iterator[Item]:
    # The configuration files are judged first, beside the servers, in the same run.
    yield from config_items(options)
    servers = hosts(targets, options)
    if servers:
        yield from iter_ssh_items(servers, options)


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
    # Never sshd_configs, ssh_configs or openssh_version: a request must not name files on
    # the server (tests/test_ssh_source.py holds it to that).
    tunable={"timeout": LOWER, "target_timeout": LOWER, "concurrency": LOWER,
             "per_host": LOWER, "host_keys": bool, "gex": bool},
)
