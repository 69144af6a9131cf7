"""The options and counters of reading certificate and key files.

Their own module so that the readers (walk, archive) and the package can all import them
without importing each other.
"""

from __future__ import annotations

from dataclasses import dataclass


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
