"""``sshd_config`` and ``ssh_config``: directives, Include, Match/Host, list modifiers, defaults.

OpenSSH reads its configuration with rules that decide which algorithms are really in use:

* ``Keyword value`` or ``Keyword=value``; keywords are case-insensitive; ``#`` starts a comment.
* The first value obtained for a keyword wins; later ones are ignored (sshd_config(5),
  ssh_config(5)). A ``Match`` (sshd) or ``Host``/``Match`` (ssh) block applies to the
  connections it matches, until the next block.
* ``Include`` reads files (glob patterns, sorted; relative to the including file here), inside
  a block conditionally; a file may include to a depth of 16.
* Algorithm lists may start with ``+`` (append to the default), ``-`` (remove patterns from the
  default) or ``^`` (put at the head of the default); every entry is then expanded against
  the algorithms the version supports (wildcards allowed), as ``kex_assemble_names`` does.
* A directive that is absent takes the default of the OpenSSH version
  (``openssh_defaults.toml`` says which versions are covered and how each was checked).

:func:`config_assets` yields one ConfigAsset per cryptographic setting (file and line),
plus one per absent list directive holding its default; :func:`effective_config` gives the
settings one connection gets, to compare with ``sshd -T``/``ssh -G``.
"""

from __future__ import annotations

import glob
import ipaddress
import os
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cryptocheck.model import ConfigAsset, Location, RunError
from cryptocheck.sources.config.sshd_defaults import (
    DEFAULT_VERSION,
    assemble_names,
    covered_versions,
    default_list,
    match_pattern,
    match_pattern_list,
    supported_list,
    table_version,
)

__all__ = [
    "DEFAULT_VERSION", "Directive", "assemble_names", "config_assets", "covered_versions",
    "default_list", "directives", "effective_config", "match_pattern", "match_pattern_list",
    "supported_list", "table_version",
]

MAX_INCLUDE_DEPTH = 16

# Lower-case keyword -> (canonical spelling, algorithm kind, defaults-table key per file kind).
LIST_SETTINGS: dict[str, tuple[str, str, str]] = {
    "kexalgorithms": ("KexAlgorithms", "kex", "kex"),
    "ciphers": ("Ciphers", "cipher", "ciphers"),
    "macs": ("MACs", "mac", "macs"),
    "hostkeyalgorithms": ("HostKeyAlgorithms", "host-key", "hostkey_sig"),
    "pubkeyacceptedalgorithms": ("PubkeyAcceptedAlgorithms", "host-key", "hostkey_sig"),
    "hostbasedacceptedalgorithms": ("HostbasedAcceptedAlgorithms", "host-key", "hostkey_sig"),
    "casignaturealgorithms": ("CASignatureAlgorithms", "host-key", "ca_sig"),
    "gssapikexalgorithms": ("GSSAPIKexAlgorithms", "kex", "gssapi_kex"),
}
# Old spellings OpenSSH still accepts.
ALIASES = {
    "pubkeyacceptedkeytypes": "pubkeyacceptedalgorithms",
    "hostbasedacceptedkeytypes": "hostbasedacceptedalgorithms",
    "hostbasedkeytypes": "hostbasedacceptedalgorithms",
}
# Other settings recorded because they decide something cryptographic.
OTHER_SETTINGS = {
    "compression": "Compression", "hostkey": "HostKey", "requiredrsasize": "RequiredRSASize",
    "fingerprinthash": "FingerprintHash", "protocol": "Protocol", "rekeylimit": "RekeyLimit",
    "hostcertificate": "HostCertificate", "identityfile": "IdentityFile",
}
# Defaults written out for absent list settings, per file kind.
DEFAULTED = {
    "sshd": ("kexalgorithms", "ciphers", "macs", "hostkeyalgorithms",
             "pubkeyacceptedalgorithms", "casignaturealgorithms"),
    "ssh": ("kexalgorithms", "ciphers", "macs", "hostkeyalgorithms",
            "pubkeyacceptedalgorithms", "casignaturealgorithms"),
}
_LINE = re.compile(r"^\s*([A-Za-z][A-Za-z0-9]*)(?:\s*=\s*|\s+)(.*?)\s*$")


@dataclass(frozen=True, slots=True)
class Directive:
    """One configuration line: ``key`` is the lower-case keyword (aliases resolved)."""

    keyword: str
    key: str
    value: str
    args: tuple[str, ...]
    path: str
    line: int
    column: int
    scope: str | None  # "Match User git", "Host *.example.org"; None at top level
    criteria: tuple[str, ...] | None  # the block's condition words (without Match/Host)


# ---- reading -------------------------------------------------------------------------------


def _split_args(text: str) -> tuple[str, ...]:
    """Arguments as OpenSSH's ``argv_split`` gives them: whitespace-separated, double or
    single quotes group, backslash escapes the next character."""
    args: list[str] = []
    current: list[str] = []
    quote: str | None = None
    started = False
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text):
            current.append(text[i + 1])
            started = True
            i += 2
            continue
        if quote:
            if ch == quote:
                quote = None
            else:
                current.append(ch)
        elif ch in "\"'":
            quote = ch
            started = True
        elif ch.isspace():
            if started:
                args.append("".join(current))
                current, started = [], False
        elif ch == "#" and not started:
            break
        else:
            current.append(ch)
            started = True
        i += 1
    if started:
        args.append("".join(current))
    return tuple(args)


def _read_file(path: str) -> str:
    with open(path, encoding="utf-8", errors="replace") as handle:
        return handle.read()


def directives(path: str, text: str, kind: str, *, read: Callable[[str], str] = _read_file,
               included: set[str] | None = None) -> Iterator[Directive | RunError]:
    """Every directive of ``text`` (the file ``path``) in reading order, with Include
    followed (relative paths against the including file's directory). The absolute path of
    every included file is added to ``included`` (so a directory walk can skip them)."""
    yield from _directives(path, text, kind, read, 0, None, None,
                           included if included is not None else set())


def _directives(path: str, text: str, kind: str, read: Callable[[str], str], depth: int,
                scope: str | None, criteria: tuple[str, ...] | None, included: set[str]
                ) -> Iterator[Directive | RunError]:
    block_words = ("match",) if kind == "sshd" else ("host", "match")
    for number, raw in enumerate(text.splitlines(), start=1):
        stripped = raw.strip()
        if not stripped or stripped.startswith("#"):
            continue
        found = _LINE.match(raw)
        if found is None:
            yield RunError(Location(path=path, line=number), "syntax-error",
                           f"{kind} configuration line does not parse (keyword and value)")
            continue
        keyword = found.group(1)
        key = ALIASES.get(keyword.lower(), keyword.lower())
        args = _split_args(found.group(2))
        value = " ".join(args)
        column = raw.index(keyword) + 1
        if key in block_words:
            scope = f"{keyword} {value}".strip()
            criteria = (key, *args)
            continue
        if key == "include":
            if depth >= MAX_INCLUDE_DEPTH:
                yield RunError(Location(path=path, line=number), "include-depth",
                               f"Include nested deeper than {MAX_INCLUDE_DEPTH}")
                continue
            for pattern in args:
                full = os.path.expanduser(pattern)
                if not os.path.isabs(full):
                    full = os.path.join(os.path.dirname(path) or ".", full)
                for member in sorted(glob.glob(full)):
                    included.add(os.path.abspath(member))
                    try:
                        member_text = read(member)
                    except OSError as exc:
                        yield RunError(Location(path=member), "unreadable",
                                       f"included file cannot be read: {exc.strerror}")
                        continue
                    yield from _directives(member, member_text, kind, read, depth + 1,
                                           scope, criteria, included)
            continue
        yield Directive(keyword, key, value, args, path, number, column, scope, criteria)


# ---- assets --------------------------------------------------------------------------------


def _asset_id(path: str, line: int | None, directive: str) -> str:
    return f"config:{path}:{line if line is not None else 0}:{directive}"


def _list_details(directive: Directive | None, key: str, kind: str, version: str
                  ) -> dict[str, Any]:
    _, algorithm_kind, table_key = LIST_SETTINGS[key]
    default = default_list(table_key, version)
    supported = supported_list(table_key, version)
    unsupported: list[str] = []
    if directive is None:
        effective, modifier = default, "default"
    else:
        value = directive.args[0] if directive.args else ""
        effective, unsupported = assemble_names(value, default, supported)
        modifier = {"+": "append", "-": "remove", "^": "prepend"}.get(value[:1], "replace")
    return {
        "algorithm_kind": algorithm_kind,
        "effective": effective,
        "unsupported": unsupported,
        "modifier": modifier,
        "openssh_version": table_version(version),
    }


def _defaults_wanted(path: str) -> bool:
    """Write defaults for the main file, not for an Include snippet read on its own."""
    parent = os.path.basename(os.path.dirname(path))
    return not (path.endswith(".conf") or parent.endswith(".d"))


def config_assets(path: str, text: str, kind: str, *, version: str = DEFAULT_VERSION,
                  defaults: bool | None = None, read: Callable[[str], str] = _read_file,
                  included: set[str] | None = None) -> Iterator[ConfigAsset | RunError]:
    """One ConfigAsset per cryptographic setting of an ``sshd_config`` (``kind="sshd"``) or
    ``ssh_config`` (``kind="ssh"``), Include followed, then one per absent algorithm list
    holding the default of OpenSSH ``version``.

    Why: findings need file and line, and a file that says nothing still enables the
    defaults. ``details`` of a list setting: ``algorithm_kind``, ``effective`` (the list
    after ``+``/``-``/``^`` and wildcard expansion), ``unsupported``, ``modifier``,
    ``openssh_version``, and ``ignored`` when an earlier value of the same keyword in the
    same scope wins. ``defaults`` (None: decide by name) writes the defaults; snippets
    (``*.conf``, files in a ``*.d`` directory) are normally read through the main file.
    ``included`` receives the absolute paths of the files Include read.

    >>> [a.directive for a in config_assets("sshd_config", "Ciphers aes128-ctr\\n", "sshd")][:1]
    ['Ciphers']
    """
    if kind not in ("sshd", "ssh"):
        raise ValueError(f"kind must be 'sshd' or 'ssh', not {kind!r}")
    seen: set[tuple[str, str | None]] = set()
    global_keys: set[str] = set()
    for item in directives(path, text, kind, read=read, included=included):
        if isinstance(item, RunError):
            yield item
            continue
        if item.key not in LIST_SETTINGS and item.key not in OTHER_SETTINGS:
            continue
        canonical = (LIST_SETTINGS[item.key][0] if item.key in LIST_SETTINGS
                     else OTHER_SETTINGS[item.key])
        details: dict[str, Any] = {}
        first = (item.key, item.scope) not in seen
        multi = item.key in ("hostkey", "hostcertificate", "identityfile")
        if item.key in LIST_SETTINGS:
            details = _list_details(item, item.key, kind, version)
        elif item.key == "compression":
            details = {"algorithm_kind": "compression",
                       "effective": _compression(item.value, kind)}
        if not first and not multi:
            details["ignored"] = True
            details["reason"] = "an earlier value of this keyword in the same scope wins"
        seen.add((item.key, item.scope))
        if item.scope is None:
            global_keys.add(item.key)
        yield ConfigAsset(
            id=_asset_id(item.path, item.line, canonical),
            location=Location(path=item.path, line=item.line, column=item.column),
            kind=kind, directive=item.keyword, value=item.value, scope=item.scope,
            details=details)
    if defaults is None:
        defaults = _defaults_wanted(path)
    if not defaults:
        return
    for key in DEFAULTED[kind]:
        if key in global_keys:
            continue
        canonical = LIST_SETTINGS[key][0]
        details = _list_details(None, key, kind, version)
        details["default"] = True
        yield ConfigAsset(
            id=_asset_id(path, None, canonical), location=Location(path=path), kind=kind,
            directive=canonical, value="(default)", scope=None, details=details)


def _compression(value: str, kind: str) -> list[str]:
    """What ``Compression`` offers: sshd ``yes``/``delayed`` offer delayed zlib beside none;
    the client offers zlib first when ``yes`` (ssh_config(5), sshd_config(5))."""
    enabled = value.lower() in ("yes", "delayed")
    if kind == "sshd":
        return ["none", "zlib@openssh.com"] if enabled else ["none"]
    return ["zlib@openssh.com", "zlib", "none"] if enabled else ["none"]


# ---- effective settings for one connection (compare with sshd -T / ssh -G) ----------------


def _sshd_block_applies(criteria: Sequence[str], connection: Mapping[str, str]) -> bool:
    words = list(criteria[1:])
    if words and words[0].lower() == "all":
        return True
    i = 0
    while i + 1 < len(words):
        attribute, patterns = words[i].lower(), words[i + 1].split(",")
        value = connection.get(attribute)
        if value is None:
            return False
        if attribute in ("address", "localaddress"):
            if not _address_matches(value, patterns):
                return False
        elif not match_pattern_list(value, patterns):
            return False
        i += 2
    return True


def _address_matches(address: str, patterns: Sequence[str]) -> bool:
    matched = False
    for pattern in patterns:
        negated = pattern.startswith("!")
        body = pattern[1:] if negated else pattern
        try:
            hit = ipaddress.ip_address(address) in ipaddress.ip_network(body, strict=False)
        except ValueError:
            hit = match_pattern(address, body)
        if hit and negated:
            return False
        matched = matched or hit
    return matched


def _ssh_block_applies(criteria: Sequence[str], connection: Mapping[str, str]) -> bool:
    host = connection.get("host", "")
    if criteria[0] == "host":
        return match_pattern_list(host, list(criteria[1:]))
    return _sshd_block_applies(criteria, {**connection, "originalhost": host})


def effective_config(path: str, text: str, kind: str,
                     connection: Mapping[str, str] | None = None, *,
                     version: str = DEFAULT_VERSION,
                     read: Callable[[str], str] = _read_file) -> dict[str, list[str] | str]:
    """The settings one connection gets: lower-case keyword -> effective algorithm list
    (list settings) or value, defaults filled in, as ``sshd -T -C`` or ``ssh -G`` print.

    ``connection`` holds the match criteria (sshd: ``user``, ``host``, ``address``,
    ``localport``...; ssh: ``host``, ``user``). For sshd the first value in the global
    section is taken, then a matching Match block's first value overrides it; for ssh the
    first value in reading order among the blocks that apply wins.
    """
    connection = {k.lower(): v for k, v in (connection or {}).items()}
    chosen: dict[str, Directive] = {}
    overridden: dict[str, Directive] = {}
    for item in directives(path, text, kind, read=read):
        if isinstance(item, RunError):
            continue
        if item.criteria is None:
            chosen.setdefault(item.key, item)
        elif kind == "sshd":
            if _sshd_block_applies(item.criteria, connection):
                overridden.setdefault(item.key, item)
        elif _ssh_block_applies(item.criteria, connection):
            chosen.setdefault(item.key, item)
    chosen.update(overridden)
    result: dict[str, list[str] | str] = {}
    for key in LIST_SETTINGS:
        if key == "gssapikexalgorithms" and kind == "ssh":
            continue
        result[key] = _list_details(chosen.get(key), key, kind, version)["effective"]
    for key, item in chosen.items():
        if key not in LIST_SETTINGS:
            result[key] = item.value
    return result
