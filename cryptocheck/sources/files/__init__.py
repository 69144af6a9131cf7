"""Certificate and key sources: files, directories, archives and stdin -> assets and errors.

Sources know formats, not policy. :func:`iter_assets` is the one entry point: it yields a
:class:`~cryptocheck.model.CertificateAsset` or :class:`~cryptocheck.model.KeyAsset` for
every item found and a :class:`~cryptocheck.model.RunError` for every item that could not
be read, so that inputs == assets + errors. Nothing yielded ever holds private key
material or a password.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from cryptocheck.model import Asset, RunError
from cryptocheck.sources.files.options import SourceOptions, SourceStats


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
