"""Uploaded files as a source's input, named in reports as they were uploaded, never by the
server's temporary folder.

A source that reads inputs from bytes (its record's ``read_bytes``: the certificate-file
source, which enters archives itself with its own limits) gets each upload's bytes under the
upload's name. Every other file source gets each upload written in a folder of its own, a tar
or zip upload unpacked there, and its stream's paths relabelled.

The same upload gives the same names scan after scan (``nginx.conf``, or
``repo.tar.gz!repo/etc/nginx/nginx.conf`` for an archive member), which is what lets the
estate follow an asset from one scan to the next.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import os
import tarfile
import tempfile
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from cryptocheck.model import RunError, Waiver
from cryptocheck.sources.files import SourceStats
from cryptocheck.sources.registry import Item, Source

MAX_MEMBERS = 10_000
MAX_UNPACKED = 256 * 1024 * 1024


def upload_name(name: str) -> str:
    """An uploaded file's name as reports show it: its last component, printable."""
    base = PurePosixPath(name.replace("\\", "/")).name or "upload"
    return "".join(ch if ch.isprintable() else "_" for ch in base)[:200]


@dataclass(frozen=True)
class Written:
    """Uploads on disk: the paths to hand the source, and (temporary prefix, label) pairs
    that turn the stream's paths back into the uploads' names."""

    paths: tuple[str, ...]
    labels: tuple[tuple[str, str], ...]


@contextlib.contextmanager
def upload_stream(source: Source, files: Sequence[tuple[str, bytes]], targets: Sequence[str],
                  options: Any, stats: SourceStats) -> Iterator[Iterator[Item]]:
    """The stream of ``source`` over the uploads (then the server-side ``targets``), with
    everything it yields, waivers found in the input included, named as uploaded; a context
    manager, because uploads written to disk live in a temporary folder until it ends.

    A source with ``read_bytes`` gets an upload's bytes under its name (the certificate
    source's asset ids hash the path an asset was read at: a temporary path would give new
    ids every scan, and the estate could not follow an asset), and no folder is made. The
    others get files on disk.
    """
    read_bytes = source.read_bytes
    if read_bytes is not None:
        def from_bytes() -> Iterator[Item]:
            for name, data in files:
                yield from read_bytes(data, name, options, stats)
            if targets:
                yield from source.items(targets, options, stats)
        yield from_bytes()
        return
    with tempfile.TemporaryDirectory(prefix="cryptocheck-upload-") as workdir:
        written = write_uploads(files, Path(workdir))
        yield relabel(source.items([*written.paths, *targets], options, stats), written.labels)


def write_uploads(files: Sequence[tuple[str, bytes]], workdir: Path) -> Written:
    """Each upload in a folder of its own under ``workdir``, a tar or zip upload unpacked
    there (the source then walks the folder)."""
    paths: list[str] = []
    labels: list[tuple[str, str]] = []
    for index, (name, data) in enumerate(files):
        folder = workdir / str(index)
        written = unpack(name, data, folder)
        paths.append(str(written))
        labels.append((str(folder) + os.sep, "" if written != folder else f"{name}!"))
    return Written(tuple(paths), tuple(labels))


def relabel(items: Iterable[Item], labels: Sequence[tuple[str, str]]) -> Iterator[Item]:
    """Items with the temporary prefixes of ``labels`` replaced by the labels: in paths, in
    asset ids (so that the same upload gives the same ids scan after scan), in error
    messages, and in the waivers found in the input (their ids, owners and the asset each
    covers, so that they still match the relabelled assets)."""
    for item in items:
        if isinstance(item, Waiver):
            yield _relabel_waiver(item, labels)
            continue
        path = item.location.path
        for prefix, label in labels:
            if path is None or not path.startswith(prefix):
                continue
            location = dataclasses.replace(item.location, path=label + path[len(prefix):])
            if isinstance(item, RunError):
                item = dataclasses.replace(item, location=location,
                                           message=item.message.replace(prefix, label))
            else:
                item = dataclasses.replace(item, location=location,
                                           id=item.id.replace(prefix, label))
            break
        yield item


def _relabel_waiver(waiver: Waiver, labels: Sequence[tuple[str, str]]) -> Waiver:
    def swap(text: str) -> str:
        for prefix, label in labels:
            text = text.replace(prefix, label)
        return text
    return dataclasses.replace(
        waiver, id=swap(waiver.id), owner=swap(waiver.owner),
        asset=None if waiver.asset is None else swap(waiver.asset),
        path=None if waiver.path is None else swap(waiver.path))


def unpack(name: str, data: bytes, into: Path) -> Path:
    """An uploaded file written under ``into``; a tar or zip archive is unpacked there
    (regular files only, no absolute or ``..`` paths, bounded in count and size)."""
    into.mkdir(parents=True, exist_ok=True)
    members: list[tuple[str, bytes]] = []
    total = 0
    if zipfile.is_zipfile(io.BytesIO(data)):
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            for info in archive.infolist()[:MAX_MEMBERS]:
                total += info.file_size
                if info.is_dir() or total > MAX_UNPACKED:
                    continue
                members.append((info.filename, archive.read(info)))
    else:
        try:
            tar = tarfile.open(fileobj=io.BytesIO(data))  # noqa: SIM115 - closed below
        except tarfile.TarError:
            target = into / upload_name(name)
            target.write_bytes(data)
            return target
        with tar:
            for count, member in enumerate(tar):
                if count >= MAX_MEMBERS:
                    break
                total += member.size
                if not member.isfile() or total > MAX_UNPACKED:
                    continue
                handle = tar.extractfile(member)
                if handle is not None:
                    members.append((member.name, handle.read()))
    for member_name, content in members:
        parts = [p for p in PurePosixPath(member_name.replace("\\", "/")).parts
                 if p not in ("", ".", "..", "/")]
        if not parts:
            continue
        path = into.joinpath(*parts)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    return into
