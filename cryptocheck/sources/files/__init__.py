"""Certificate and key sources: files, directories, archives and stdin -> assets and errors.

Sources know formats, not policy. :func:`iter_assets` is the one entry point: it yields a
:class:`~cryptocheck.model.CertificateAsset` or :class:`~cryptocheck.model.KeyAsset` for
every item found and a :class:`~cryptocheck.model.RunError` for every item that could not
be read, so that inputs == assets + errors. Nothing yielded ever holds private key
material or a password.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from cryptocheck.model import Asset, RunError


@dataclass(frozen=True)
class SourceOptions:
    """Limits and secrets for reading untrusted files.

    ``passwords`` are tried for PKCS#12, JKS/JCEKS and encrypted keys; they are never
    logged nor put in any message.
    """

    passwords: tuple[str, ...] = ()
    max_file_size: int = 64 * 1024**2
    max_archive_members: int = 10_000
    max_archive_depth: int = 3  # nested archives
    max_archive_total: int = 512 * 1024**2  # total uncompressed bytes read from one archive tree
    max_compression_ratio: int = 100  # per member, zip-bomb guard
    follow_symlinks: bool = False

    def __repr__(self) -> str:
        # A dataclass repr would print the passwords into any log or traceback.
        return (f"SourceOptions(passwords=<{len(self.passwords)} hidden>, "
                f"max_file_size={self.max_file_size}, "
                f"max_archive_members={self.max_archive_members}, "
                f"max_archive_depth={self.max_archive_depth}, "
                f"max_archive_total={self.max_archive_total}, "
                f"max_compression_ratio={self.max_compression_ratio}, "
                f"follow_symlinks={self.follow_symlinks})")


@dataclass
class SourceStats:
    """Counters for the summary."""

    files_read: int = 0
    files_skipped: int = 0  # files with no crypto material met during a directory walk


def iter_assets(targets: Iterable[str], options: SourceOptions,
                stats: SourceStats | None = None) -> Iterator[Asset | RunError]:
    """Yield every certificate/key asset and every error, in a deterministic order.

    Why: every later stage (usages, policy, reports) consumes this one stream, so it must
    be complete (nothing silently dropped) and streaming (memory flat over huge trees).

    ``targets`` are file paths, directory paths (walked recursively in sorted order) or
    ``-`` for standard input. ``stats`` (optional) is updated with files read and skipped.

    Example::

        for item in iter_assets(["certs/"], SourceOptions(passwords=("changeit",))):
            print(item.location, getattr(item, "reason", item.type))
    """
    from cryptocheck.sources.files.walk import iter_targets

    return iter_targets(targets, options, stats if stats is not None else SourceStats())


__all__ = ["SourceOptions", "SourceStats", "iter_assets"]
