"""Compiled catalogue tables: what a catalogue builds from its TOML, kept between runs.

Parsing ``tls.toml`` (three thousand key/value pairs) with :mod:`tomllib` costs tens of
milliseconds at every start of a short command such as ``cryptocheck tls host``. The plain
values a catalogue builds (tuples, ints, strings, frozensets) are instead written once to a
:mod:`marshal` file in the user's cache directory and read back in about a millisecond, the
way Python keeps ``.pyc`` files beside their sources.

A compiled table is used only while its key matches: the interpreter version and the size and
modification time of every file of the catalogue package and its ``data`` folder (any edit of
a TOML table or of the code building from it makes a new key). The cache is an optimisation
only: an unwritable or unreadable cache directory, or ``CRYPTOCHECK_CACHE_DIR`` set to an
empty string, means the table is built from the TOML every time, with the same result.

>>> cached("example", lambda: (1, "two"))
(1, 'two')
"""

from __future__ import annotations

import datetime
import hashlib
import marshal
import os
import sys
import time
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")

_PACKAGE = Path(__file__).resolve().parent


def cache_dir() -> Path | None:
    """Where compiled tables live: ``$CRYPTOCHECK_CACHE_DIR``, else
    ``$XDG_CACHE_HOME/cryptocheck``, else ``~/.cache/cryptocheck`` (None: do not cache)."""
    configured = os.environ.get("CRYPTOCHECK_CACHE_DIR")
    if configured is not None:
        return Path(configured) if configured else None
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "cryptocheck"


@cache
def source_key() -> str:
    """A digest of what the compiled tables are built from (see the module docstring)."""
    digest = hashlib.sha256(sys.version.encode())
    for folder in (_PACKAGE, _PACKAGE / "data"):
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError:
            continue
        for entry in entries:
            if entry.name.endswith((".py", ".toml")) and entry.is_file():
                info = entry.stat()
                digest.update(f"{folder.name}/{entry.name}:{info.st_size}:{info.st_mtime_ns};"
                              .encode())
    return digest.hexdigest()[:20]


def cached(name: str, build: Callable[[], T]) -> T:
    """``build()``, read from the compiled file of ``name`` when one matches the sources,
    else built and written there. ``build`` must return plain marshal-able values."""
    folder = cache_dir()
    path = folder / f"{name}-{source_key()}.marshal" if folder else None
    if path is not None:
        try:
            value: T = marshal.loads(path.read_bytes())
        except (OSError, EOFError, ValueError, TypeError):
            pass
        else:
            return value
    value = build()
    if path is not None:
        temporary = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            temporary.write_bytes(marshal.dumps(value))  # type: ignore[arg-type]
            os.replace(temporary, path)
            if folder is not None:
                _prune(folder, name, path)
        except (OSError, ValueError):
            try:
                temporary.unlink()
            except OSError:
                pass
    return value


# Parsed policy texts kept at most (each run's policy adds one when it is new; a user editing
# a policy file, or a test suite making hundreds, would otherwise fill the cache).
MAX_PARSED_TEXTS = 64
# Tables of other sources are kept this long: two installs of different versions sharing the
# cache (a pipx install and a project's venv) would otherwise remove each other's at every run.
STALE_DAYS = 30


def _prune(folder: Path, name: str, written: Path) -> None:
    """Remove what the file just written replaces: tables built from other sources (another
    version, or another install sharing the cache) once unwritten for :data:`STALE_DAYS`, and
    the oldest parsed texts beyond :data:`MAX_PARSED_TEXTS`."""
    key = source_key()
    parsed: list[tuple[float, Path]] = []
    stale_before = time.time() - STALE_DAYS * 86400
    for entry in folder.glob("*.marshal"):
        if entry == written or entry.name.startswith("dataclass-code-"):  # not a table
            continue
        stem = entry.name[:-len(".marshal")]
        try:
            written_at = entry.stat().st_mtime
        except OSError:
            continue
        if not stem.endswith(key):
            if written_at < stale_before:
                entry.unlink(missing_ok=True)
        elif stem.startswith("toml-"):
            parsed.append((written_at, entry))
    if name.startswith("toml-"):
        parsed.sort()
        for _, entry in parsed[:max(0, len(parsed) + 1 - MAX_PARSED_TEXTS)]:
            entry.unlink(missing_ok=True)


def parse_toml(text: str) -> dict[str, Any]:
    """``tomllib.loads(text)``, compiled once per distinct text (policy files are parsed at
    every run; their parsed form is kept like a catalogue's). Errors are tomllib's."""
    digest = hashlib.sha256(text.encode()).hexdigest()[:24]
    encoded = cached(f"toml-{digest}", lambda: _encode(_parse(text)))
    decoded: dict[str, Any] = _decode(encoded)
    return decoded


def _parse(text: str) -> dict[str, Any]:
    import tomllib  # on use: a text parsed before is read from the cache

    return tomllib.loads(text)


# TOML dates and times are not marshal-able: they are kept as tagged tuples (a TOML document
# has no tuples of its own, so a tuple is always a tag).
_TIME_TYPES: tuple[tuple[str, type], ...] = (
    ("datetime", datetime.datetime), ("date", datetime.date), ("time", datetime.time))


def _encode(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _encode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_encode(v) for v in value]
    if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
        tag = next(tag for tag, kind in _TIME_TYPES if isinstance(value, kind))
        return (tag, value.isoformat())
    return value


def _decode(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode(v) for v in value]
    if isinstance(value, tuple):
        kind = dict(_TIME_TYPES)[value[0]]
        return kind.fromisoformat(value[1])  # type: ignore[attr-defined]
    return value
