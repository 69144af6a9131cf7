"""How a job's lines reach the parent: shared-memory slabs, or spool files.

A worker puts the lines of one unit in a slab (taken from :data:`FREE`, given back by the
parent once it has written them) while they fit, else in a spool file; the parent copies a
spool file to the output in the kernel. Nothing here waits: with no slab free, a worker spools.
"""

from __future__ import annotations

import mmap
import os
import queue
import shutil
from typing import IO, Any

# Shared memory the workers hand lines over in (made by the parent before the workers
# fork): a slab is taken from FREE by a worker, filled with one unit's lines, and given back
# by the parent once it has written them. When no slab is free, or the lines do not fit,
# they go to a spool file instead, so a worker never waits for the parent.
SLAB_BYTES = 12 * 1024 * 1024
SLABS: list[mmap.mmap] = []
FREE: Any = None


def open_slabs(context: Any, count: int) -> None:
    """Make ``count`` slabs and the queue of free ones (before the workers fork)."""
    global FREE
    SLABS[:] = [mmap.mmap(-1, SLAB_BYTES) for _ in range(count)]
    FREE = context.Queue()
    for number in range(count):
        FREE.put(number)


def close_slabs() -> None:
    """Release the slabs (after the workers are gone)."""
    global FREE
    for slab in SLABS:
        slab.close()
    SLABS.clear()
    if FREE is not None:
        FREE.close()
    FREE = None


class Sink:
    """Where a worker puts the lines of one unit."""

    def __init__(self, spool: str, number: int) -> None:
        self.path = os.path.join(spool, f"{number}.jsonl")
        self.slab: int | None = None
        self.used = 0
        self.file: IO[bytes] | None = None
        if FREE is not None:
            try:
                self.slab = FREE.get_nowait()
            except queue.Empty:
                self.slab = None

    def write(self, data: bytes) -> None:
        if self.file is None and self.slab is not None and \
                self.used + len(data) <= SLAB_BYTES:
            SLABS[self.slab][self.used:self.used + len(data)] = data
            self.used += len(data)
            return
        if self.file is None:
            self.file = open(self.path, "wb")  # noqa: SIM115 - closed in result()
            if self.slab is not None:
                self.file.write(SLABS[self.slab][:self.used])
                FREE.put(self.slab)
                self.slab = None
        self.file.write(data)

    def result(self) -> str | tuple[int, int]:
        """The spool file's path, or (slab, length)."""
        if self.file is not None:
            self.file.close()
            return self.path
        if self.slab is not None:
            return self.slab, self.used
        with open(self.path, "wb"):
            return self.path


def discard(lines: str | tuple[int, int]) -> None:
    """Drop a worker's lines unread (spool file removed, slab given back)."""
    if isinstance(lines, tuple):
        FREE.put(lines[0])
    else:
        os.unlink(lines)


def spool_dir() -> str | None:
    """Memory-backed temporary storage when the system has it (lines pass through here)."""
    return "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None


def copy_file(path: str, out: IO[bytes]) -> None:
    """Append the file at ``path`` to ``out``, in the kernel when ``out`` is a real file."""
    with open(path, "rb") as handle:
        size = os.fstat(handle.fileno()).st_size
        try:
            fileno = out.fileno()
        except (AttributeError, OSError, ValueError):
            fileno = -1
        if fileno >= 0:
            out.flush()
            sent = 0
            try:
                while sent < size:
                    done = os.sendfile(fileno, handle.fileno(), sent, size - sent)
                    if done == 0:
                        break
                    sent += done
                return
            except OSError:
                handle.seek(sent)
        shutil.copyfileobj(handle, out, 1 << 20)
