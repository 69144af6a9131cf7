"""The repository walk: which files of a tree are configuration to read.

Respects ``.gitignore`` files (every one met on the way down, as git does), skips version
control metadata, vendored trees (``node_modules``, ``vendor``, ``.terraform``...), binary
files and files over the size limit, and with ``changed_since`` only yields files git says
changed since that revision (plus untracked ones). Order is deterministic: sorted, with the
files that are usually the top of an include tree (``nginx.conf``, ``httpd.conf``...)
first, so that the files they include are read in their scope rather than alone.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import pathspec

VCS_DIRECTORIES = frozenset({".git", ".hg", ".svn", ".bzr"})
VENDORED_DIRECTORIES = frozenset({
    "node_modules", "vendor", "third_party", "third-party", ".terraform", "bower_components",
    "site-packages", ".venv", "venv", "__pycache__", ".tox", ".mypy_cache", ".pytest_cache",
})
# Files that are the root of an include tree: read first.
MAIN_FILES = ("nginx.conf", "httpd.conf", "apache2.conf", "haproxy.cfg", "openssl.cnf",
              "sshd_config", "ssh_config")


class GitError(Exception):
    """``--changed-since`` could not ask git (not a repository, unknown revision)."""


@dataclass
class WalkStats:
    """What the walk passed over, for the summary."""

    skipped_ignored: int = 0
    skipped_binary: int = 0
    skipped_large: int = 0
    skipped_vendored: int = 0


def _spec(directory: str) -> pathspec.PathSpec[Any] | None:
    try:
        with open(os.path.join(directory, ".gitignore"), encoding="utf-8", errors="replace") as f:
            lines = f.read().splitlines()
    except OSError:
        return None
    return pathspec.GitIgnoreSpec.from_lines(lines)


def _ignored(specs: Sequence[tuple[str, pathspec.PathSpec[Any]]], path: str, is_dir: bool) -> bool:
    ignored = False
    for base, spec in specs:
        rel = os.path.relpath(path, base).replace(os.sep, "/")
        if is_dir:
            rel += "/"
        result = spec.check_file(rel)
        if result.include is not None:
            ignored = bool(result.include)
    return ignored


def changed_files(root: str, revision: str) -> set[str]:
    """Absolute paths of the files changed since ``revision`` (committed, staged or not) and
    of untracked files not ignored, in the git work tree holding ``root``."""
    def git(*args: str) -> str:
        done = subprocess.run(["git", "-C", root, *args], capture_output=True, text=True,
                              check=False, timeout=120)
        if done.returncode != 0:
            raise GitError(done.stderr.strip() or f"git {' '.join(args)} failed")
        return done.stdout

    top = git("rev-parse", "--show-toplevel").strip()
    names = git("diff", "--name-only", "-z", "--diff-filter=ACMRT", revision, "--").split("\0")
    names += git("ls-files", "--others", "--exclude-standard", "-z").split("\0")
    # git names the work tree by its real path; the walk may reach it through a link.
    return {os.path.realpath(os.path.join(top, n)) for n in names if n}


def iter_files(paths: Sequence[str], *, gitignore: bool = True, vendored: bool = False,
               only: set[str] | None = None, stats: WalkStats | None = None) -> Iterator[str]:
    """Every file under ``paths`` to consider, in a deterministic order.

    ``only`` (absolute paths) restricts the walk (``--changed-since``). Files named
    explicitly are always yielded.
    """
    stats = stats if stats is not None else WalkStats()
    # Files named explicitly (pre-commit names every changed file): include roots first.
    for top in sorted(paths, key=lambda p: 0 if os.path.basename(p) in MAIN_FILES else 1):
        if not os.path.isdir(top):
            yield os.path.normpath(top)
            continue
        found: list[str] = []
        specs: list[tuple[str, pathspec.PathSpec[Any]]] = []
        if gitignore:
            # .gitignore files above the target still apply inside it (up to the work tree).
            parent = os.path.dirname(os.path.abspath(top))
            chain = []
            while True:
                spec = _spec(parent)
                if spec is not None:
                    chain.append((parent, spec))
                if os.path.isdir(os.path.join(parent, ".git")) or os.path.dirname(parent) == parent:
                    break
                parent = os.path.dirname(parent)
            specs = list(reversed(chain))
        _collect(os.path.abspath(top), top, specs, gitignore, vendored, only, stats, found)
        found.sort(key=_order)
        yield from found


def _order(path: str) -> tuple[int, str]:
    name = os.path.basename(path)
    return (0 if name in MAIN_FILES else 1, path)


def _collect(absdir: str, shown: str, specs: list[tuple[str, pathspec.PathSpec[Any]]],
             gitignore: bool, vendored: bool, only: set[str] | None, stats: WalkStats,
             out: list[str]) -> None:
    local = _spec(absdir) if gitignore else None
    if local is not None:
        specs = [*specs, (absdir, local)]
    try:
        entries = sorted(os.scandir(absdir), key=lambda e: e.name)
    except OSError:
        return
    for entry in entries:
        abspath = os.path.join(absdir, entry.name)
        display = os.path.normpath(os.path.join(shown, entry.name))
        if entry.is_dir(follow_symlinks=False):
            if entry.name in VCS_DIRECTORIES:
                continue
            if not vendored and entry.name in VENDORED_DIRECTORIES:
                stats.skipped_vendored += 1
                continue
            if specs and _ignored(specs, abspath, True):
                stats.skipped_ignored += 1
                continue
            _collect(abspath, display, specs, gitignore, vendored, only, stats, out)
        elif entry.is_file(follow_symlinks=False):
            if only is not None and abspath not in only and os.path.realpath(abspath) not in only:
                continue
            if specs and _ignored(specs, abspath, False):
                stats.skipped_ignored += 1
                continue
            out.append(display)
