"""pytest-benchmark benchmarks of the bulk path's per-certificate hot path, each beside the
baselines measured in the same run (the normal path's reading and judging of one
certificate, and a naive ``cryptography`` load).

    pytest benchmarks/test_bench_bulk.py --benchmark-enable

Every benchmark works on the same 2,000 certificates (a bundle derived like the benchmark
corpus), so the figures divide by 2,000 for a per-certificate time.
"""

from __future__ import annotations

import sys
import warnings
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509

from cryptocheck.bulk.pyscan import have_extension, load_merger
from cryptocheck.bulk.reader import Reader
from cryptocheck.policy import load_policy
from cryptocheck.run import findings_for
from cryptocheck.sources.files import SourceOptions, archive, pem
from cryptocheck.sources.files.context import FileContext
from cryptocheck.sources.files.x509 import certificate_asset

sys.path.insert(0, str(Path(__file__).resolve().parent))

import gen_corpus

COUNT = 2000
DAY = date(2026, 11, 22)


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    folder = tmp_path_factory.mktemp("bench")
    gen_corpus.generate(COUNT, folder, files=1, garbage=0.0, templates=40, seed=3)
    return (folder / "bundle-000.pem").read_bytes()


@pytest.fixture(scope="module")
def ders(bundle: bytes) -> list[bytes]:
    return [e.der for e in pem.scan(bundle) if isinstance(e, pem.PemBlock)]


@pytest.fixture(scope="module")
def reader() -> Reader:
    return Reader(load_policy(None), DAY, SourceOptions())


def _scan(reader: Reader, bundle: bytes) -> tuple[bytes, bytes]:
    pieces = list(reader.pem_file("bench.pem", bundle, None, True, 0, archive.ArchiveBudget(),
                                  lambda: bundle))
    return pieces[-1]


@pytest.mark.skipif(not have_extension(), reason="C scanner not built")
def test_bulk_scan_pem_bundle(benchmark: Any, reader: Reader, bundle: bytes) -> None:
    """The C scanner over a 2,000-certificate bundle (classes already known)."""
    _scan(reader, bundle)  # learn the classes once, as a long run does
    _, lines = benchmark(_scan, reader, bundle)
    assert lines.count(b'"record":"certificate"') == COUNT


@pytest.mark.skipif(not have_extension(), reason="C scanner not built")
def test_bulk_merge(benchmark: Any, reader: Reader, bundle: bytes) -> None:
    """Deduplication and counting of 2,000 certificate entries in the parent."""
    meta, _ = _scan(reader, bundle)
    mapping = list(range(len(reader.infos)))

    def merge() -> Any:
        return load_merger()(True).merge(meta, mapping)

    assert benchmark(merge) is None  # nothing dropped


def test_baseline_normal_path(benchmark: Any, ders: list[bytes]) -> None:
    """Baseline: the normal path reads and judges the same 2,000 certificates."""
    policy = load_policy(None)

    def judge_all() -> int:
        total = 0
        ctx = FileContext("bench.pem")
        for der in ders:
            asset = certificate_asset(der, ctx, None, "PEM")
            total += len(findings_for(asset, policy, DAY))  # type: ignore[arg-type]
        return total

    assert benchmark.pedantic(judge_all, rounds=2, iterations=1) == 3 * COUNT


def test_baseline_naive_cryptography(benchmark: Any, ders: list[bytes]) -> None:
    """Baseline: load each certificate with cryptography and read what a policy needs."""

    def load_all() -> int:
        read = 0
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for der in ders:
                cert = x509.load_der_x509_certificate(der)
                cert.public_key()
                _ = cert.signature_hash_algorithm, cert.not_valid_after_utc
                read += 1
        return read

    assert benchmark(load_all) == COUNT
