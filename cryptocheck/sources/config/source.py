"""The ``config`` source: configuration files and infrastructure code, setting by setting.

Its record, for the registry (:mod:`cryptocheck.sources.registry`). The walk, the parsers
and the waivers found in the input are in :mod:`cryptocheck.sources.config.stream`; the usages in
:mod:`cryptocheck.sources.config.usages`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator, Sequence
from datetime import date

from cryptocheck.model import Asset, ConfigAsset, CryptoUsage
from cryptocheck.sources.config.stream import ConfigOptions, ConfigRun, config_stream
from cryptocheck.sources.files import SourceStats
from cryptocheck.sources.registry import LOWER, Item, Source, Verdict


def _items(targets: Sequence[str], options: ConfigOptions, stats: SourceStats
           ) -> Iterator[Item]:
    return config_stream(targets, options, ConfigRun(stats=stats))


def _bind(options: ConfigOptions, verdict: Callable[[], Verdict], as_of: date) -> ConfigOptions:
    # Inline waivers are checked against the run's date unless the caller fixed one.
    if options.as_of is not None:
        return options
    return dataclasses.replace(options, as_of=as_of)


def _usages(asset: Asset) -> Iterator[CryptoUsage]:
    from cryptocheck.sources.config.usages import usages_of

    return usages_of(asset)


def _templates(asset: Asset) -> tuple[CryptoUsage, ...] | None:
    from cryptocheck.sources.config.usages import usage_templates

    return usage_templates(asset) if isinstance(asset, ConfigAsset) else None


SOURCE = Source(
    name="config",
    help="TLS, SSH and key settings in configuration files and infrastructure code.",
    options=ConfigOptions,
    items=_items,
    usages=_usages,
    network=False,
    nothing_found="no configuration file found",
    tunable={"max_file_size": LOWER, "gitignore": bool, "vendored": bool,
             "inline_waivers": bool},
    bind=_bind,
    templates=_templates,
)
