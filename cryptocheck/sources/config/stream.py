"""Configuration and infrastructure-as-code: every place a protocol, cipher, key size or TLS
policy is chosen, as a :class:`~cryptocheck.model.ConfigAsset` at its file, line and column.

:func:`iter_config_items` is the one entry point (the ``config`` command and the service
use it): it walks the given paths (:mod:`cryptocheck.sources.config.walk`), decides each file's kind
(:mod:`cryptocheck.sources.config.kinds`), runs the parser for that kind and yields its assets (and
the certificates named by ``ssl_certificate`` and the like) and a RunError for each file or
include that cannot be read.

:func:`config_stream` is the same stream with the waivers found in the input: an inline
waiver comment and a baseline entry each become a :class:`~cryptocheck.model.Waiver` of the
matching asset, yielded just ahead of that asset, so that :func:`cryptocheck.run.scan`
applies it like any other waiver, whoever runs the scan (CLI or service). A waiver comment
that cannot be applied (expired, no reason, unreadable) is a ``config.waiver`` asset instead,
judged and reported at its line, and it fails the command-line run. The ``config`` source
record (:mod:`cryptocheck.sources.config.source`) enumerates with :func:`config_stream`.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from cryptocheck.model import Asset, ConfigAsset, Location, RunError, Waiver
from cryptocheck.sources.config.baseline import Fingerprints, baseline_waivers
from cryptocheck.sources.config.inline_waivers import (
    WAIVER_KIND,
    InlineWaiver,
    as_waiver,
    parse_waivers,
)
from cryptocheck.sources.config.kinds import detect_kind, might_be_config
from cryptocheck.sources.config.settings import FileContext
from cryptocheck.sources.config.walk import WalkStats, changed_files, iter_files
from cryptocheck.sources.files import SourceStats

__all__ = ["ConfigOptions", "ConfigRun", "config_stream", "iter_config_items"]

# kind -> module with parse(ctx, text) -> Iterator[Asset | RunError]
PARSERS = {
    "nginx": "cryptocheck.sources.config.nginx",
    "apache": "cryptocheck.sources.config.apache",
    "haproxy": "cryptocheck.sources.config.haproxy",
    "openssl": "cryptocheck.sources.config.openssl_conf",
    "java": "cryptocheck.sources.config.java",
    "postfix": "cryptocheck.sources.config.postfix",
    "terraform": "cryptocheck.sources.config.terraform",
    "kubernetes": "cryptocheck.sources.config.kubernetes",
}


@dataclass(frozen=True)
class ConfigOptions:
    """How to walk and read configuration.

    ``max_file_size`` bytes (larger files are skipped in a walk, an error when named);
    ``gitignore`` respects .gitignore files; ``vendored`` also reads vendored trees;
    ``changed_since`` a git revision: only files changed since it are read; ``as_of`` the
    date inline waivers are checked against (default today, UTC); ``baseline`` a baseline
    file whose findings are waived; ``inline_waivers`` honours waiver comments;
    ``skip_unknown`` skips files named explicitly that are no configuration cryptocheck
    reads, instead of reporting each as an error (for pre-commit, which names every file
    changed).
    """

    max_file_size: int = 2 * 1024**2
    gitignore: bool = True
    vendored: bool = False
    changed_since: str | None = None
    as_of: date | None = None
    baseline: str | None = None
    inline_waivers: bool = True
    skip_unknown: bool = False


@dataclass
class ConfigRun:
    """The counters of one run: files read and skipped (for the summary) and why files were
    left out of the walk. Counters only: what the run found travels in the stream."""

    stats: SourceStats = field(default_factory=SourceStats)
    walk: WalkStats = field(default_factory=WalkStats)


def _read_bytes(limit: int) -> Any:
    # The last few files read are kept: a file's waiver comments are read right after its
    # settings (and the files it includes), from the same bytes, without a second read.
    recent: dict[str, bytes] = {}

    def read(path: str) -> bytes:
        data = recent.get(path)
        if data is not None:
            return data
        with open(path, "rb") as f:
            data = f.read(limit + 1)
        if len(data) > limit:
            raise OSError(f"larger than {limit} bytes")
        if len(recent) >= 4:
            del recent[next(iter(recent))]
        recent[path] = data
        return data
    return read


def iter_config_items(paths: Sequence[str], options: ConfigOptions | None = None,
                      run: ConfigRun | None = None) -> Iterator[Asset | RunError]:
    """Every configuration setting (and certificate it names) under ``paths``, and an error
    for every file that cannot be read: :func:`config_stream` without its waivers (the
    inventory, for callers that do not judge).

    >>> items = list(iter_config_items(["tests/fixtures/config/nginx"]))  # doctest: +SKIP
    """
    for item in config_stream(paths, options, run):
        if not isinstance(item, Waiver):
            yield item


def config_stream(paths: Sequence[str], options: ConfigOptions | None = None,
                  run: ConfigRun | None = None) -> Iterator[Asset | RunError | Waiver]:
    """Every configuration setting (and certificate it names) under ``paths``, an error for
    every file that cannot be read, and every waiver the input holds (inline comments, the
    baseline's entries), each waiver just ahead of the asset it covers.

    Why: the CI gate and the service need file:line findings from one stream, complete
    (nothing silently dropped), in a deterministic order, and with the same waivers whoever
    judges it. A bad baseline raises :class:`~cryptocheck.sources.config.baseline.BaselineError`
    and a failed ``--changed-since`` a ``GitError`` (caller mistakes) at the first item.

    >>> items = list(config_stream(["tests/fixtures/config/nginx"]))  # doctest: +SKIP
    """
    options = options or ConfigOptions()
    run = run if run is not None else ConfigRun()
    as_of = options.as_of or datetime.now(UTC).date()
    only: set[str] | None = None
    if options.changed_since:
        only = set()
        for top in paths:
            root = top if os.path.isdir(top) else os.path.dirname(os.path.abspath(top))
            only |= changed_files(root, options.changed_since)
    accepted: dict[str, set[str]] = {}
    if options.baseline:
        from cryptocheck.sources.config.baseline import load_baseline

        accepted = load_baseline(options.baseline)
    fingerprints = Fingerprints()
    read = _read_bytes(options.max_file_size)
    included: set[str] = set()
    waiver_cache: dict[str, dict[int, list[InlineWaiver]]] = {}
    named = {os.path.normpath(p) for p in paths if not os.path.isdir(p)}
    for path in iter_files(paths, gitignore=options.gitignore, vendored=options.vendored,
                           only=only, stats=run.walk):
        explicit = path in named
        if included and os.path.abspath(path) in included:
            continue
        before = run.stats.files_read
        for item in _file_items(path, explicit, options, run, read, included):
            if isinstance(item, RunError):
                yield item
                continue
            if accepted:
                yield from baseline_waivers(accepted, item, fingerprints.add(item),
                                            options.baseline or "baseline")
            if options.inline_waivers:
                yield from _inline_waivers(item, as_of, read, waiver_cache)
            yield item
        if options.inline_waivers and run.stats.files_read > before and path not in waiver_cache:
            # A configuration file with no setting may still hold a waiver gone bad.
            yield from _file_waivers(path, as_of, read, waiver_cache)


def _file_items(path: str, explicit: bool, options: ConfigOptions, run: ConfigRun,
                read: Any, included: set[str]) -> Iterator[Asset | RunError]:
    if not might_be_config(path) and (not explicit or options.skip_unknown):
        run.stats.files_skipped += 1
        return
    try:
        size = os.path.getsize(path)
    except OSError as exc:
        yield RunError(Location(path=path), "unreadable", f"cannot read: {exc.strerror}")
        return
    if size > options.max_file_size:
        if explicit:
            yield RunError(Location(path=path), "too-large",
                           f"larger than the limit of {options.max_file_size} bytes")
        run.walk.skipped_large += 1
        run.stats.files_skipped += 1
        return
    try:
        data = read(path)
    except OSError as exc:
        yield RunError(Location(path=path), "unreadable", f"cannot read: {exc}")
        return
    if b"\0" in data[:8192]:
        run.walk.skipped_binary += 1
        run.stats.files_skipped += 1
        if explicit:
            yield RunError(Location(path=path), "unsupported-format", "binary file")
        return
    text = data.decode("utf-8", "replace")
    kind = detect_kind(path, text)
    if kind is None:
        run.stats.files_skipped += 1
        if explicit and not options.skip_unknown:
            yield RunError(Location(path=path), "unsupported-format",
                           "not a configuration format cryptocheck reads")
        return
    run.stats.files_read += 1
    if kind in ("sshd", "ssh"):
        yield from _ssh_items(path, text, kind, included)
        return
    ctx = FileContext(path=path, kind=kind, read_bytes=read)
    module = importlib.import_module(PARSERS[kind])
    try:
        yield from module.parse(ctx, text)
    finally:
        included |= ctx.included


def _ssh_items(path: str, text: str, kind: str, included: set[str]
               ) -> Iterator[Asset | RunError]:
    try:
        from cryptocheck.sources.config.sshd import config_assets
    except ImportError:  # the SSH package is optional here
        return
    # Files the sshd_config Includes are read through it; the walk then skips them.
    yield from config_assets(path, text, kind, included=included)


def _inline_waivers(item: Asset, as_of: date, read: Any,
                    cache: dict[str, dict[int, list[InlineWaiver]]]) -> Iterator[Asset | Waiver]:
    """The waivers the comments of the item's file give it (and, on the first item of a
    file, a problem asset for each waiver comment of that file that cannot be applied)."""
    path = item.location.path
    line = item.location.line
    if not path or line is None:
        return
    if path not in cache:
        yield from _file_waivers(path, as_of, read, cache)
    for waiver in cache[path].get(line, ()):
        yield as_waiver(waiver, path, item.id)


def _file_waivers(path: str, as_of: date, read: Any,
                  cache: dict[str, dict[int, list[InlineWaiver]]]) -> Iterator[Asset]:
    """Read the waiver comments of ``path`` once: index those that apply by the line they
    cover, and yield a problem asset for each that cannot be applied."""
    by_line: dict[int, list[InlineWaiver]] = {}
    cache[path] = by_line
    try:
        text = read(path).decode("utf-8", "replace")
    except OSError:
        return
    if "cryptocheck:" not in text:
        return
    for waiver in parse_waivers(text, as_of):
        if waiver.problem is not None:
            yield _waiver_problem(path, waiver)
        if waiver.problem in (None, "expired-waiver") and waiver.target_line is not None:
            by_line.setdefault(waiver.target_line, []).append(waiver)


def _waiver_problem(path: str, waiver: InlineWaiver) -> ConfigAsset:
    messages = {
        "expired-waiver": f"waiver for {waiver.rule} expired on {waiver.until}",
        "waiver-without-reason": f"waiver for {waiver.rule} gives no reason ('-- reason')",
        "malformed-waiver": "waiver comment cannot be read "
                            "(cryptocheck: allow RULE_ID until YYYY-MM-DD -- reason)",
    }
    return ConfigAsset(
        id=f"config:{path}:{waiver.line}:cryptocheck-waiver",
        location=Location(path=path, line=waiver.line, column=waiver.column),
        kind=WAIVER_KIND, directive="cryptocheck: allow", value=waiver.rule or "",
        details={"problem": waiver.problem, "rule": waiver.rule,
                 "until": waiver.until.isoformat() if waiver.until else None,
                 "message": messages[waiver.problem or "malformed-waiver"]})
