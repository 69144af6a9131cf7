"""Helpers of the bulk reader: what a file's text names, paths as the output writes them,
the directory walk, and small stream adapters."""

from __future__ import annotations

import base64
import binascii
import io
import os
import stat
from collections.abc import Iterator
from typing import IO, Any, Protocol

from cryptocheck.bulk.lines import json_text
from cryptocheck.model import Asset, RunError
from cryptocheck.sources.files import SourceOptions, openssh, pem, text
from cryptocheck.sources.files.context import FileContext
from cryptocheck.sources.files.walk import tree_files


class SkipCounter(Protocol):
    """What :func:`walk` counts into (the reader's ``Tally``); a protocol, so that this
    module does not import the entries module that imports it."""

    files_skipped: int

# Text in which the normal path finds more than PEM blocks (Kubernetes Secrets, SSH public
# keys quoted in text: every key type name holds one of the last three).
OTHER_TEXT = (b"tls.crt", b"tls.key", b"ca.crt", b"ssh-", b"ecdsa-sha2-", b"-cert-v01@")


def names_other_items(text_bytes: bytes | bytearray) -> bool:
    return any(marker in text_bytes for marker in OTHER_TEXT)


def text_after_blocks(data: bytes, ctx: FileContext) -> Iterator[Asset | RunError]:
    """What :func:`cryptocheck.sources.files.text.text_items` finds in a PEM text after its blocks,
    in the same order (Kubernetes Secrets, then SSH public keys quoted in the text)."""
    if b"tls.crt" in data or b"tls.key" in data or b"ca.crt" in data:
        yield from text.kubernetes_items(data, ctx)
    try:
        decoded = data.decode("utf-8")
    except UnicodeDecodeError:
        return
    yield from openssh.embedded_public_keys(decoded, ctx)


def reread(path: str, limit: int) -> bytes | None:
    """The whole file again, when it is a file the normal path would read whole."""
    try:
        if path == "-" or "!" in path and not os.path.exists(path) or \
                os.stat(path).st_size > limit:
            return None
        with open(path, "rb") as handle:
            return handle.read(limit + 1)
    except OSError:
        return None


def key_numbers(key: bytes) -> tuple[int, ...]:
    """The six integers the C scanner puts at the end of a class key."""
    tail = key[-48:]
    return tuple(int.from_bytes(tail[i:i + 8], "little", signed=True) for i in range(0, 48, 8))


def json_path(path: str) -> bytes:
    """``path`` as the wire format writes it (a lone surrogate from an undecodable file name
    as the text ``\\udcxx``, as every other record does)."""
    return json_text(path).encode()


def raw_path(path: str) -> bytes:
    return path.encode("utf-8", "surrogateescape")


def certificate_bytes(value: Any) -> bytes | None:
    if not isinstance(value, str):
        return None
    if "-----BEGIN" in value:
        for event in pem.scan(value.encode()):
            if isinstance(event, pem.PemBlock):
                return event.der
        return None
    try:
        return base64.b64decode("".join(value.split()), validate=True)
    except (binascii.Error, ValueError):
        return None


def looks_like_base64_lines(data: bytes | bytearray) -> bool:
    """Whether ``data`` starts with a line of base64 that decodes to a DER SEQUENCE."""
    first = data[:8192].split(b"\n", 1)[0].strip()
    if len(first) < 16:
        return False
    try:
        return base64.b64decode(first[:16], validate=True)[:1] == b"\x30"
    except (binascii.Error, ValueError):
        return False


def walk(top: str, options: SourceOptions, tally: SkipCounter) -> Iterator[str]:
    """Files under ``top`` in the normal path's order (its one definition,
    :func:`cryptocheck.sources.files.walk.tree_files`)."""
    def skip() -> None:
        tally.files_skipped += 1

    return tree_files(top, bool(options.follow_symlinks), skip)


def regular_size(handle: IO[bytes]) -> int:
    """The size of the regular file behind ``handle``, or -1 (a pipe, an archive member...)."""
    try:
        info = os.fstat(handle.fileno())
    except (AttributeError, OSError, ValueError, io.UnsupportedOperation):
        return -1
    return info.st_size if stat.S_ISREG(info.st_mode) else -1


class Rejoined(io.RawIOBase):
    """A stream whose first bytes were already read: gives them back, then the rest."""

    def __init__(self, head: bytes, handle: IO[bytes]) -> None:
        self.head = head
        self.handle = handle
        self._pos = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        if self._pos < len(self.head):
            if size < 0:
                part = self.head[self._pos:] + self.handle.read()
                self._pos = len(self.head)
                return part
            part = self.head[self._pos:self._pos + size]
            self._pos += len(part)
            return part
        return self.handle.read(size)
