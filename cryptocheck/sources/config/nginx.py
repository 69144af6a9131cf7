"""nginx: ``ssl_*`` directives with their scope, includes followed, inheritance resolved.

nginx's syntax: directives end with ``;``, blocks are ``name args { ... }``, ``#`` starts
a comment, arguments may be quoted. ``include`` (glob allowed) is replaced by the files it
names, relative to the including file (then to the main file's directory, nginx's prefix).
A directive set in ``http`` (or ``stream``) applies to every ``server`` that does not set
its own: each asset lists in ``details["inherited_by"]`` the servers it applies to that way.

Settings read: ``ssl_protocols``, ``ssl_ciphers``, ``ssl_conf_command`` (``Ciphersuites``,
``Groups``/``Curves``, ``SignatureAlgorithms``, ``MinProtocol``/``MaxProtocol``,
``CipherString``), ``ssl_ecdh_curve``, ``ssl_dhparam`` (the prime is read), and
``ssl_certificate`` (the certificates are read); the same for the ``proxy_``, ``grpc_``,
``uwsgi_`` upstream variants.
"""

from __future__ import annotations

import glob
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from cryptocheck.model import Asset, RunError
from cryptocheck.sources.config import settings
from cryptocheck.sources.config.settings import FileContext

_UPSTREAM_PREFIXES = ("proxy_", "grpc_", "uwsgi_")
_TLS_DIRECTIVES = ("ssl_protocols", "ssl_ciphers", "ssl_conf_command", "ssl_ecdh_curve",
                   "ssl_dhparam", "ssl_certificate")


@dataclass
class Directive:
    """One directive (or block, when ``children`` is not None) where it was written."""

    name: str
    args: list[str]
    path: str
    line: int
    column: int
    children: list[Directive] | None = None


def tokenize(text: str) -> tuple[list[tuple[str, int, int, bool]], str | None]:
    """Tokens of nginx syntax with line and column; an error message if quoting is broken."""
    out: list[tuple[str, int, int, bool]] = []
    i, n, line, col = 0, len(text), 1, 1
    while i < n:
        ch = text[i]
        if ch == "\n":
            line, col, i = line + 1, 1, i + 1
            continue
        if ch in " \t\r":
            i, col = i + 1, col + 1
            continue
        if ch == "#":
            while i < n and text[i] != "\n":
                i += 1
            continue
        if ch in ";{}":
            out.append((ch, line, col, False))
            i, col = i + 1, col + 1
            continue
        start_line, start_col = line, col
        if ch in "\"'":
            quote, i, col = ch, i + 1, col + 1
            buf = []
            while i < n and text[i] != quote:
                if text[i] == "\\" and i + 1 < n:
                    buf.append(text[i + 1])
                    i, col = i + 2, col + 2
                    continue
                if text[i] == "\n":
                    line, col = line + 1, 0
                buf.append(text[i])
                i, col = i + 1, col + 1
            if i >= n:
                return out, f"unterminated quote starting at line {start_line}"
            i, col = i + 1, col + 1
            out.append(("".join(buf), start_line, start_col, True))
            continue
        buf = []
        while i < n and text[i] not in " \t\r\n;{}" and not (text[i] == "#" and not buf):
            if text[i] == "\\" and i + 1 < n:
                buf.append(text[i:i + 2])
                i, col = i + 2, col + 2
                continue
            buf.append(text[i])
            i, col = i + 1, col + 1
        out.append(("".join(buf), start_line, start_col, False))
    return out, None


class _Parser:
    def __init__(self, ctx: FileContext, main_dir: str) -> None:
        self.ctx = ctx
        self.main_dir = main_dir
        self.errors: list[RunError] = []
        self.included: set[str] = set()

    def parse(self, path: str, text: str, depth: int) -> list[Directive]:
        tokens, problem = tokenize(text)
        if problem:
            self.errors.append(self.ctx.error("malformed-config", f"nginx: {problem}", None, path))
        pos = 0
        stack: list[list[Directive]] = [[]]
        while pos < len(tokens):
            word, line, col, _quoted = tokens[pos]
            if word == "}":
                if len(stack) == 1:
                    self.errors.append(self.ctx.error("malformed-config", "nginx: unexpected '}'",
                                                      line, path))
                else:
                    stack.pop()
                pos += 1
                continue
            if word in (";", "{"):
                pos += 1
                continue
            args: list[str] = []
            pos += 1
            end = None
            while pos < len(tokens):
                tok = tokens[pos]
                if tok[0] in (";", "{") and not tok[3]:
                    end = tok[0]
                    pos += 1
                    break
                if tok[0] == "}" and not tok[3]:
                    break
                args.append(tok[0])
                pos += 1
            if end is None:
                self.errors.append(self.ctx.error(
                    "malformed-config", f"nginx: directive {word!r} is not terminated by ';'",
                    line, path))
                continue
            if end == "{":
                block = Directive(word, args, path, line, col, [])
                stack[-1].append(block)
                assert block.children is not None
                stack.append(block.children)
                continue
            if word == "include" and args:
                stack[-1].extend(self.include(args[0], path, line, depth))
                continue
            stack[-1].append(Directive(word, args, path, line, col))
        if len(stack) > 1:
            self.errors.append(self.ctx.error("malformed-config", "nginx: unclosed block", None, path))
        return stack[0]

    def include(self, pattern: str, path: str, line: int, depth: int) -> list[Directive]:
        if depth >= self.ctx.max_include_depth:
            self.errors.append(self.ctx.error("include-depth", f"nginx: include {pattern}: too deep",
                                              line, path))
            return []
        candidates = [pattern] if os.path.isabs(pattern) else [
            os.path.join(os.path.dirname(path), pattern), os.path.join(self.main_dir, pattern)]
        for candidate in candidates:
            matches = sorted(glob.glob(candidate)) if glob.has_magic(candidate) else (
                [candidate] if os.path.exists(candidate) else [])
            if matches:
                out: list[Directive] = []
                for match in matches:
                    match = os.path.normpath(match)
                    text = self.ctx.read_text(match)
                    if text is None:
                        self.errors.append(self.ctx.error("unreadable", f"nginx: include {match}",
                                                          line, path))
                        continue
                    self.included.add(os.path.abspath(match))
                    out.extend(self.parse(match, text, depth + 1))
                return out
        if not glob.has_magic(pattern):
            self.errors.append(self.ctx.error("unreadable",
                                              f"nginx: include {pattern}: no such file", line, path))
        return []


def _scope(block: Directive, parent: str | None) -> str:
    if block.name == "server":
        names = [a for d in block.children or [] if d.name == "server_name" for a in d.args]
        listens = [d.args[0] for d in block.children or [] if d.name == "listen" and d.args]
        label = "server " + (names[0] if names else "_")
        if listens:
            label += f" (listen {listens[0]})"
        return label
    label = " ".join([block.name, *block.args])
    return f"{parent} > {label}" if parent and parent not in ("main",) else label


def _base(name: str) -> str:
    for prefix in _UPSTREAM_PREFIXES:
        if name.startswith(prefix + "ssl_"):
            return name[len(prefix):]
    return name


def _is_tls(name: str) -> bool:
    return _base(name) in _TLS_DIRECTIVES


def parse(ctx: FileContext, text: str) -> Iterator[Asset | RunError]:
    """The settings of one nginx file with its includes (recorded in ``ctx.included``)."""
    parser = _Parser(ctx, os.path.dirname(ctx.path))
    tree = parser.parse(ctx.path, text, 0)
    ctx.included |= parser.included
    yield from parser.errors
    yield from _walk(ctx, tree, "main")


def _walk(ctx: FileContext, block: list[Directive], scope: str) -> Iterator[Asset | RunError]:
    for d in block:
        if d.children is None and _is_tls(d.name):
            details_extra: dict[str, Any] = {}
            servers = _inheriting_servers(block, d.name) if d.name != "ssl_certificate" else []
            if servers:
                details_extra["inherited_by"] = servers
            yield from _setting(ctx, d, scope, details_extra)
    for d in block:
        if d.children is not None:
            yield from _walk(ctx, d.children, _scope(d, scope))


def _inheriting_servers(block: list[Directive], name: str) -> list[str]:
    """The servers below ``block`` that take ``name`` from it (they do not set their own,
    nor does an ``http``/``stream`` block between)."""
    out = []
    for d in block:
        if d.children is None or any(c.name == name for c in d.children):
            continue
        if d.name == "server":
            out.append(_scope(d, None))
        elif d.name in ("http", "stream"):
            out.extend(_inheriting_servers(d.children, name))
    return out


def _setting(ctx: FileContext, d: Directive, scope: str,
             extra: dict[str, Any]) -> Iterator[Asset | RunError]:
    base = _base(d.name)
    value = " ".join(d.args)
    details: dict[str, Any] = {}
    if base == "ssl_protocols":
        names = [settings.protocol_name(a) for a in d.args]
        details = settings.protocol_details(n for n in names if n)
        unknown = [a for a, n in zip(d.args, names, strict=True) if n is None]
        if unknown:
            details["ignored"] = unknown
    elif base == "ssl_ciphers":
        details = settings.cipher_details(value)
    elif base == "ssl_ecdh_curve":
        details = settings.group_details(value)
    elif base == "ssl_conf_command" and len(d.args) >= 2:
        details = settings.conf_command(d.args[0], " ".join(d.args[1:]))
    elif base == "ssl_dhparam":
        yield from ctx.dh_param_setting(d.line, d.column, d.name, value, scope, d.path,
                                        ctx.resolve_prefixed(value, d.path))
        return
    elif base == "ssl_certificate":
        if "$" in value or value.startswith("data:"):
            return  # a variable or inline data is resolved per request
        yield from ctx.certificates(d.line, d.column, d.name, value, d.path,
                                    ctx.resolve_prefixed(value, d.path))
        return
    details.update(extra)
    yield ctx.setting(d.line, d.column, d.name, value, scope, details, d.path)
