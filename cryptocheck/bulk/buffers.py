"""The read buffers of a bulk reader: a stream read in pieces of :data:`CHUNK` bytes.

A fresh allocation of 4 MiB per file would cost a page fault every 4 KiB (over a hundred
thousand for a million certificates, in system time), and more on a virtual machine that
hands freed memory back to its host. So a reader keeps two buffers for its whole life
(:class:`ReadBuffers`), made once with room to spare and then only resized within their
allocation (CPython keeps a bytearray's memory when it shrinks by less than half). The two
take turns: the unfinished block at the end of one piece is carried to the start of the
other, followed by the next piece of the stream.
"""

from __future__ import annotations

from collections.abc import Callable

CHUNK = 4 * 1024 * 1024
_HEADROOM = 1024 * 1024  # for the unfinished block carried from one piece to the next


class ReadBuffers:
    """The two read buffers of one reader; only one stream uses them at a time (an
    archive's member is streamed once the archive's own head is no longer in them)."""

    def __init__(self) -> None:
        self._buffers: list[bytearray] = []

    def _buffer(self, number: int) -> bytearray:
        """Buffer ``number`` (0 or 1), made on first use."""
        buffers = self._buffers
        while len(buffers) <= number:
            buffers.append(bytearray(CHUNK + _HEADROOM))
        return buffers[number]

    def head(self, readinto: Callable[[memoryview], int]) -> bytes | bytearray:
        """The first CHUNK bytes of a stream, in the first read buffer; a shorter stream
        (all of it) as bytes, the buffer left as it is."""
        head = self._buffer(0)
        del head[CHUNK:]
        got = readinto(memoryview(head))
        return head if got == CHUNK else bytes(memoryview(head)[:got])

    def next_piece(self, buf: bytes | bytearray, pos: int,
                   read: Callable[[int], bytes] | None,
                   readinto: Callable[[memoryview], int] | None
                   ) -> tuple[bytes | bytearray, bool]:
        """``buf[pos:]`` followed by the next piece of the stream (in a kept buffer when the
        stream has ``readinto``), and whether the stream has ended."""
        if readinto is not None:
            return self._refill(buf, pos, readinto)
        more = read(CHUNK) if read is not None else b""
        return buf[pos:] + more, not more

    def _refill(self, buf: bytes | bytearray, pos: int,
                readinto: Callable[[memoryview], int]) -> tuple[bytes | bytearray, bool]:
        """``buf[pos:]`` followed by the next CHUNK of the stream, in the other read buffer,
        and whether the stream has ended. The last piece is copied out rather than the buffer
        shrunk (CPython would give the memory back, and growing it again costs page faults)."""
        tail = len(buf) - pos
        first = self._buffer(0)
        fresh = self._buffer(1) if buf is first else first
        need = tail + CHUNK
        if len(fresh) > need:
            del fresh[need:]  # never by half: the memory is kept
        elif len(fresh) < need:
            fresh.extend(bytes(need - len(fresh)))
        fresh[:tail] = buf[pos:]
        got = readinto(memoryview(fresh)[tail:])
        return (fresh if got == CHUNK else bytes(memoryview(fresh)[:tail + got])), got == 0
