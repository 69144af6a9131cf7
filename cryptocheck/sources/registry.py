"""The one registry of sources: each kind of input is a :class:`Source` record.

A source is everything the rest of cryptocheck needs to know about one kind of input: its
name (the CLI command and the service's scan kind), a one-line help, its options class (a
frozen dataclass whose defaults are the defaults), how it turns targets into a stream of
assets, error records and waivers, how its assets become crypto usages, whether it opens
network connections, what to say when it found nothing, what a service request may tune, and
how it binds the policy and date it needs (TLS compliance mode, config inline waivers).

The command line (:mod:`cryptocheck.cli.main`), the service and the run
(:func:`cryptocheck.run.scan`) all reach sources through :data:`REGISTRY` and nothing else.
A source's module is imported only when that source is used, so that ``cryptocheck certs``
never imports the TLS scanner.

Adding a source
---------------
1. Write ``cryptocheck/sources/<kind>/source.py`` defining ``SOURCE = Source(...)`` (and the
   parser or scanner it calls). Its stream yields assets, :class:`~cryptocheck.model.RunError`
   records and any :class:`~cryptocheck.model.Waiver` found in the input, each waiver ahead
   of the assets it covers; it never judges (no source knows the policy).
2. Add one line to :data:`REGISTRY`: the name, the module, and the asset types it yields.

The CLI offers the new command at once (``cryptocheck/cli/<name>.py`` when it needs options
of its own, see :mod:`cryptocheck.cli.main`), and the service offers the new scan kind.
"""

from __future__ import annotations

import dataclasses
import importlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any, Final

from cryptocheck.model import Asset, CryptoUsage, RunError, Status, Waiver

if TYPE_CHECKING:
    from cryptocheck.sources.files import SourceStats

#: An item of a source's stream.
Item = Asset | RunError | Waiver

#: What a service request may do with a numeric option: only lower it (never harsher on the
#: network or the server than the source's own default).
LOWER: Final = "lower"

#: The usage context of a waiver found in the input that cannot be applied (expired, without
#: a reason, unreadable): the source yields it as an asset at the waiver's place, so that it
#: is judged and reported like any setting, and its finding fails a command-line run.
INVALID_WAIVER: Final = "config.waiver"

#: How a request may tune one option: :data:`LOWER` (numbers), ``bool`` (a switch) or a tuple
#: of the allowed values (a named choice).
Tunable = str | type[bool] | tuple[str, ...]

#: ``items(targets, options, stats)``: the stream of one source.
Enumerate = Callable[[Sequence[str], Any, "SourceStats"], Iterator[Item]]

#: ``read_bytes(data, name, options, stats)``: the stream of one input held in memory (an
#: upload), named ``name``.
ReadBytes = Callable[[bytes, str, Any, "SourceStats"], Iterator[Item]]

#: The policy's status for one usage on the run's date, waivers aside.
Verdict = Callable[[CryptoUsage], Status]

#: ``bind(options, verdict, as_of)``: the options with what the source needs of the run set.
#: ``verdict()`` gives the policy's :data:`Verdict`; it is called only if the source needs it
#: before its stream starts (TLS compliance mode chooses its probes with it). A source never
#: sees the policy itself, nor imports the engine.
Bind = Callable[[Any, Callable[[], Verdict], date], Any]


def unbound(options: Any, verdict: Callable[[], Verdict], as_of: date) -> Any:
    """The :data:`Bind` of a source that needs neither the policy nor the date."""
    return options


@dataclass(frozen=True)
class Source:
    """One kind of input, as a record.

    ``items`` enumerates targets into assets, errors and waivers (streaming, deterministic;
    it updates ``stats.files_read``/``files_skipped`` when it reads files); ``usages`` turns
    one of its assets into crypto usages; ``templates``, when set, gives an asset's usages as
    location-free templates judged once per distinct setting (None: judge each usage);
    ``tunable`` maps an option name to what a service request may do with it;
    ``read_bytes``, when set, reads one input from its bytes under a given name (the service
    hands it uploads so; None: uploads are written to files and the paths relabelled).

    >>> from cryptocheck.sources.registry import get_source
    >>> get_source("certs").network
    False
    """

    name: str
    help: str
    options: type[Any]
    items: Enumerate
    usages: Callable[[Asset], Iterator[CryptoUsage]]
    network: bool
    nothing_found: str
    tunable: Mapping[str, Tunable]
    bind: Bind = unbound
    templates: Callable[[Asset], Sequence[CryptoUsage] | None] | None = None
    read_bytes: ReadBytes | None = None

    def default_options(self) -> Any:
        """The options with every default (what a caller who names none gets)."""
        return self.options()

    def option_defaults(self) -> dict[str, Any]:
        """Option name -> default value, from the options class."""
        return {f.name: f.default for f in dataclasses.fields(self.options)
                if f.default is not dataclasses.MISSING}


@dataclass(frozen=True)
class Registered:
    """One registry line: a source's name, the module holding its ``SOURCE`` record, and the
    asset types its stream yields (so that an asset finds its usages without importing the
    other sources)."""

    name: str
    module: str
    asset_types: tuple[str, ...]


#: Every source, in the order the CLI and the service list them.
REGISTRY: Final = (
    Registered("certs", "cryptocheck.sources.files.source",
               ("certificate", "public-key", "private-key")),
    Registered("config", "cryptocheck.sources.config.source", ("config-setting",)),
    Registered("tls", "cryptocheck.sources.tls.source", ("tls-endpoint",)),
    Registered("ssh", "cryptocheck.sources.ssh.source", ("ssh-endpoint",)),
)

_BY_NAME: Final = {entry.name: entry for entry in REGISTRY}
_BY_ASSET_TYPE: Final = {kind: entry for entry in REGISTRY for kind in entry.asset_types}


class UnknownSource(LookupError):
    """A source name the registry does not hold (a caller mistake)."""


def source_names() -> tuple[str, ...]:
    """The names of every registered source (CLI scanning commands, service scan kinds)."""
    return tuple(entry.name for entry in REGISTRY)


def get_source(name: str) -> Source:
    """The record of source ``name``, importing its module on first use.

    >>> get_source("tls").nothing_found  # doctest: +SKIP
    'no TLS endpoints found'
    """
    record = _LOADED.get(name)
    if record is not None:
        return record
    entry = _BY_NAME.get(name)
    if entry is None:
        raise UnknownSource(f"unknown source {name!r} (known: {', '.join(source_names())})")
    record = importlib.import_module(entry.module).SOURCE
    if not isinstance(record, Source) or record.name != name:
        raise TypeError(f"{entry.module}.SOURCE is not the record of source {name!r}")
    _LOADED[name] = record
    return record


# Records already imported (the run looks one up per asset).
_LOADED: dict[str, Source] = {}


def source_of(asset: Asset) -> Source:
    """The record of the source whose stream yields assets of ``asset.type``."""
    entry = _BY_ASSET_TYPE.get(asset.type)
    if entry is None:
        raise UnknownSource(f"no registered source yields {asset.type!r} assets")
    return get_source(entry.name)


def usages_of(asset: Asset) -> Iterator[CryptoUsage]:
    """Every crypto usage of one asset, whichever source it came from, in a fixed order."""
    return source_of(asset).usages(asset)
