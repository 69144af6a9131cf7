"""zip and tar archives (plain, gzip, bzip2, xz) and single compressed files, entered
recursively within limits.

Archives come from strangers, so every read is bounded: members are never read past
``max_file_size``; a zip member whose declared size is more than ``max_compression_ratio``
times its compressed size is refused unread (zip bomb), a compressed tar whose output runs
past that ratio is abandoned; the whole tree reads at most ``max_archive_total`` bytes,
``max_archive_members`` members per archive and ``max_archive_depth`` levels of nesting.
Each breach is one ``archive-limit`` error and reading goes on with whatever else remains.
"""

from __future__ import annotations

import bz2
import io
import lzma
import tarfile
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import IO, Any

from cryptocheck.model import Asset, Location, RunError
from cryptocheck.sources.files.options import SourceOptions

ZIP_MAGIC = b"PK\x03\x04"
_COMPRESSED_MAGIC = (b"\x1f\x8b", b"BZh", b"\xfd7zXZ\x00")
_CHUNK = 1024 * 1024
# Below this much output a high ratio is normal (tar headers and padding compress ~100:1).
_RATIO_FLOOR = 1024 * 1024


@dataclass
class ArchiveBudget:
    """Bytes read so far from one archive tree (the outermost archive and all inside it)."""

    total: int = 0


# (data, member path, depth of the archive holding it, budget) -> items of that member
MemberReader = Callable[[bytes, str, int, ArchiveBudget], Iterator[Asset | RunError]]


def is_archive(data: bytes | bytearray) -> bool:
    """Whether ``data`` looks like a zip or (possibly compressed) tar archive."""
    if data.startswith((ZIP_MAGIC, b"PK\x05\x06", *_COMPRESSED_MAGIC)):
        return True
    return len(data) > 262 and data[257:262] == b"ustar"


def _limit(path: str, message: str) -> RunError:
    return RunError(Location(path=path), "archive-limit", message)


def archive_items(data: bytes, path: str, depth: int, budget: ArchiveBudget, options: SourceOptions,
                  read_member: MemberReader) -> Iterator[Asset | RunError]:
    """Every item of every member of the archive ``data`` found at ``path``.

    ``depth`` is 1 for an archive named directly, 2 for one inside it, and so on.
    """
    max_depth = options.max_archive_depth
    if depth > max_depth:
        yield _limit(path, f"archive nested deeper than {max_depth} levels; not entered")
        return
    if data.startswith((ZIP_MAGIC, b"PK\x05\x06")):
        yield from _zip_items(data, path, depth, budget, options, read_member)
    else:
        yield from _tar_items(data, path, depth, budget, options, read_member)


def _zip_items(data: bytes, path: str, depth: int, budget: ArchiveBudget, options: SourceOptions,
               read_member: MemberReader) -> Iterator[Asset | RunError]:
    max_members = options.max_archive_members
    max_size = options.max_file_size
    max_total = options.max_archive_total
    max_ratio = options.max_compression_ratio
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = [m for m in archive.infolist() if not m.is_dir()]
    except Exception:  # noqa: BLE001 - zipfile raises many kinds on damaged archives
        yield RunError(Location(path=path), "unreadable", "zip archive is damaged")
        return
    if len(members) > max_members:
        yield _limit(path, f"archive has {len(members)} members; only the first "
                           f"{max_members} are read")
        members = members[:max_members]
    for member in members:
        member_path = f"{path}!{member.filename}"
        if member.file_size > 0 and (member.compress_size == 0 or member.file_size
                                     > max_ratio * member.compress_size):
            yield _limit(member_path, f"member expands more than {max_ratio}:1 "
                                      "(possible zip bomb); not read")
            continue
        if member.file_size > max_size:
            yield RunError(Location(path=member_path), "too-large",
                           f"member is {member.file_size} bytes, over the {max_size} limit")
            continue
        if budget.total + member.file_size > max_total:
            yield _limit(member_path, f"archive tree would exceed {max_total} bytes read; "
                                      "the rest of the archive is not read")
            return
        try:
            with archive.open(member) as stream:
                content = stream.read(member.file_size + 1)
        except Exception:  # noqa: BLE001 - zlib.error, encrypted (RuntimeError), unknown method
            # Damage in one member must not cost the others.
            yield RunError(Location(path=member_path), "unreadable",
                           "zip member cannot be read (damaged, encrypted or unsupported "
                           "compression)")
            continue
        if len(content) > member.file_size:
            yield _limit(member_path, "member is larger than its header says; not read")
            continue
        budget.total += len(content)
        yield from read_member(content, member_path, depth, budget)


class _CountingReader(io.RawIOBase):
    """Counts the compressed bytes tarfile pulls, to measure the expansion ratio."""

    def __init__(self, raw: IO[bytes]) -> None:
        self.raw, self.count = raw, 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        chunk = self.raw.read(size)
        self.count += len(chunk)
        return chunk


class _Stream:
    """Incremental gzip, bzip2 or xz decompression of one in-memory file."""

    def __init__(self, data: bytes) -> None:
        self._gzip = data.startswith(b"\x1f\x8b")
        self._engine: Any = (zlib.decompressobj(16 + zlib.MAX_WBITS) if self._gzip
                             else bz2.BZ2Decompressor() if data.startswith(b"BZh")
                             else lzma.LZMADecompressor())

    def read(self, chunk: bytes, limit: int) -> bytes:
        """At most ``limit`` bytes of output, from ``chunk`` and any input held back."""
        if self._gzip:
            return bytes(self._engine.decompress(self._engine.unconsumed_tail + chunk, limit))
        return bytes(self._engine.decompress(chunk, limit))

    @property
    def at_end(self) -> bool:
        """The compressed stream's end marker was reached."""
        return bool(self._engine.eof)

    @property
    def starved(self) -> bool:
        """All input is used up (before or at the end marker)."""
        return not self._engine.unconsumed_tail if self._gzip else bool(self._engine.needs_input)


def _single_compressed(data: bytes, path: str, depth: int, budget: ArchiveBudget,
                       options: SourceOptions, read_member: MemberReader
                       ) -> Iterator[Asset | RunError]:
    """The one file inside a gzip, bzip2 or xz file, decompressed within the same limits as
    an archive member (size, expansion ratio, bytes read from the tree)."""
    name = path.rsplit("/", 1)[-1].rsplit("!", 1)[-1]
    for suffix in (".gz", ".gzip", ".bz2", ".xz", ".z"):
        if name.lower().endswith(suffix) and len(name) > len(suffix):
            name = name[: -len(suffix)]
            break
    member_path = f"{path}!{name}"
    limit = min(options.max_file_size, options.max_archive_total - budget.total,
                max(_RATIO_FLOOR, options.max_compression_ratio * len(data))) + 1
    out: list[bytes] = []
    produced = 0
    try:
        stream = _Stream(data)
        pending = data
        while produced < limit:
            chunk = stream.read(pending, min(_CHUNK, limit - produced))
            pending = b""
            produced += len(chunk)
            out.append(chunk)
            if stream.at_end or stream.starved:
                break
    except (OSError, EOFError, ValueError, zlib.error, lzma.LZMAError):
        yield RunError(Location(path=path), "unreadable", "compressed file is damaged or truncated")
        return
    if produced < limit and not stream.at_end:
        yield RunError(Location(path=path), "unreadable", "compressed file is truncated")
        return
    if produced >= limit:
        yield _limit(member_path, "compressed file expands past the size, ratio or total limits "
                                  "(possible compression bomb); not read")
        return
    budget.total += produced
    yield from read_member(b"".join(out), member_path, depth, budget)


def _tar_items(data: bytes, path: str, depth: int, budget: ArchiveBudget, options: SourceOptions,
               read_member: MemberReader) -> Iterator[Asset | RunError]:
    max_members = options.max_archive_members
    max_size = options.max_file_size
    max_total = options.max_archive_total
    max_ratio = options.max_compression_ratio
    counter = _CountingReader(io.BytesIO(data))
    produced = 0  # uncompressed bytes produced from this archive

    def too_expanded() -> bool:
        return produced > _RATIO_FLOOR and produced > max_ratio * max(counter.count, 1)

    try:
        # Stream mode: members are read in order and never seeked, so memory stays flat.
        # Closed by the finally below (a with-block cannot span the yields cleanly).
        archive = tarfile.open(fileobj=counter, mode="r|*")  # noqa: SIM115
    except Exception:  # noqa: BLE001 - tarfile/gzip raise TypeError etc. on damaged headers
        if data.startswith(_COMPRESSED_MAGIC):
            # Not a tar: one compressed file (certs.pem.gz, bundle.crt.xz).
            yield from _single_compressed(data, path, depth, budget, options, read_member)
        else:
            yield RunError(Location(path=path), "unsupported-format",
                           "file looks like a tar archive but is not one")
        return
    seen = 0
    try:
        for member in archive:
            produced += 512  # the header block
            if not member.isfile():
                continue
            seen += 1
            member_path = f"{path}!{member.name}"
            if seen > max_members:
                yield _limit(path, f"archive has more than {max_members} members; only the "
                                   f"first {max_members} are read")
                return
            if budget.total + member.size > max_total:
                yield _limit(member_path, f"archive tree would exceed {max_total} bytes "
                                          "read; the rest of the archive is not read")
                return
            stream = archive.extractfile(member)
            if stream is None:
                continue
            keep = member.size <= max_size
            if not keep:
                yield RunError(Location(path=member_path), "too-large",
                               f"member is {member.size} bytes, over the {max_size} limit")
            parts: list[bytes] = []
            while True:
                chunk = stream.read(_CHUNK)
                if not chunk:
                    break
                produced += len(chunk)
                budget.total += len(chunk)
                if too_expanded():
                    yield _limit(member_path, f"archive expands more than {max_ratio}:1 "
                                              "(possible compression bomb); abandoned")
                    return
                if keep:
                    parts.append(chunk)
            if keep:
                yield from read_member(b"".join(parts), member_path, depth, budget)
    except Exception:  # noqa: BLE001 - zlib.error, LZMAError, TarError, OSError, EOFError...
        yield RunError(Location(path=path), "unreadable", "tar archive is damaged or truncated")
    finally:
        archive.close()
