"""How a job's lines reach the parent: shared-memory slabs, or spool files.

The parent reading a unit itself (one job, standard input) uses the same sink with a slab of
its own, so that no unit's lines are made into bytes objects on either path.

A worker puts the entries of one unit in a slab (taken from :data:`FREE`, given back by the
parent once it has written them) while they fit: the C scanner copies its lines and meta
records straight in, so they are never made into bytes objects nor pickled through the pool's
pipe. What does not fit goes to a spool file (lines) and back through the pipe (meta); the
parent copies a spool file to the output in the kernel. A worker waits a little for a slab
(:data:`SLAB_WAIT`), then spools: a spool file costs fresh memory twice (the file, then the
output's copy), while a short wait gives the merging parent the core it needs to hand slabs
back; the wait is bounded, so a worker never waits on a parent that waits on it.
"""

from __future__ import annotations

import mmap
import os
import queue
import shutil
from typing import IO, Any

# Shared memory the workers hand entries over in (made by the parent before the workers
# fork): a slab is taken from FREE by a worker, filled with one unit's lines (the first
# SLAB_BYTES) and meta records (the META_BYTES after them), and given back by the parent once
# it has written them. When no slab is free, or the entries do not fit, they go to a spool
# file and the pipe instead, so a worker never waits for the parent.
SLAB_BYTES = 12 * 1024 * 1024
META_BYTES = 2 * 1024 * 1024  # 43 bytes a certificate: room for the lines' certificates
SLABS: list[mmap.mmap] = []
FREE: Any = None
# How long a worker waits for a free slab before it spools (seconds). At the start the slabs
# the parent put in the queue before the fork may not be in its pipe yet.
SLAB_WAIT = 0.25

# Where a unit's lines are: a spool file's path, or (slab, lines length, meta length) with
# meta length 0 when the meta records came back as bytes instead.
Lines = str | tuple[int, int, int]


def open_slabs(context: Any | None, count: int) -> None:
    """Make ``count`` slabs and the queue of free ones (before the workers fork; with no
    multiprocessing ``context``, for this process alone)."""
    global FREE
    SLABS[:] = [mmap.mmap(-1, SLAB_BYTES + META_BYTES) for _ in range(count)]
    FREE = context.Queue() if context is not None else queue.Queue()
    for number in range(count):
        FREE.put(number)


def close_slabs() -> None:
    """Release the slabs (after the workers are gone)."""
    global FREE
    for slab in SLABS:
        slab.close()
    SLABS.clear()
    if FREE is not None and hasattr(FREE, "close"):  # a multiprocessing queue's pipe
        FREE.close()
    FREE = None


def slab_meta(slab: int, length: int) -> memoryview:
    """The meta records a worker left in ``slab`` (valid until the slab is given back)."""
    return memoryview(SLABS[slab])[SLAB_BYTES:SLAB_BYTES + length]


class Sink:
    """Where a worker puts the entries of one unit."""

    def __init__(self, spool: str, name: str) -> None:
        self.path = os.path.join(spool, f"{name}.jsonl")
        self.slab: int | None = None
        self.used = 0
        self.meta_used = 0  # bytes of meta records in the slab
        self.metas: list[bytes] = []  # meta records handed back as bytes (once any is)
        self.file: IO[bytes] | None = None
        if FREE is not None:
            try:
                # One process (a queue.Queue): nobody else gives slabs back, do not wait.
                self.slab = (FREE.get_nowait() if isinstance(FREE, queue.Queue)
                             else FREE.get(timeout=SLAB_WAIT))
            except queue.Empty:
                self.slab = None

    def take_from(self, scanner: Any) -> bool:
        """Take the scanner's entries (straight into the slab while they fit): whether there
        were any."""
        take_into = getattr(scanner, "take_into", None)  # the C scanner's
        if take_into is not None and self.slab is not None and self.file is None \
                and not self.metas:
            got = take_into(SLABS[self.slab], self.used, SLAB_BYTES,
                                    SLAB_BYTES + self.meta_used, SLAB_BYTES + META_BYTES)
            if got != -1:
                self.used += got[0]
                self.meta_used += got[1]
                return bool(got[1])
        meta, lines = scanner.take()
        self._metas_out()
        self.metas.append(meta)
        self.write(lines)
        return bool(meta)

    def _metas_out(self) -> None:
        """From now on, meta records go back as bytes (those in the slab first)."""
        if self.slab is not None and self.meta_used:
            self.metas.append(bytes(slab_meta(self.slab, self.meta_used)))
        self.meta_used = 0
        if not self.metas:
            self.metas.append(b"")

    def write(self, data: bytes) -> None:
        if self.file is None and self.slab is not None and \
                self.used + len(data) <= SLAB_BYTES:
            SLABS[self.slab][self.used:self.used + len(data)] = data
            self.used += len(data)
            return
        if self.file is None:
            self.file = open(self.path, "wb")  # noqa: SIM115 - closed in result()
            if self.slab is not None:
                self._metas_out()
                self.file.write(SLABS[self.slab][:self.used])
                FREE.put(self.slab)
                self.slab = None
        self.file.write(data)

    def result(self) -> tuple[bytes, Lines]:
        """(meta records handed back as bytes, where the lines are)."""
        meta = b"".join(self.metas)
        if self.file is not None:
            self.file.close()
            return meta, self.path
        if self.slab is not None:
            return meta, (self.slab, self.used, self.meta_used)
        with open(self.path, "wb"):
            return meta, self.path


def discard(lines: Lines) -> None:
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
