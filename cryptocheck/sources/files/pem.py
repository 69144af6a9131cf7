"""Find PEM blocks in any bytes: bundles, config files, YAML, JSON strings with ``\\n``.

The scanner reports each block with its label, RFC 1421 headers (for legacy encrypted
keys), decoded DER and the 1-based line where it starts; and each problem as one event:
a BEGIN without its END (``truncated-pem``), a body that is not base64 (``malformed-pem``),
binary junk between blocks (``garbage``). Text between blocks is normal and ignored.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterator
from dataclasses import dataclass

_BEGIN = re.compile(rb"-----BEGIN ([A-Z0-9][A-Z0-9 #]{0,62})-----")
_BASE64 = re.compile(rb"[A-Za-z0-9+/=]*")
# Control bytes other than TAB, LF, VT, FF, CR: never in text, always in binary junk.
_CONTROL = re.compile(rb"[\x00-\x08\x0e-\x1f\x7f]")


@dataclass(frozen=True, slots=True)
class PemBlock:
    """One complete PEM block."""

    label: str
    headers: tuple[tuple[str, str], ...]
    der: bytes
    line: int
    text: bytes  # the block re-assembled with real newlines (for loaders that want PEM)

    def header(self, name: str) -> str | None:
        for key, value in self.headers:
            if key.lower() == name.lower():
                return value
        return None


@dataclass(frozen=True, slots=True)
class PemProblem:
    """Something wrong where a PEM item or clean text should be."""

    reason: str
    message: str
    line: int


def has_pem(data: bytes | bytearray) -> bool:
    """Whether ``data`` holds at least one PEM BEGIN line."""
    return _BEGIN.search(data) is not None


def is_binary(chunk: bytes) -> bool:
    """Whether ``chunk`` is binary rather than text (control bytes or invalid UTF-8)."""
    if _CONTROL.search(chunk):
        return True
    try:
        chunk.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A sample cut in the middle of a multi-byte character is still text.
        return not (exc.reason == "unexpected end of data" and exc.start >= len(chunk) - 3)
    return False


def scan(data: bytes, check_edges: bool = False) -> Iterator[PemBlock | PemProblem]:
    """Every PEM block and problem in ``data``, in order.

    ``check_edges`` also treats binary junk before the first and after the last block as
    ``garbage`` (for files whose name says they are PEM); between blocks it always is.
    """
    line = 1
    cursor = 0  # offset up to which ``line`` is counted
    previous_end: int | None = None  # end of the last complete block
    check_gap = check_edges  # a truncated block's body is not "between blocks"
    match = _BEGIN.search(data)
    while match is not None:
        start = match.start()
        line += data.count(b"\n", cursor, start)
        cursor = start
        gap = data[previous_end or 0:start]
        if check_gap and gap and is_binary(gap):
            yield PemProblem("garbage", "binary data between PEM blocks", line)
        label = match.group(1)
        following = _BEGIN.search(data, match.end())
        limit = following.start() if following else len(data)
        end_marker = b"-----END " + label + b"-----"
        end = data.find(end_marker, match.end(), limit)
        if end < 0:
            yield PemProblem("truncated-pem",
                             f"PEM block {label.decode()!r} has no END line", line)
            check_gap = False
            previous_end = None
            match = following
            continue
        yield _decode(label.decode(), data[match.end():end], line)
        previous_end = end + len(end_marker)
        check_gap = True
        match = _BEGIN.search(data, previous_end)
    if check_edges and previous_end is not None:
        tail = data[previous_end:]
        if tail and is_binary(tail):
            line += data.count(b"\n", cursor, previous_end)
            yield PemProblem("garbage", "binary data after the last PEM block", line)


def _decode(label: str, body: bytes, line: int) -> PemBlock | PemProblem:
    if b"\\n" in body or b"\\r" in body:
        # A PEM block inside a JSON (or other escaped) string.
        body = body.replace(b"\\r", b"").replace(b"\\n", b"\n").replace(b"\\/", b"/")
    headers: list[tuple[str, str]] = []
    payload: list[bytes] = []
    for raw in body.splitlines():
        text = raw.strip().strip(b'"\',')
        if not text:
            continue
        if not payload and b":" in text:
            key, _, value = text.partition(b":")
            headers.append((key.strip().decode("ascii", "replace"),
                            value.strip().decode("ascii", "replace")))
            continue
        payload.append(text)
    joined = b"".join(b"".join(p.split()) for p in payload)
    if not joined or _BASE64.fullmatch(joined) is None:
        return PemProblem("malformed-pem", f"PEM block {label!r} body is not base64", line)
    try:
        der = base64.b64decode(joined, validate=True)
    except (binascii.Error, ValueError):
        return PemProblem("malformed-pem", f"PEM block {label!r} body is not valid base64", line)
    header_text = b"".join(f"{k}: {v}\n".encode() for k, v in headers)
    lines = [joined[i:i + 64] for i in range(0, len(joined), 64)]
    text = (f"-----BEGIN {label}-----\n".encode() + header_text
            + (b"\n" if headers else b"") + b"\n".join(lines)
            + f"\n-----END {label}-----\n".encode())
    return PemBlock(label, tuple(headers), der, line, text)
