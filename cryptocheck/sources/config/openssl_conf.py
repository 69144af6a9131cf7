"""OpenSSL configuration (``openssl.cnf``): the SSL_CONF commands of its sections.

The file is ``[section]`` headers and ``name = value`` lines, ``#`` comments, ``.include``
of files or directories. Every section entry named like an SSL_CONF command (``MinProtocol``,
``MaxProtocol``, ``CipherString``, ``Ciphersuites``, ``Groups``/``Curves``,
``SignatureAlgorithms``, ``Protocol``) is one asset, scoped by its section; the
``system_default`` section (reached from ``openssl_conf`` -> ``ssl_conf``) is what every
program using the system OpenSSL gets.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator

from cryptocheck.model import Asset, RunError
from cryptocheck.sources.config import settings
from cryptocheck.sources.config.settings import FileContext

_COMMANDS = {"minprotocol", "maxprotocol", "cipherstring", "ciphersuites", "groups", "curves",
             "signaturealgorithms", "clientsignaturealgorithms", "protocol"}
_SECTION = re.compile(r"^\s*\[\s*([^\]]+?)\s*\]")
_ENTRY = re.compile(r"^(\s*)([A-Za-z0-9_.$:-]+)\s*=\s*(.*?)\s*$")


def parse(ctx: FileContext, text: str) -> Iterator[Asset | RunError]:
    """The SSL_CONF settings of one OpenSSL configuration file (and what it includes)."""
    yield from _read(ctx, ctx.path, text, 0)


def _bounds(text: str) -> dict[str, dict[str, str]]:
    """section -> {"minprotocol": value, "maxprotocol": value} as written in it."""
    out: dict[str, dict[str, str]] = {}
    section = "default"
    for raw in text.splitlines():
        line = _strip_comment(raw)
        header = _SECTION.match(line)
        if header:
            section = header.group(1)
            continue
        entry = _ENTRY.match(line)
        if entry and entry.group(2).lower() in ("minprotocol", "maxprotocol"):
            out.setdefault(section, {})[entry.group(2).lower()] = entry.group(3).strip().strip('"')
    return out


def _read(ctx: FileContext, path: str, text: str, depth: int) -> Iterator[Asset | RunError]:
    section = "default"
    bounds = _bounds(text)
    for number, raw in enumerate(text.splitlines(), 1):
        line = _strip_comment(raw)
        if not line.strip():
            continue
        header = _SECTION.match(line)
        if header:
            section = header.group(1)
            continue
        if line.strip().startswith(".include"):
            target = line.strip()[len(".include"):].lstrip(" =").strip()
            yield from _include(ctx, path, target, number, depth)
            continue
        entry = _ENTRY.match(line)
        if entry is None:
            continue
        indent, name, value = entry.groups()
        if name.lower() not in _COMMANDS:
            continue
        value = value.strip().strip('"')
        details = settings.conf_command(name, value)
        if name.lower() in ("minprotocol", "maxprotocol"):
            # MinProtocol and MaxProtocol of one section bound the same range.
            pair = bounds.get(section, {})
            low = settings.protocol_name(pair.get("minprotocol", ""))
            high = settings.protocol_name(pair.get("maxprotocol", ""))
            details = settings.protocol_details(settings.protocol_range(low, high))
        yield ctx.setting(number, len(indent) + 1, name, value, f"[{section}]", details, path)


def _strip_comment(line: str) -> str:
    out = []
    quote = ""
    for ch in line:
        if quote:
            if ch == quote:
                quote = ""
        elif ch in "\"'":
            quote = ch
        elif ch == "#":
            break
        out.append(ch)
    return "".join(out)


def _include(ctx: FileContext, path: str, target: str, line: int,
             depth: int) -> Iterator[Asset | RunError]:
    if depth >= ctx.max_include_depth:
        yield ctx.error("include-depth", f"openssl: .include {target}: too deep", line, path)
        return
    full = ctx.resolve(target, path)
    files = ([os.path.join(full, n) for n in sorted(os.listdir(full))
              if n.endswith((".cnf", ".conf"))] if os.path.isdir(full) else [full])
    for name in files:
        text = ctx.read_text(name)
        if text is None:
            yield ctx.error("unreadable", f"openssl: .include {name}", line, path)
            continue
        ctx.included.add(os.path.abspath(name))
        yield from _read(ctx, name, text, depth + 1)
