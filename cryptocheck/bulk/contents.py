"""Contents a bulk reader holds whole, and archives too large to hold.

:class:`Contents` sniffs a small file or an archive member held in memory the way the normal
path does (archive, PEM, base64 lines, one DER certificate, else the normal path), and streams
the members of a tar or zip archive over the size limit one by one.
"""

from __future__ import annotations

import tarfile
import zipfile
from collections.abc import Callable, Iterator
from typing import IO, TYPE_CHECKING

from cryptocheck.bulk.entries import Entries, Piece
from cryptocheck.bulk.inputs import Rejoined, looks_like_base64_lines
from cryptocheck.model import Asset, Location, RunError
from cryptocheck.sources.files import archive, der, jks, pem
from cryptocheck.sources.files.context import FileContext, has_crypto_extension


class Contents(Entries):
    """Whole contents and large archives; the reading itself is :class:`Reader
    <cryptocheck.bulk.reader.Reader>`'s."""

    if TYPE_CHECKING:  # defined by Reader, beside the loops that read in chunks
        def pem_file(self, path: str, head: bytes | bytearray, read: Callable[[int], bytes] | None,
                     explicit: bool, depth: int, budget: archive.ArchiveBudget,
                     whole: Callable[[], bytes | None],
                     readinto: Callable[[memoryview], int] | None = None) -> Iterator[Piece]: ...

        def lines_loop(self, path: str, data: bytes,
                       read: Callable[[int], bytes] | None) -> Iterator[Piece]: ...

        def stream(self, path: str, handle: IO[bytes], explicit: bool) -> Iterator[Piece]: ...

    def data(self, path: str, data: bytes, explicit: bool, depth: int,
             budget: archive.ArchiveBudget) -> Iterator[Piece]:
        """Entries of a whole file (or archive member) held in memory."""
        if not data or jks.is_keystore(data):
            yield from self.normal(path, data, explicit, depth, budget)
            return
        if archive.is_archive(data):
            self.tally.files_read += 1
            pieces: list[Piece] = []
            found = False

            def member(content: bytes, member_path: str, level: int,
                       tree: archive.ArchiveBudget) -> Iterator[Asset | RunError]:
                nonlocal found
                for piece in self.data(member_path, content, False, level, tree):
                    found = found or bool(piece[0])
                    pieces.append(piece)
                return iter(())

            for item in archive.archive_items(data, path, depth + 1, budget, self.options,
                                              member):
                found = True
                self.emit(item, None)
            yield from pieces
            if not found and (explicit or has_crypto_extension(path)):
                self.emit(FileContext(path).file_error(
                    "no-crypto-material", "archive holds no certificate or key"), None)
            yield self.take()
            return
        is_text = pem.has_pem(data) or not pem.is_binary(data[:65536])
        if is_text and pem.has_pem(data):
            yield from self.pem_file(path, data, None, explicit, depth, budget, lambda: data)
            return
        if is_text and not pem.has_pem(data) and looks_like_base64_lines(data):
            self.tally.files_read += 1
            self.start_file(path, False)
            yield from self.lines_loop(path, data, None)
            yield self.take()
            return
        if not is_text and der.classify(data) == "certificate" and self.fast:
            self.tally.files_read += 1
            self.start_file(path, False)
            self.one_der(path, data, None, 0, "DER")
            yield self.take()
            return
        yield from self.normal(path, data, explicit, depth, budget)

    # -- large archives -------------------------------------------------------------

    def big_archive(self, path: str, raw: Rejoined) -> Iterator[Piece]:
        """A tar (plain or compressed) or zip too large to hold: members streamed."""
        self.tally.files_read += 1
        limit = self.options.max_file_size
        try:
            if raw.head.startswith(b"PK"):
                yield from self._big_zip(path, raw)
                return
            archive_file = tarfile.open(fileobj=raw, mode="r|*")  # noqa: SIM115
        except (tarfile.TarError, OSError, EOFError) as exc:
            self.emit(RunError(Location(path=path), "unreadable",
                               f"archive cannot be read ({type(exc).__name__})"), None)
            yield self.take()
            return
        try:
            for member in archive_file:
                if not member.isfile():
                    continue
                stream = archive_file.extractfile(member)
                if stream is None:
                    continue
                member_path = f"{path}!{member.name}"
                if member.size <= limit:
                    yield from self.data(member_path, stream.read(), False, 1,
                                         archive.ArchiveBudget())
                else:
                    yield from self.stream(member_path, stream, False)
        except (tarfile.TarError, OSError, EOFError):
            self.emit(RunError(Location(path=path), "unreadable",
                               "tar archive is damaged or truncated"), None)
        finally:
            archive_file.close()
        yield self.take()

    def _big_zip(self, path: str, raw: Rejoined) -> Iterator[Piece]:
        handle = raw.handle
        handle.seek(0)
        try:
            zip_file = zipfile.ZipFile(handle)
        except (zipfile.BadZipFile, OSError):
            self.emit(RunError(Location(path=path), "unreadable", "zip archive is damaged"), None)
            yield self.take()
            return
        with zip_file:
            for member in zip_file.infolist():
                if member.is_dir():
                    continue
                member_path = f"{path}!{member.filename}"
                with zip_file.open(member) as stream:
                    if member.file_size <= self.options.max_file_size:
                        yield from self.data(member_path, stream.read(), False, 1,
                                             archive.ArchiveBudget())
                    else:
                        yield from self.stream(member_path, stream, False)
        yield self.take()
