"""OpenSSH's algorithm lists: the default tables per version and the list modifiers.

``openssh_defaults.toml`` holds, per covered OpenSSH version, the default algorithm lists and
the algorithms the version supports; :func:`assemble_names` turns a configured value
(``+``/``-``/``^`` or a plain list, wildcards allowed) into the effective list exactly as
OpenSSH's ``kex_assemble_names`` does. :mod:`cryptocheck.sources.config.sshd` uses both.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Sequence
from functools import cache
from importlib import resources
from typing import Any

DEFAULT_VERSION = "9.2"

_SUPPORTED_KEY = {"kex": "supported_kex", "ciphers": "supported_ciphers",
                  "macs": "supported_macs", "hostkey_sig": "supported_sig",
                  "ca_sig": "supported_sig", "gssapi_kex": "gssapi_kex"}


# ---- defaults --------------------------------------------------------------------------------


@cache
def _defaults() -> dict[str, Any]:
    text = resources.files("cryptocheck.sources.ssh").joinpath("openssh_defaults.toml").read_text("utf-8")
    return tomllib.loads(text)


def covered_versions() -> tuple[str, ...]:
    """The OpenSSH versions whose default tables are covered, oldest first."""
    return tuple(sorted(_defaults()["version"], key=_version_key))


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", version)[:2])


def table_version(version: str) -> str:
    """The covered table used for ``version``: the nearest covered one at or below it
    (the oldest covered one for older versions)."""
    wanted = _version_key(version)
    chosen = covered_versions()[0]
    for candidate in covered_versions():
        if _version_key(candidate) <= wanted:
            chosen = candidate
    return chosen


def default_list(table_key: str, version: str = DEFAULT_VERSION) -> list[str]:
    """The default list ``table_key`` (``kex``, ``ciphers``, ``macs``, ``hostkey_sig``,
    ``ca_sig``, ``gssapi_kex``) of OpenSSH ``version``."""
    data = _defaults()
    per_version = data["version"][table_version(version)]
    return list(per_version.get(table_key) or data["common"][table_key])


def supported_list(table_key: str, version: str = DEFAULT_VERSION) -> list[str]:
    """The algorithms of the kind of ``table_key`` that OpenSSH ``version`` supports."""
    key = _SUPPORTED_KEY[table_key]
    data = _defaults()
    per_version = data["version"][table_version(version)]
    return list(per_version.get(key) or data["common"][key])


# ---- patterns and list modifiers -----------------------------------------------------------


def _pattern_regex(pattern: str) -> re.Pattern[str]:
    return re.compile("".join(".*" if ch == "*" else "." if ch == "?" else re.escape(ch)
                              for ch in pattern) + r"\Z", re.IGNORECASE | re.DOTALL)


def match_pattern(text: str, pattern: str) -> bool:
    """OpenSSH ``match_pattern``: ``*`` and ``?`` wildcards, case-insensitive."""
    return _pattern_regex(pattern).match(text) is not None


def match_pattern_list(text: str, patterns: Sequence[str]) -> bool:
    """OpenSSH ``match_pattern_list``: true when a positive pattern matches and no negated
    (``!``) pattern does."""
    matched = False
    for pattern in patterns:
        if pattern.startswith("!"):
            if match_pattern(text, pattern[1:]):
                return False
        elif match_pattern(text, pattern):
            matched = True
    return matched


def _names(text: str) -> list[str]:
    return [name for name in text.split(",") if name]


def assemble_names(value: str, default: Sequence[str], supported: Sequence[str]
                   ) -> tuple[list[str], list[str]]:
    """The effective list for a setting ``value`` (OpenSSH ``kex_assemble_names``).

    Returns ``(effective, unsupported)``: ``unsupported`` are entries written in the value
    that match nothing the version supports (OpenSSH refuses such a configuration; they are
    kept so that a policy can still judge what another version would enable).

    >>> assemble_names("-*-sha1", ["a-sha1", "b-sha256"], ["a-sha1", "b-sha256"])[0]
    ['b-sha256']
    """
    if value.startswith("+"):
        additions = _names(value[1:])
        proposal = [*default, *[n for n in additions if n not in default]]
        written = additions
    elif value.startswith("-"):
        patterns = _names(value[1:])
        proposal = [n for n in default if not match_pattern_list(n, patterns)]
        written = []
    elif value.startswith("^"):
        head = _names(value[1:])
        proposal = [*head, *[n for n in default if n not in head]]
        written = head
    else:
        proposal = _names(value)
        written = proposal
    effective: list[str] = []
    for entry in proposal:
        for name in supported:
            if match_pattern(name, entry) and name not in effective:
                effective.append(name)
    unsupported = [entry for entry in written
                   if not any(match_pattern(name, entry) for name in supported)]
    return effective, unsupported
