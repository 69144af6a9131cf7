"""From targets to bytes to items: the directory walk, file reading and format sniffing.

The format of a file is decided by its content, not its name (a ``.crt`` may be DER or PEM,
a ``.pem`` may hold keys); the name only decides whether finding nothing is an error (a
``.pem`` with nothing in it) or normal (a ``README`` met during a directory walk).
"""

from __future__ import annotations

import os
import stat
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from cryptocheck.model import Asset, Location, RunError
from cryptocheck.sources.files import archive, der, jks, keys, pem, pkcs12, text
from cryptocheck.sources.files.context import FileContext, has_crypto_extension
from cryptocheck.sources.files.options import SourceOptions, SourceStats
from cryptocheck.sources.files.x509 import certificate_asset, pkcs7_assets


@dataclass
class _Run:
    options: SourceOptions
    stats: SourceStats


VCS_DIRECTORIES = frozenset({".git", ".hg", ".svn", ".bzr"})


def iter_targets(targets: Iterable[str], options: SourceOptions,
                 stats: SourceStats) -> Iterator[Asset | RunError]:
    """Items of every target in order: ``-`` is standard input, directories are walked."""
    run = _Run(options, stats)
    for target in targets:
        if target == "-":
            data = sys.stdin.buffer.read(options.max_file_size + 1)
            yield from _file_bytes(run, "-", data, explicit=True)
        elif os.path.isdir(target):
            yield from _walk(run, target)
        else:
            yield from _read_path(run, target, explicit=True)


def scan_bytes(data: bytes, path: str, options: SourceOptions,
               stats: SourceStats) -> Iterator[Asset | RunError]:
    """Items in ``data`` as if read from a file named ``path`` (named explicitly).

    For callers that already hold the bytes (a config source that found an inline
    certificate, a fuzz test); archives inside are entered with fresh limits.
    """
    yield from _file_bytes(_Run(options, stats), path, data, explicit=True)


def tree_files(top: str, follow: bool, skip: Callable[[], None],
               on_error: Callable[[OSError], None] | None = None) -> Iterator[str]:
    """The files under ``top`` in the one order every reader of a tree uses (the bulk path
    too, which must give the same records in the same order): directories and files sorted,
    version-control metadata left out, each real directory entered once when links are
    followed. A link not followed is not yielded: ``skip()`` counts it. ``on_error`` gets a
    directory that cannot be listed."""
    visited: set[str] = set()
    for dirpath, dirnames, filenames in os.walk(top, onerror=on_error, followlinks=follow):
        if follow:
            # A link back up the tree would walk forever: enter each real directory once.
            real = os.path.realpath(dirpath)
            if real in visited:
                dirnames[:] = []
                continue
            visited.add(real)
        # Version-control metadata holds compressed objects, not files people deploy.
        dirnames[:] = sorted(d for d in dirnames if d not in VCS_DIRECTORIES)
        for name in sorted(filenames):
            path = os.path.join(dirpath, name)
            if not follow and os.path.islink(path):
                skip()
                continue
            yield path


def _walk(run: _Run, top: str) -> Iterator[Asset | RunError]:
    errors: list[RunError] = []

    def on_error(exc: OSError) -> None:
        errors.append(RunError(Location(path=exc.filename), "unreadable",
                               f"directory cannot be read: {exc.strerror}"))

    def skip() -> None:
        run.stats.files_skipped += 1

    for path in tree_files(top, bool(run.options.follow_symlinks), skip, on_error):
        yield from errors
        errors.clear()
        yield from _read_path(run, path, explicit=False)
    yield from errors


def _read_path(run: _Run, path: str, explicit: bool) -> Iterator[Asset | RunError]:
    max_size = run.options.max_file_size
    try:
        info = os.stat(path)
    except FileNotFoundError:
        yield RunError(Location(path=path), "unreadable", "no such file or directory")
        return
    except OSError as exc:
        yield RunError(Location(path=path), "unreadable", f"cannot stat: {exc.strerror}")
        return
    if not stat.S_ISREG(info.st_mode) and not explicit:
        # FIFOs, sockets and devices met in a walk could block or never end.
        run.stats.files_skipped += 1
        return
    if info.st_size > max_size:
        # Decided from the size alone: a 2 GB sparse file is refused without reading it.
        yield RunError(Location(path=path), "too-large",
                       f"file is {info.st_size} bytes, over the {max_size} limit")
        return
    try:
        with open(path, "rb") as handle:
            data = handle.read(max_size + 1)
    except OSError as exc:
        yield RunError(Location(path=path), "unreadable", f"cannot read: {exc.strerror}")
        return
    yield from _file_bytes(run, path, data, explicit)


def _file_bytes(run: _Run, path: str, data: bytes,
                explicit: bool) -> Iterator[Asset | RunError]:
    max_size = run.options.max_file_size
    if len(data) > max_size:
        yield RunError(Location(path=path), "too-large", f"input is over the {max_size} limit")
        return
    yield from content_items(run, data, path, explicit, depth=0,
                             budget=archive.ArchiveBudget())


def content_items(run: _Run, data: bytes, path: str, explicit: bool, depth: int,
                  budget: archive.ArchiveBudget) -> Iterator[Asset | RunError]:
    """Every item in the bytes of one file (or archive member) found at ``path``.

    A failure no reader foresaw becomes one ``unreadable`` error for the file, so one
    hostile file never ends the run; its message names only the exception type (parser
    messages may quote the bytes). The fuzz tests fail on any such error.
    """
    try:
        yield from _content_items(run, data, path, explicit, depth, budget)
    except Exception as exc:  # noqa: BLE001 - last resort, see above
        yield RunError(Location(path=path), "unreadable",
                       f"internal error while reading this file ({type(exc).__name__})")


def _content_items(run: _Run, data: bytes, path: str, explicit: bool, depth: int,
                   budget: archive.ArchiveBudget) -> Iterator[Asset | RunError]:
    run.stats.files_read += 1
    ctx = FileContext(path, tuple(run.options.passwords))
    strict = explicit or has_crypto_extension(path)
    if not data:
        if strict:
            yield ctx.file_error("empty-file", "file is empty")
        else:
            run.stats.files_skipped += 1
        return
    if archive.is_archive(data):  # magic numbers: no text file starts with them

        def read_member(content: bytes, member: str, level: int,
                        tree: archive.ArchiveBudget) -> Iterator[Asset | RunError]:
            return content_items(run, content, member, False, level, tree)

        found = False
        for item in archive.archive_items(data, path, depth + 1, budget, run.options,
                                          read_member):
            found = True
            yield item
        if not found and strict:
            # Also what a compressed tar cut at a member boundary looks like.
            yield ctx.file_error("no-crypto-material", "archive holds no certificate or key")
        return
    if jks.is_keystore(data):
        yield from jks.keystore_assets(data, ctx)
    elif pem.has_pem(data) or not pem.is_binary(data[:65536]):
        yield from text.text_items(data, ctx, check_edges=has_crypto_extension(path))
    else:
        yield from _der_items(data, ctx, strict)
    if ctx.items == 0:
        if strict:
            yield ctx.file_error("no-crypto-material",
                                 "no certificate or key found in a format we read")
        else:
            run.stats.files_skipped += 1


def _der_items(data: bytes, ctx: FileContext, strict: bool) -> Iterator[Asset | RunError]:
    kind = der.classify(data)
    if kind == "certificate":
        yield certificate_asset(data, ctx, None, "DER")
    elif kind == "pkcs7":
        yield from pkcs7_assets(data, ctx, None, pem=False)
    elif kind == "pkcs12":
        yield from pkcs12.pkcs12_assets(data, ctx)
    elif kind in ("spki", "pkcs1-public"):
        yield keys.public_key_asset(data, kind, ctx, None)
    elif kind is not None:
        yield keys.private_key_asset(data, kind, ctx, None)
    elif strict and data[:1] == b"\x30":
        yield ctx.file_error("malformed-der", "DER structure is truncated or malformed")
    elif strict:
        yield ctx.file_error("unsupported-format", "binary file of a format we do not read")
