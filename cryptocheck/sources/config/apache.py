"""Apache httpd (mod_ssl): TLS directives per VirtualHost, includes followed.

Syntax: one directive per line (a trailing ``\\`` continues it), ``#`` comments at the start
of a line, sections ``<VirtualHost *:443> ... </VirtualHost>`` (``<IfModule>``,
``<IfDefine>`` and the like are read through). ``Include``/``IncludeOptional`` (globs
allowed) are read in place, relative to the including file, then to the main file's
directory (httpd's ServerRoot). A directive set outside any VirtualHost applies to every
VirtualHost that does not set its own (``details["inherited_by"]``).

Settings read: ``SSLProtocol``/``SSLProxyProtocol`` (``all``, ``+``/``-``), ``SSLCipherSuite``
/``SSLProxyCipherSuite`` (including the ``TLSv1.3`` form), ``SSLOpenSSLConfCmd``
(``Ciphersuites``, ``Groups``/``Curves``, ``SignatureAlgorithms``, ``MinProtocol``,
``MaxProtocol``, ``DHParameters``), ``SSLCertificateFile`` (certificates read).
"""

from __future__ import annotations

import glob
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from cryptocheck.model import Asset, RunError
from cryptocheck.sources.config import settings
from cryptocheck.sources.config.settings import FileContext

# mod_ssl's "all": every protocol the OpenSSL it runs on offers (SSLv3 is left out: OpenSSL
# builds have had it disabled by default since 1.1.0).
_ALL = ("TLSv1.0", "TLSv1.1", "TLSv1.2", "TLSv1.3")
_TLS = {"sslprotocol", "sslproxyprotocol", "sslciphersuite", "sslproxyciphersuite",
        "sslopensslconfcmd", "sslcertificatefile"}
_SECTION = re.compile(r"^<\s*(/?)\s*([A-Za-z]+)\s*([^>]*)>\s*$")


@dataclass
class Line:
    """One logical directive line."""

    name: str
    args: list[str]
    path: str
    line: int
    column: int
    scope: str | None


def _split(text: str) -> list[str]:
    out: list[str] = []
    for match in re.finditer(r'"((?:[^"\\]|\\.)*)"|(\S+)', text):
        out.append(match.group(1) if match.group(1) is not None else match.group(2))
    return out


class _Reader:
    def __init__(self, ctx: FileContext) -> None:
        self.ctx = ctx
        self.main_dir = os.path.dirname(ctx.path)
        self.errors: list[RunError] = []
        self.lines: list[Line] = []
        self.vhosts: list[str] = []

    def read(self, path: str, text: str, scope: str | None, depth: int) -> str | None:
        physical = text.splitlines()
        i = 0
        while i < len(physical):
            start = i
            raw = physical[i]
            while raw.endswith("\\") and i + 1 < len(physical):
                i += 1
                raw = raw[:-1] + " " + physical[i].strip()
            i += 1
            stripped = raw.strip()
            if not stripped or stripped.startswith("#"):
                continue
            column = len(raw) - len(raw.lstrip()) + 1
            section = _SECTION.match(stripped)
            if section:
                closing, name, args = section.groups()
                if name.lower() == "virtualhost":
                    if closing:
                        scope = None
                    else:
                        scope = f"VirtualHost {args.strip()}"
                        self.vhosts.append(scope)
                        self._server_name_pending = True
                continue
            words = _split(stripped)
            name, args_list = words[0], words[1:]
            key = name.lower()
            if key in ("include", "includeoptional") and args_list:
                self.include(args_list[0], path, start + 1, scope, depth,
                             optional=key == "includeoptional")
                continue
            if key == "servername" and scope and args_list and getattr(self, "_server_name_pending", False):
                # Name the VirtualHost by its ServerName when it has one.
                old = scope
                scope = f"{old} ({args_list[0]})"
                self.vhosts[-1] = scope
                for entry in self.lines:
                    if entry.scope == old:
                        entry.scope = scope
                self._server_name_pending = False
                continue
            self.lines.append(Line(name, args_list, path, start + 1, column, scope))
        return scope

    def include(self, pattern: str, path: str, line: int, scope: str | None, depth: int,
                optional: bool) -> None:
        if depth >= self.ctx.max_include_depth:
            self.errors.append(self.ctx.error("include-depth", f"apache: Include {pattern}: too deep",
                                              line, path))
            return
        candidates = [pattern] if os.path.isabs(pattern) else [
            os.path.join(os.path.dirname(path), pattern), os.path.join(self.main_dir, pattern)]
        for candidate in candidates:
            matches = sorted(glob.glob(candidate)) if glob.has_magic(candidate) else (
                [candidate] if os.path.exists(candidate) else [])
            if os.path.isdir(candidate):
                matches = sorted(os.path.join(candidate, n) for n in os.listdir(candidate))
            if matches:
                for match in matches:
                    if os.path.isdir(match):
                        continue
                    match = os.path.normpath(match)
                    text = self.ctx.read_text(match)
                    if text is None:
                        self.errors.append(self.ctx.error("unreadable", f"apache: Include {match}",
                                                          line, path))
                        continue
                    self.ctx.included.add(os.path.abspath(match))
                    self.read(match, text, scope, depth + 1)
                return
        if not optional and not glob.has_magic(pattern):
            self.errors.append(self.ctx.error("unreadable",
                                              f"apache: Include {pattern}: no such file", line, path))


def protocol_list(args: list[str]) -> tuple[list[str], list[str]]:
    """mod_ssl's SSLProtocol: items with ``+``/``-`` add or remove, a bare item replaces."""
    enabled: list[str] = []
    unknown: list[str] = []
    for item in args:
        sign = item[0] if item[:1] in ("+", "-") else ""
        word = item[1:] if sign else item
        names = list(_ALL) if word.lower() == "all" else (
            [n] if (n := settings.protocol_name(word)) else [])
        if not names:
            unknown.append(item)
            continue
        if sign == "-":
            enabled = [p for p in enabled if p not in names]
        elif sign == "+":
            enabled += [p for p in names if p not in enabled]
        else:
            enabled = names
    return enabled, unknown


def parse(ctx: FileContext, text: str) -> Iterator[Asset | RunError]:
    """The TLS settings of one httpd configuration file with its includes."""
    reader = _Reader(ctx)
    reader.read(ctx.path, text, None, 0)
    yield from reader.errors
    set_in: dict[str, set[str | None]] = {}
    last: dict[tuple[str, str | None], Line] = {}
    for entry in reader.lines:
        set_in.setdefault(_key(entry), set()).add(entry.scope)
        last[(_key(entry), entry.scope)] = entry
    for entry in reader.lines:
        if entry.name.lower() not in _TLS:
            continue
        extra: dict[str, Any] = {}
        final = last[(_key(entry), entry.scope)]
        if final is not entry and entry.name.lower() != "sslcertificatefile":
            # httpd keeps the last value of a directive in one context; this one is still
            # judged (the later one may be removed), and says what overrides it.
            extra["overridden_by"] = f"{final.path}:{final.line}"
        if entry.scope is None and entry.name.lower() != "sslcertificatefile":
            inherit = [v for v in reader.vhosts if v not in set_in.get(_key(entry), set())]
            if inherit:
                extra["inherited_by"] = inherit
        yield from _setting(ctx, entry, extra)


def _key(entry: Line) -> str:
    key = entry.name.lower()
    if key == "sslopensslconfcmd" and entry.args:
        return f"{key}:{entry.args[0].lower()}"
    if key == "sslciphersuite" and len(entry.args) > 1:
        return f"{key}:{entry.args[0].lower()}"
    return key


def _setting(ctx: FileContext, entry: Line, extra: dict[str, Any]) -> Iterator[Asset | RunError]:
    key = entry.name.lower()
    value = " ".join(entry.args)
    details: dict[str, Any] = {}
    if key in ("sslprotocol", "sslproxyprotocol"):
        enabled, unknown = protocol_list(entry.args)
        details = settings.protocol_details(enabled)
        if unknown:
            details["ignored"] = unknown
    elif key in ("sslciphersuite", "sslproxyciphersuite"):
        if len(entry.args) >= 2 and entry.args[0].upper() in ("TLSV1.3", "SSL"):
            protocol, spec = entry.args[0], " ".join(entry.args[1:])
            details = (settings.ciphersuites_details(spec) if protocol.upper() == "TLSV1.3"
                       else settings.cipher_details(spec))
        else:
            details = settings.cipher_details(value)
    elif key == "sslopensslconfcmd" and len(entry.args) >= 2:
        if entry.args[0].lower() == "dhparameters":
            yield from ctx.dh_param_setting(entry.line, entry.column, entry.name, entry.args[1],
                                            entry.scope, entry.path,
                                            ctx.resolve_prefixed(entry.args[1], entry.path))
            return
        details = settings.conf_command(entry.args[0], " ".join(entry.args[1:]))
    elif key == "sslcertificatefile" and entry.args:
        yield from ctx.certificates(entry.line, entry.column, entry.name, entry.args[0],
                                    entry.path, ctx.resolve_prefixed(entry.args[0], entry.path))
        return
    details.update(extra)
    yield ctx.setting(entry.line, entry.column, entry.name, value, entry.scope, details,
                      entry.path)
