"""Malformed inputs, limits and secrecy: each bad item is one error, the run goes on,
counts add up, and nothing secret reaches a record."""

from __future__ import annotations

import base64
import bz2
import gzip
import io
import lzma
import os
import re
import tarfile
import time
import zipfile
from pathlib import Path

import pytest

from cryptocheck.model import CertificateAsset, KeyAsset, RunError
from cryptocheck.sources.files import SourceOptions, SourceStats, iter_assets

GEN = Path(__file__).parent / "fixtures" / "sources" / "gen"
P12_PASS = "p12-fixture-secret"
KEY_PASS = "key-fixture-secret"
LEAF_PEM = (GEN / "leaf.pem").read_bytes()


def scan(*paths: Path | str, **kwargs: object) -> list:
    return list(iter_assets([str(p) for p in paths], SourceOptions(**kwargs)))  # type: ignore


def kinds(items: list) -> list[str]:
    return [i.reason if isinstance(i, RunError) else i.type for i in items]


# ---- one error per bad item, good items around it kept -----------------------------------


@pytest.mark.parametrize("name, expected", [
    ("truncated.der", ["malformed-der"]),
    ("empty.pem", ["empty-file"]),
    ("garbage-between.pem", ["certificate", "garbage", "certificate"]),
    ("truncated.pem", ["certificate", "truncated-pem"]),
    ("bad-base64.pem", ["certificate", "malformed-pem", "certificate"]),
])
def test_malformed_fixture_gives_exactly_one_error(name: str, expected: list[str]) -> None:
    items = scan(GEN / name)
    assert kinds(items) == expected
    indexed = [i.location.index for i in items if i.location.index is not None]
    assert indexed == list(range(len(indexed)))  # every item of the file has its place


def test_run_goes_on_after_errors_and_counts_add_up(tmp_path: Path) -> None:
    names = ["truncated.der", "leaf.der", "empty.pem", "garbage-between.pem", "bundle.pem"]
    items = scan(*(GEN / n for n in names), GEN / "missing.pem")
    errors = [i for i in items if isinstance(i, RunError)]
    assets = [i for i in items if not isinstance(i, RunError)]
    # 1 + 1 + 1 + 3 + 3 input items, and the missing file
    assert (len(assets), len(errors)) == (6, 4)
    assert errors[-1].reason == "unreadable"


def test_corrupt_certificate_der_inside_valid_pem(tmp_path: Path) -> None:
    body = base64.encodebytes(b"\x30\x03\x02\x01\x01").decode()
    path = tmp_path / "odd.pem"
    path.write_text(f"-----BEGIN CERTIFICATE-----\n{body}-----END CERTIFICATE-----\n"
                    + LEAF_PEM.decode())
    assert kinds(scan(path)) == ["malformed-der", "certificate"]


def test_unknown_pem_label_and_no_crypto_material(tmp_path: Path) -> None:
    odd = tmp_path / "odd.pem"
    odd.write_text("-----BEGIN WIDGET-----\nAAAA\n-----END WIDGET-----\n")
    assert kinds(scan(odd)) == ["unsupported-format"]
    notes = tmp_path / "notes.txt"
    notes.write_text("just words\n")
    assert kinds(scan(notes)) == ["no-crypto-material"]  # named explicitly: an error
    stats = SourceStats()
    assert kinds(list(iter_assets([str(tmp_path)], SourceOptions(), stats))) == [
        "unsupported-format"]
    assert stats.files_skipped == 1  # in a walk, notes.txt is only counted


def test_crypto_extension_without_crypto_is_an_error_in_a_walk(tmp_path: Path) -> None:
    (tmp_path / "server.crt").write_text("this was meant to be a certificate\n")
    (tmp_path / "readme").write_text("hello\n")
    stats = SourceStats()
    items = list(iter_assets([str(tmp_path)], SourceOptions(), stats))
    assert kinds(items) == ["no-crypto-material"]
    assert stats.files_skipped == 1


def test_bad_ssh_line_is_one_error_among_good_ones(tmp_path: Path) -> None:
    good = (GEN / "ssh_ed25519.pub").read_text().strip()
    path = tmp_path / "authorized_keys"
    path.write_text(f"{good}\nssh-rsa AAAAB3NzaC1yc2EAAAA!!broken comment\n{good}\n")
    assert kinds(scan(path)) == ["public-key", "malformed-pem", "public-key"]


# ---- limits -----------------------------------------------------------------------------


def test_sparse_2gb_file_is_refused_without_reading(tmp_path: Path) -> None:
    path = tmp_path / "huge.pem"
    with open(path, "wb") as handle:
        handle.truncate(2 * 1024**3)
    start = time.monotonic()
    (error,) = scan(path)
    assert time.monotonic() - start < 1.0
    assert error.reason == "too-large" and "2147483648" in error.message


def test_zip_bomb_is_refused_and_the_rest_is_read(tmp_path: Path) -> None:
    path = tmp_path / "bomb.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        with archive.open("zeros.bin", "w", force_zip64=True) as member:
            chunk = b"\0" * (16 * 1024**2)
            for _ in range(64):  # 1 GiB of zeros, a few MB compressed
                member.write(chunk)
        archive.writestr("leaf.pem", LEAF_PEM)
    start = time.monotonic()
    items = scan(path)
    assert time.monotonic() - start < 5.0
    assert kinds(items) == ["archive-limit", "certificate"]
    assert items[0].location.path.endswith("bomb.zip!zeros.bin")


def test_compressed_tar_bomb_is_abandoned(tmp_path: Path) -> None:
    path = tmp_path / "bomb.tar.gz"
    with tarfile.open(path, "w:gz", compresslevel=1) as archive:
        info = tarfile.TarInfo("leaf.pem")
        info.size = len(LEAF_PEM)
        archive.addfile(info, io.BytesIO(LEAF_PEM))
        info = tarfile.TarInfo("zeros.bin")
        info.size = 48 * 1024**2
        archive.addfile(info, io.BytesIO(b"\0" * info.size))
    items = scan(path)
    assert kinds(items) == ["certificate", "archive-limit"]


@pytest.mark.parametrize("suffix, compress", [
    (".gz", lambda b: gzip.compress(b)), (".bz2", lambda b: bz2.compress(b)),
    (".xz", lambda b: lzma.compress(b)),
])
def test_single_compressed_file_is_read_within_limits(tmp_path: Path, suffix: str, compress) -> None:
    good = tmp_path / f"leaf.pem{suffix}"
    good.write_bytes(compress(LEAF_PEM))
    (item,) = scan(good)
    assert isinstance(item, CertificateAsset)
    assert item.location.path == f"{good}!leaf.pem"
    bomb = tmp_path / f"bomb.bin{suffix}"
    bomb.write_bytes(compress(b"A" * 50 * 1024**2))
    assert kinds(scan(bomb)) == ["archive-limit"]
    truncated = tmp_path / f"cut.pem{suffix}"
    truncated.write_bytes(compress(LEAF_PEM * 20)[:200])
    assert [(i.reason, i.message) for i in scan(truncated)] == [
        ("unreadable", "compressed file is truncated")]


def nest(depth: int, tmp_path: Path) -> Path:
    """A zip inside a zip ... ``depth`` archives deep with a certificate at the bottom."""
    content, name = LEAF_PEM, "leaf.pem"
    for level in range(depth):
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            archive.writestr(name, content)
        content, name = buffer.getvalue(), f"level{level}.zip"
    path = tmp_path / name
    path.write_bytes(content)
    return path


def test_nesting_beyond_the_depth_limit_is_one_error(tmp_path: Path) -> None:
    assert kinds(scan(nest(3, tmp_path))) == ["certificate"]
    (error,) = scan(nest(5, tmp_path))
    assert error.reason == "archive-limit" and error.location.path.count("!") == 3


def test_member_and_total_limits(tmp_path: Path) -> None:
    path = tmp_path / "many.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for n in range(8):
            archive.writestr(f"c{n}.pem", LEAF_PEM)
    assert kinds(scan(path, max_archive_members=5)) == ["archive-limit"] + ["certificate"] * 5
    limited = scan(path, max_archive_total=3 * len(LEAF_PEM) + 10)
    assert kinds(limited) == ["certificate"] * 3 + ["archive-limit"]


def test_member_over_file_size_limit(tmp_path: Path) -> None:
    path = tmp_path / "big.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("random.txt", os.urandom(4000).hex())  # 8000 bytes, ~2:1 deflated
        archive.writestr("leaf.pem", LEAF_PEM)
    assert path.stat().st_size < 6000
    assert kinds(scan(path, max_file_size=6000)) == ["too-large", "certificate"]


# ---- secrets never leak -----------------------------------------------------------------

PRIVATE_FIXTURES = sorted(
    p for p in GEN.iterdir()
    if p.suffix not in (".txt",) and b"PRIVATE KEY" in p.read_bytes()
) + [GEN / "leaf.p12", GEN / "keystore.jks", GEN / "rsa-pkcs8.der", GEN / "k8s-secrets.yaml"]


def secret_fragments(path: Path) -> set[str]:
    """Base64 body lines of every private key block, also those inside a K8s Secret."""
    data = path.read_bytes()
    texts = [data]
    for match in re.finditer(rb"tls\.key: (\S+)", data):
        texts.append(base64.b64decode(match.group(1)))
    fragments: set[str] = set()
    for text in texts:
        for block in re.findall(rb"-----BEGIN [A-Z ]*PRIVATE KEY-----(.*?)-----END",
                                text, re.DOTALL):
            for line in block.split(b"\n"):
                line = line.strip()
                if len(line) >= 16 and b":" not in line:
                    fragments.add(line.decode())
    if path.suffix in (".p12", ".jks", ".der"):
        fragments.add(base64.b64encode(data[-48:]).decode()[:32])
    return fragments


@pytest.mark.parametrize("path", PRIVATE_FIXTURES, ids=lambda p: p.name)
def test_no_private_material_or_password_in_any_record(path: Path) -> None:
    passwords = (P12_PASS, KEY_PASS)
    for options in (SourceOptions(), SourceOptions(passwords=passwords)):
        items = list(iter_assets([str(path)], options))
        assert items
        if options.passwords:
            assert any(isinstance(i, KeyAsset) and i.type == "private-key" for i in items)
        text = "\n".join(repr(i) for i in items)
        for fragment in secret_fragments(path):
            assert fragment not in text
        for password in passwords:
            assert password not in text
    assert P12_PASS not in repr(SourceOptions(passwords=(P12_PASS,)))


def test_every_asset_is_a_record_not_key_bytes() -> None:
    items = scan(GEN, passwords=(P12_PASS, KEY_PASS))
    assert all(isinstance(i, (CertificateAsset, KeyAsset, RunError)) for i in items)
    for item in items:
        for value in (getattr(item, f) for f in item.__slots__):
            assert not isinstance(value, (bytes, bytearray))


def test_walk_skips_version_control_metadata(tmp_path: Path) -> None:
    (tmp_path / ".git" / "objects").mkdir(parents=True)
    (tmp_path / ".git" / "objects" / "leaf.pem").write_bytes(LEAF_PEM)
    (tmp_path / "leaf.pem").write_bytes(LEAF_PEM)
    items = scan(tmp_path)
    assert [i.location.path for i in items] == [str(tmp_path / "leaf.pem")]
