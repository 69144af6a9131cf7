"""The bulk path's JSON comes from the wire format's one definition: the C scanner's certificate
lines and the reader's error lines are the wire records cut at their values, so every line
re-encodes to itself through ``report.wire.dumps_line``, odd file names included; no bulk
module writes a JSON key by hand."""

from __future__ import annotations

import io
import json
import re
import shutil
from datetime import date
from pathlib import Path

import pytest

from cryptocheck.bulk.lines import CERTIFICATE, ERROR, certificate_record, json_text
from cryptocheck.bulk.pyscan import have_extension
from cryptocheck.bulk.run import BulkOptions, bulk_scan
from cryptocheck.model import Location, RunError
from cryptocheck.policy import load_policy
from cryptocheck.report.jsonl import error_record
from cryptocheck.report.wire import dumps_line

ROOT = Path(__file__).resolve().parent.parent
BULK = ROOT / "cryptocheck" / "bulk"
SOURCES = ROOT / "tests" / "fixtures" / "sources"
ODD_NAME = "caf\u00e9 \\ \"quoted\".pem"
# A lone surrogate: a file name that is not UTF-8. (The normal path cannot yet read the
# certificates in such a file - its asset ids are hashed from the name as UTF-8 - so the C
# and Python scanners are compared without it.)
NOT_UTF8_NAME = "caf\u00e9 \udcff.pem"


def _run(folder: Path, force_python: bool) -> bytes:
    out = io.BytesIO()
    bulk_scan([str(folder)], load_policy("nhs-acagpg"), date(2026, 11, 22), out,
              BulkOptions(jobs=1, dedup=False, force_python=force_python))
    return out.getvalue()


def _corpus(tmp_path: Path, names: tuple[str, ...]) -> Path:
    """Certificates and garbage under ordinary names and ``names``."""
    folder = tmp_path / "in"
    folder.mkdir()
    pems = sorted(SOURCES.rglob("*.pem"))[:6]
    assert pems, "no PEM fixtures"
    for number, pem in enumerate(pems):
        shutil.copy(pem, folder / f"{number}.pem")
    for name in names:
        shutil.copy(pems[2], folder / name)
    (folder / "garbage.pem").write_bytes(b"-----BEGIN CERTIFICATE-----\nnot base64!\n"
                                         b"-----END CERTIFICATE-----\n")
    return folder


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    return _corpus(tmp_path, (ODD_NAME, NOT_UTF8_NAME))


@pytest.mark.parametrize("force_python", [False, True], ids=["c", "python"])
def test_every_bulk_line_is_the_wire_encoding_of_itself(corpus: Path,
                                                        force_python: bool) -> None:
    if not force_python:
        assert have_extension(), "C scanner not built (python3 setup.py build_ext --inplace)"
    output = _run(corpus, force_python)
    kinds = set()
    for line in output.decode("utf-8").splitlines():
        record = json.loads(line)
        kinds.add(record["record"])
        if record["record"] in ("certificate", "error"):
            assert dumps_line(record) == line
    assert {"certificate", "error", "class"} <= kinds
    for name in (ODD_NAME, NOT_UTF8_NAME):  # as the wire writes them
        assert json_text(name)[1:-1].encode() in output


def test_c_and_python_write_odd_names_alike(tmp_path: Path) -> None:
    corpus = _corpus(tmp_path, (ODD_NAME,))
    assert have_extension(), "C scanner not built (python3 setup.py build_ext --inplace)"

    def stable(data: bytes) -> list[str]:
        # (the two scanners may interleave a file's class and error lines differently)
        return sorted(line for line in data.decode().splitlines()
                      if json.loads(line)["record"] in ("certificate", "error", "class"))

    assert stable(_run(corpus, False)) == stable(_run(corpus, True))


def test_templates_fill_to_the_wire_records() -> None:
    error = RunError(Location(path=ODD_NAME, index=3, line=None, offset=17), "malformed-der",
                     "bad \"DER\" \u00e9 \udcfe")
    filled = ERROR.fill({"path": json_text(error.location.path), "index": "3",
                         "reason": json_text(error.reason), "message": json_text(error.message),
                         "line": "null", "offset": "17"})
    assert filled == dumps_line(error_record(error))
    record = certificate_record("cert-0123456789abcdef", "ab" * 32, ODD_NAME, 2, None, 40,
                                "c0123456789ab", "approved", "2020-01-01T00:00:00Z",
                                "2021-01-01T00:00:00Z")
    assert CERTIFICATE.fill({
        "id": "0123456789abcdef", "sha256": "ab" * 32, "path": json_text(ODD_NAME),
        "index": "2", "line": "null", "offset": "40", "class": "c0123456789ab",
        "status": "approved", "not_before": '"2020-01-01T00:00:00Z"',
        "not_after": '"2021-01-01T00:00:00Z"'}) == dumps_line(record)


def test_no_bulk_module_writes_a_json_key_by_hand() -> None:
    # A JSON key inside a string literal: '"name":' in Python, "\"name\":" in C. (Dicts
    # encoded by the wire's dumps_line are what the bulk modules should write instead.)
    python_key = re.compile(r"""(?:^|\W)[bfr]*'[^'\n]*"[a-z_]+":""")
    c_key = re.compile(r'\\"[a-z_]+\\":')
    offenders = []
    for path in sorted(BULK.glob("*.py")):
        for number, line in enumerate(path.read_text("utf-8").splitlines(), 1):
            if python_key.search(line) and not line.lstrip().startswith(("#", ">>>", "'")):
                offenders.append(f"{path.name}:{number}: {line.strip()}")
    source = (BULK / "_fastcert.c").read_text("utf-8")
    offenders += [f"_fastcert.c: {m.group(0)}" for m in c_key.finditer(source)]
    assert not offenders, offenders
