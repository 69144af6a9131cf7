"""The ``certs`` source: certificates and keys in files, directories, archives and stdin.

Its record, for the registry (:mod:`cryptocheck.sources.registry`); the reading itself is in
:mod:`cryptocheck.sources.files.walk`, the usages in :mod:`cryptocheck.sources.files.usages`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from cryptocheck.model import Asset, CryptoUsage
from cryptocheck.sources.files import SourceOptions, SourceStats, iter_assets
from cryptocheck.sources.registry import LOWER, Item, Source


def _items(targets: Sequence[str], options: SourceOptions, stats: SourceStats
           ) -> Iterator[Item]:
    return iter_assets(targets, options, stats)


def _read_bytes(data: bytes, name: str, options: SourceOptions, stats: SourceStats
                ) -> Iterator[Item]:
    # Imported on first use, like the walk behind iter_assets.
    from cryptocheck.sources.files.walk import scan_bytes

    return scan_bytes(data, name, options, stats)


def _usages(asset: Asset) -> Iterator[CryptoUsage]:
    # Imported on first use: the catalogue is not needed to parse the options.
    from cryptocheck.sources.files.usages import usages_of

    return usages_of(asset)


SOURCE = Source(
    name="certs",
    help="Certificates and keys in files, directories and archives (PEM, DER, PKCS#7, "
         "PKCS#12, JKS, OpenSSH).",
    options=SourceOptions,
    items=_items,
    usages=_usages,
    network=False,
    nothing_found="no certificates or keys found",
    tunable={"max_file_size": LOWER},
    # Uploads are read in memory under their own names: asset ids hash the path read.
    read_bytes=_read_bytes,
)
