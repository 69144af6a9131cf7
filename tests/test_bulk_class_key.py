"""The bulk path refuses a policy whose rules test a field its class key does not capture: it
judges every certificate through the normal path (and ``certs --bulk`` says so on stderr), so
that the findings are the normal path's even when certificates of one class differ in it."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from cryptocheck import scan
from cryptocheck.bulk.compiled import CLASS_KEY_FIELDS, class_key_gaps
from cryptocheck.bulk.pyscan import have_extension
from cryptocheck.bulk.run import BulkOptions, bulk_scan
from cryptocheck.cli import main
from cryptocheck.model import CertificateAsset, CryptoUsage
from cryptocheck.policy import load_policy
from cryptocheck.policy.rules import MATCH_FIELDS
from cryptocheck.sources.files import usages

CERTS = Path(__file__).resolve().parent / "corpus" / "certs"
AS_OF = date(2026, 11, 22)
SHIPPED = ("nhs-acagpg", "nist-sp800-131a-r2", "nist-ir8547", "cnsa-2.0", "cabf-br",
           "mozilla-intermediate", "mozilla-modern", "mozilla-old")

# ``kind`` is a field rules may test (SSH usages carry it); certificate usages do not, so a
# test below gives certificates one, as a new attribute of certificates would: a value that
# differs between certificates of one class (same key type and size, same signature).
POLICY = """
[policy]
id = "class-key-test"
title = "A rule on a field the bulk class key does not capture"
version = "1"
description = "For the bulk path's refusal test."

[[changelog]]
version = "1"
date = 2026-11-22
changes = "First version."

[[rule]]
id = "ODD-SERIAL"
summary = "Certificates with an odd serial are disallowed in this test"
status = "disallowed"
contexts = ["certificate.public-key"]
[rule.match]
kind = "odd"
[[rule.citation]]
document = "cryptocheck tests"
section = "bulk class key"

[[rule]]
id = "ANY"
summary = "Everything else is approved in this test"
status = "approved"
contexts = ["certificate.*"]
[[rule.citation]]
document = "cryptocheck tests"
section = "bulk class key"
"""


@pytest.fixture
def policy_file(tmp_path: Path) -> Path:
    path = tmp_path / "policy.toml"
    path.write_text(POLICY, "utf-8")
    return path


@pytest.fixture
def serial_parity(monkeypatch: pytest.MonkeyPatch) -> None:
    """Certificate public-key usages carry ``kind``: the parity of the serial number."""
    original = usages._certificate_usages

    def with_parity(cert: CertificateAsset) -> Iterator[CryptoUsage]:
        for usage in original(cert):
            if usage.context == "certificate.public-key":
                parity = "odd" if int(cert.serial or "0", 16) % 2 else "even"
                usage = CryptoUsage(**{**{f: getattr(usage, f) for f in usage.__slots__},
                                       "attributes": (*usage.attributes, ("kind", parity))})
            yield usage

    monkeypatch.setattr(usages, "_certificate_usages", with_parity)


def _normal(policy: Path) -> dict[str, list[tuple[str, str, str]]]:
    report = scan([str(CERTS)], load_policy(str(policy)), AS_OF)
    found: dict[str, list[tuple[str, str, str]]] = {a.id: [] for a in report.assets
                                                     if isinstance(a, CertificateAsset)}
    for f in report.findings:
        if f.asset_id in found:
            found[f.asset_id].append((f.usage.context, f.rule, f.status.value))
    return {k: sorted(v) for k, v in found.items()}


def _bulk(policy: Path, **options: Any) -> tuple[dict[str, list[tuple[str, str, str]]], Any]:
    out = io.BytesIO()
    result = bulk_scan([str(CERTS)], load_policy(str(policy)), AS_OF, out,
                       BulkOptions(jobs=1, **options))
    classes: dict[str, list[tuple[str, str, str]]] = {}
    found: dict[str, list[tuple[str, str, str]]] = {}
    for line in out.getvalue().decode().splitlines():
        record = json.loads(line)
        if record["record"] == "class":
            classes[record["class"]] = sorted((f["context"], f["rule"], f["status"])
                                              for f in record["findings"])
        elif record["record"] == "certificate":
            found[record["id"]] = classes[record["class"]]
    return found, result


def test_shipped_policies_test_only_what_the_class_key_captures() -> None:
    for name in SHIPPED:
        assert class_key_gaps(load_policy(name), AS_OF) == (), name


def test_a_rule_on_an_uncaptured_field_is_named(policy_file: Path) -> None:
    assert "kind" in MATCH_FIELDS and "kind" not in CLASS_KEY_FIELDS
    assert class_key_gaps(load_policy(str(policy_file)), AS_OF) == ("ODD-SERIAL tests kind",)


@pytest.mark.skipif(not CERTS.is_dir(), reason="test corpus not generated")
@pytest.mark.usefixtures("serial_parity")
def test_refused_policy_gives_the_normal_paths_findings(policy_file: Path) -> None:
    assert have_extension(), "C scanner not built (python3 setup.py build_ext --inplace)"
    normal = _normal(policy_file)
    verdicts = {rule for found in normal.values() for _, rule, _ in found}
    assert {"ODD-SERIAL", "ANY"} <= verdicts  # the field does split classes
    bulk, result = _bulk(policy_file, dedup=False)
    assert bulk == normal
    assert result.engine == "c" and result.tally.fallbacks == len(normal)


@pytest.mark.skipif(not CERTS.is_dir(), reason="test corpus not generated")
@pytest.mark.usefixtures("serial_parity")
def test_certs_bulk_says_on_stderr_that_it_fell_back(policy_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "bulk.jsonl"
    result = CliRunner().invoke(main, ["certs", "--bulk", str(CERTS), "--policy",
                                       str(policy_file), "--as-of", AS_OF.isoformat(),
                                       "--format", "jsonl", "-o", str(out)])
    assert result.exit_code in (0, 1), result.output
    assert "ODD-SERIAL tests kind" in result.stderr
    assert "judged by the normal path" in result.stderr
