"""Java ``java.security``: what ``jdk.tls.disabledAlgorithms`` and
``jdk.certpath.disabledAlgorithms`` leave enabled.

These properties list what is *disabled*; what a policy judges is what stays enabled:
the TLS protocol versions not listed (JSSE implements SSLv3 to TLS 1.3), and the smallest
RSA, DSA, EC and DH keys a ``keySize < N`` constraint still accepts (``N`` bits). A key
algorithm with no constraint is reported at the smallest size JSSE will negotiate
(DH 1024, RSA 512; Java SE 8+ security guide) — never silently approved. The file is a
Java properties file (``key=value``, ``\\`` continues a line, ``#``/``!`` comments).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from cryptocheck.model import Asset, RunError
from cryptocheck.sources.config import settings
from cryptocheck.sources.config.settings import FileContext

_JSSE_PROTOCOLS = ("SSLv3", "TLSv1.0", "TLSv1.1", "TLSv1.2", "TLSv1.3")
_KEY_SIZE = re.compile(r"^(RSA|DSA|EC|DH|RSASSA-PSS)\s+keySize\s*(<=|<)\s*(\d+)", re.IGNORECASE)
_FLOOR = {"DH": 1024, "RSA": 512}
_PROPERTIES = ("jdk.tls.disabledAlgorithms", "jdk.certpath.disabledAlgorithms")


def properties(text: str) -> Iterator[tuple[int, int, str, str]]:
    """(line, column, key, value) of each property, continuation lines joined."""
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        raw = lines[i]
        start = i
        stripped = raw.strip()
        i += 1
        if not stripped or stripped[0] in "#!":
            continue
        while raw.endswith("\\") and i < len(lines):
            raw = raw[:-1] + lines[i].strip()
            i += 1
        match = re.match(r"^(\s*)([^=:\s]+)\s*[=:]?\s*(.*)$", raw)
        if match:
            yield start + 1, len(match.group(1)) + 1, match.group(2), match.group(3).strip()


def disabled_items(value: str) -> list[str]:
    """The comma-separated entries of a disabledAlgorithms value."""
    return [item.strip() for item in value.split(",") if item.strip()]


def parse(ctx: FileContext, text: str) -> Iterator[Asset | RunError]:
    """The disabledAlgorithms settings of one java.security file."""
    for line, column, key, value in properties(text):
        if key not in _PROPERTIES:
            continue
        items = disabled_items(value)
        plain = {i.split()[0].upper() for i in items if " " not in i}
        details: dict[str, Any] = {"disabled": items}
        if key == "jdk.tls.disabledAlgorithms":
            enabled = [p for p in _JSSE_PROTOCOLS
                       if p.upper() not in plain and p.replace(".0", "").upper() not in plain]
            details.update(settings.protocol_details(enabled))
        keys = []
        minimum: dict[str, int] = {}
        for item in items:
            match = _KEY_SIZE.match(item)
            if match:
                algorithm, operator, size = match.group(1).upper(), match.group(2), int(match.group(3))
                minimum[algorithm] = size + 1 if operator == "<=" else size
        certpath = key == "jdk.certpath.disabledAlgorithms"
        for algorithm in ("RSA", "DSA", "EC", "DH"):
            if algorithm in plain:
                continue
            floor = minimum.get(algorithm, _FLOOR.get(algorithm))
            if floor is None:
                continue
            size = floor
            if algorithm == "DH" and key == "jdk.tls.disabledAlgorithms":
                details["dh"] = {"bits": size, "group": None}
            elif algorithm in ("RSA", "DSA") and certpath:
                keys.append({"context": "public-key", "algorithm": algorithm, "key_size": size,
                             "curve": None, "format": "smallest key accepted"})
        if keys:
            details["keys"] = keys
        yield ctx.setting(line, column, key, value, None, details)
