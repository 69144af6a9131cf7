"""Golden tests: each parser on realistic files gives exactly the expected usages at the
expected file, line and column.

Each ``tests/fixtures/config/<kind>/`` holds configuration in the shapes found in the wild
(Mozilla's generator output, distribution defaults, hand-written edge cases: includes,
inheritance, overrides, continuation lines) and ``expected.txt``: one line per usage (what
the policy judges) or error, ``path:line:column<TAB>directive<TAB>scope<TAB>context<TAB>
algorithm``. Missing and unexpected lines are reported separately. To regenerate after a
reviewed change: ``CRYPTOCHECK_REGEN_GOLDEN=1 pytest tests/test_config_golden.py``.
"""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import pytest

from cryptocheck.model import CertificateAsset, ConfigAsset, RunError
from cryptocheck.sources.config.stream import PARSERS, ConfigOptions, iter_config_items
from cryptocheck.sources.files.usages import usages_of

FIXTURES = Path(__file__).parent / "fixtures" / "config"
# Every registered parser: a new one without its fixture folder fails here (test_golden).
KINDS = list(PARSERS)


def _lines(kind: str) -> list[str]:
    root = FIXTURES / kind
    cwd = os.getcwd()
    os.chdir(root)
    try:
        items = list(iter_config_items(["."], ConfigOptions(as_of=date(2026, 11, 22))))
    finally:
        os.chdir(cwd)
    out = []
    for item in items:
        if isinstance(item, RunError):
            out.append(f"{item.location}\tERROR\t{item.reason}\t{item.message}")
            continue
        if isinstance(item, ConfigAsset):
            head = f"{item.location}\t{item.directive}\t{item.scope or '-'}"
        elif isinstance(item, CertificateAsset):
            head = f"{item.location}\tcertificate\t{item.subject}"
        else:
            head = f"{item.location}\t{item.type}\t-"
        for usage in usages_of(item):
            if usage.context == "certificate.validity":
                continue  # depends on when the fixture certificates were made
            size = f" {usage.key_size}" if usage.key_size is not None else ""
            out.append(f"{head}\t{usage.context}\t{usage.algorithm}{size}")
    return out


@pytest.mark.parametrize("kind", KINDS)
def test_golden(kind: str) -> None:
    if not (FIXTURES / kind).is_dir():
        pytest.fail(f"no fixtures for {kind}")
    got = _lines(kind)
    expected_file = FIXTURES / kind / "expected.txt"
    if os.environ.get("CRYPTOCHECK_REGEN_GOLDEN"):
        expected_file.write_text("\n".join(got) + "\n", "utf-8")
    expected = expected_file.read_text("utf-8").splitlines()
    missing = [line for line in expected if line not in got]
    unexpected = [line for line in got if line not in expected]
    assert not missing and not unexpected, (
        f"missing ({len(missing)}): {missing[:5]}\nunexpected ({len(unexpected)}): {unexpected[:5]}")
    assert got == expected  # same order too
