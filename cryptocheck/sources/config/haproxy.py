"""HAProxy: global ``ssl-default-bind-*``/``ssl-default-server-*`` and per-``bind``/``server``
TLS options, each at its keyword's line and column.

The file is sections (``global``, ``defaults``, ``frontend NAME``, ``backend NAME``,
``listen NAME``) of one-line statements; ``#`` starts a comment. A ``bind`` or ``server``
line's protocol options (``ssl-min-ver``, ``ssl-max-ver``, ``no-sslv3``, ``no-tlsv10``...,
``force-tlsv12``) are combined with the global default options of its side, and the result
is one asset; its ``ciphers``, ``ciphersuites``, ``curves``, ``sigalgs`` are one asset each;
``crt``/``ssl-dh-param-file`` files are read. Without ``ssl-min-ver`` HAProxy (2.2 and
later) enables TLS 1.2 and up.
"""

from __future__ import annotations

import shlex
from collections.abc import Iterator
from typing import Any

from cryptocheck.model import Asset, RunError
from cryptocheck.sources.config import settings
from cryptocheck.sources.config.settings import FileContext

_SECTIONS = ("global", "defaults", "frontend", "backend", "listen", "peers", "resolvers",
             "userlist", "program", "http-errors", "ring", "cache", "mailers")
_DEFAULT_MIN = "TLSv1.2"
_NO = {"no-sslv3": "SSLv3", "no-tlsv10": "TLSv1.0", "no-tlsv11": "TLSv1.1",
       "no-tlsv12": "TLSv1.2", "no-tlsv13": "TLSv1.3"}
_FORCE = {"force-sslv3": "SSLv3", "force-tlsv10": "TLSv1.0", "force-tlsv11": "TLSv1.1",
          "force-tlsv12": "TLSv1.2", "force-tlsv13": "TLSv1.3"}
_VALUE_OPTIONS = {"ciphers", "ciphersuites", "curves", "sigalgs", "client-sigalgs",
                  "ssl-min-ver", "ssl-max-ver", "crt", "ecdhe", "ca-file", "crl-file",
                  "crt-list", "alpn", "npn", "verify", "sni", "name", "id", "maxconn",
                  "check-sni", "weight", "cookie", "inter", "rise", "fall", "port",
                  "ca-verify-file", "crt-ignore-err", "ca-ignore-err", "process",
                  "thread", "mode", "user", "group", "level", "interface", "accept-proxy",
                  "backlog", "nice", "tcp-ut", "mss", "namespace", "proto", "severity-output"}


def _tokens(line: str) -> list[tuple[str, int]]:
    """Words of a statement with their 1-based columns (comments dropped)."""
    out: list[tuple[str, int]] = []
    lexer = shlex.shlex(line, posix=True)
    lexer.whitespace_split = True
    lexer.commenters = "#"
    try:
        words = list(lexer)
    except ValueError:
        words = line.split("#", 1)[0].split()
    position = 0
    for word in words:
        found = line.find(word, position)
        if found < 0:
            found = position
        out.append((word, found + 1))
        position = found + len(word)
    return out


def protocols(options: list[str], values: dict[str, str]) -> list[str] | None:
    """The protocols an option set enables, None when it sets none of them."""
    relevant = [o for o in options if o in _NO or o in _FORCE] + [
        k for k in ("ssl-min-ver", "ssl-max-ver") if k in values]
    if not relevant:
        return None
    forced = [_FORCE[o] for o in options if o in _FORCE]
    if forced:
        return forced
    lo = settings.protocol_name(values.get("ssl-min-ver", _DEFAULT_MIN)) or _DEFAULT_MIN
    hi = settings.protocol_name(values["ssl-max-ver"]) if "ssl-max-ver" in values else None
    enabled = settings.protocol_range(lo, hi)
    return [p for p in enabled if p not in {_NO[o] for o in options if o in _NO}]


def parse(ctx: FileContext, text: str) -> Iterator[Asset | RunError]:
    """The TLS settings of one haproxy.cfg."""
    section = ""
    defaults: dict[str, tuple[list[str], dict[str, str]]] = {"bind": ([], {}), "server": ([], {})}
    for number, line in enumerate(text.splitlines(), 1):
        words = _tokens(line)
        if not words:
            continue
        keyword, column = words[0]
        if keyword in _SECTIONS:
            section = " ".join(w for w, _ in words[:2])
            continue
        if keyword.startswith("ssl-default-") and keyword.count("-") >= 3:
            yield from _global(ctx, number, column, keyword, words[1:], defaults)
        elif keyword in ("ssl-dh-param-file",) and len(words) > 1:
            yield from ctx.dh_param_setting(number, column, keyword, words[1][0], section or None)
        elif keyword == "tune.ssl.default-dh-param" and len(words) > 1 and words[1][0].isdigit():
            yield ctx.setting(number, column, keyword, words[1][0], section or None,
                              {"dh": {"bits": int(words[1][0]), "group": None}})
        elif keyword in ("bind", "server", "default-server"):
            side = "bind" if keyword == "bind" else "server"
            yield from _line(ctx, number, keyword, words, section, defaults[side], side)


def _global(ctx: FileContext, number: int, column: int, keyword: str,
            rest: list[tuple[str, int]], defaults: dict[str, tuple[list[str], dict[str, str]]],
            ) -> Iterator[Asset | RunError]:
    side = "bind" if keyword.startswith("ssl-default-bind-") else "server"
    what = keyword.split("-", 3)[3]
    value = " ".join(w for w, _ in rest)
    details: dict[str, Any] = {}
    if what == "options":
        options, values = _options(rest)
        defaults[side] = (options, values)
        enabled = protocols(options, values)
        if enabled is None:
            return
        details = settings.protocol_details(enabled)
    elif what == "ciphers":
        details = settings.cipher_details(value)
    elif what == "ciphersuites":
        details = settings.ciphersuites_details(value)
    elif what == "curves":
        details = settings.group_details(value)
    elif what in ("sigalgs", "client-sigalgs"):
        details = settings.sigalg_details(value)
    else:
        return
    yield ctx.setting(number, column, keyword, value, "global", details)


def _options(words: list[tuple[str, int]]) -> tuple[list[str], dict[str, str]]:
    options: list[str] = []
    values: dict[str, str] = {}
    i = 0
    while i < len(words):
        word = words[i][0]
        if word in ("ssl-min-ver", "ssl-max-ver") and i + 1 < len(words):
            values[word] = words[i + 1][0]
            i += 2
            continue
        options.append(word)
        i += 1
    return options, values


def _line(ctx: FileContext, number: int, keyword: str, words: list[tuple[str, int]],
          section: str, default: tuple[list[str], dict[str, str]],
          side: str) -> Iterator[Asset | RunError]:
    scope = f"{section} {keyword} {words[1][0]}" if len(words) > 1 else f"{section} {keyword}"
    options: list[str] = []
    values: dict[str, tuple[str, int]] = {}
    protocol_column: int | None = None
    i = 2 if keyword != "default-server" else 1
    while i < len(words):
        word, column = words[i]
        if word in _VALUE_OPTIONS and i + 1 < len(words):
            values[word] = (words[i + 1][0], column)
            if word in ("ssl-min-ver", "ssl-max-ver") and protocol_column is None:
                protocol_column = column
            i += 2
            continue
        if (word in _NO or word in _FORCE) and protocol_column is None:
            protocol_column = column
        options.append(word)
        i += 1
    if "ssl" not in options and keyword != "default-server":
        return
    plain = {k: v for k, (v, _) in values.items()}
    if protocol_column is not None:
        merged_options = default[0] + options
        merged_values = {**default[1], **plain}
        enabled = protocols(merged_options, merged_values) or []
        text = " ".join(w for w, _ in words[2:] if True)
        yield ctx.setting(number, protocol_column, f"{keyword} ssl protocols", text, scope,
                          settings.protocol_details(enabled))
    for option, (value, column) in values.items():
        details: dict[str, Any]
        if option == "ciphers":
            details = settings.cipher_details(value)
        elif option == "ciphersuites":
            details = settings.ciphersuites_details(value)
        elif option == "curves":
            details = settings.group_details(value)
        elif option in ("sigalgs", "client-sigalgs"):
            details = settings.sigalg_details(value)
        elif option == "crt" and side == "bind":
            yield from ctx.certificates(number, column, f"{keyword} crt", value)
            continue
        else:
            continue
        yield ctx.setting(number, column, f"{keyword} {option}", value, scope, details)
