"""SARIF output: valid against the official SARIF 2.1.0 schema, with rule metadata, precise
regions, stable fingerprints, suppressions for waived findings and notifications for errors."""

from __future__ import annotations

import io
import json
from datetime import date
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner

from cryptocheck.cli import main
from cryptocheck.report import ReportOptions, make_reporter
from cryptocheck.run import scan

# The official SARIF 2.1.0 schema, as the project's shared schemas hold it
# (shared/schemas/sarif-schema-2.1.0.json), copied here so a bare checkout can run the test.
SCHEMA = Path(__file__).resolve().parent / "fixtures" / "schemas" / "sarif-schema-2.1.0.json"
FIXTURES = Path(__file__).parent / "fixtures" / "config"
POLICY = FIXTURES / "policy.toml"


def _schema() -> dict[str, object]:
    if not SCHEMA.exists():
        pytest.fail(f"SARIF schema missing at {SCHEMA}")
    schema: dict[str, object] = json.loads(SCHEMA.read_text("utf-8"))
    return schema


def _sarif(paths: list[str], show_approved: bool = False) -> dict[str, object]:
    out = io.StringIO()
    reporter = make_reporter("sarif", out, options=ReportOptions(show_approved=show_approved))
    scan("config", paths, policy=str(POLICY), as_of=date(2026, 11, 22), reporters=[reporter])
    log: dict[str, object] = json.loads(out.getvalue())
    return log


@pytest.mark.parametrize("kind", ["nginx", "apache", "haproxy", "openssl", "java", "postfix"])
def test_sarif_validates_against_the_official_schema(kind: str) -> None:
    log = _sarif([str(FIXTURES / kind)], show_approved=True)
    jsonschema.validate(log, _schema())


def test_results_have_rule_metadata_regions_and_fingerprints(tmp_path: Path) -> None:
    conf = tmp_path / "nginx.conf"
    conf.write_text("http {\n  server {\n    ssl_protocols   TLSv1 TLSv1.2;\n"
                    "    ssl_dhparam missing.pem;\n  }\n}\n", "utf-8")
    log = _sarif([str(tmp_path)])
    jsonschema.validate(log, _schema())
    run = log["runs"][0]  # type: ignore[index]
    results = run["results"]
    assert [r["ruleId"] for r in results] == ["TEST-TLS-PROTO-OLD"]
    region = results[0]["locations"][0]["physicalLocation"]["region"]
    assert region == {"startLine": 3, "startColumn": 5}
    uri = results[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert uri.endswith("/nginx.conf")
    assert results[0]["level"] == "error"
    rule = run["tool"]["driver"]["rules"][results[0]["ruleIndex"]]
    assert rule["id"] == "TEST-TLS-PROTO-OLD"
    assert rule["shortDescription"]["text"] == "TLS 1.1 and older are disallowed"
    assert rule["helpUri"] == "https://www.rfc-editor.org/rfc/rfc8996"
    notes = run["invocations"][0]["toolExecutionNotifications"]
    assert [n["descriptor"]["id"] for n in notes] == ["unreadable"]
    assert notes[0]["locations"][0]["physicalLocation"]["region"]["startLine"] == 4
    first = results[0]["partialFingerprints"]["cryptocheck/v1"]
    # The fingerprint does not change when the setting moves down the file.
    conf.write_text("# a comment\n\n" + conf.read_text("utf-8"), "utf-8")
    moved = _sarif([str(tmp_path)])["runs"][0]["results"][0]  # type: ignore[index]
    assert moved["locations"][0]["physicalLocation"]["region"]["startLine"] == 5
    assert moved["partialFingerprints"]["cryptocheck/v1"] == first


def test_waived_findings_carry_a_suppression(tmp_path: Path) -> None:
    (tmp_path / "nginx.conf").write_text(
        "http {\n  ssl_protocols TLSv1;  # cryptocheck: allow TEST-TLS-PROTO-OLD until 2099-01-01 -- partner\n}\n",
        "utf-8")
    log = _sarif([str(tmp_path)])
    jsonschema.validate(log, _schema())
    result = log["runs"][0]["results"][0]  # type: ignore[index]
    assert result["suppressions"][0]["kind"] == "inSource"
    assert "partner" in result["suppressions"][0]["justification"]


def test_cli_writes_sarif(tmp_path: Path) -> None:
    (tmp_path / "nginx.conf").write_text("http {\n ssl_protocols TLSv1.2;\n}\n", "utf-8")
    out = tmp_path / "out.sarif"
    result = CliRunner().invoke(main, ["config", str(tmp_path), "--policy", str(POLICY),
                                       "--format", "sarif", "--output", str(out)])
    assert result.exit_code == 0, result.output
    log = json.loads(out.read_text("utf-8"))
    jsonschema.validate(log, _schema())
    assert log["runs"][0]["results"] == []


def test_certificates_and_endpoints_validate_too(tmp_path: Path) -> None:
    from cryptocheck.model import EndpointAsset, Location

    out = io.StringIO()
    reporter = make_reporter("sarif", out, options=ReportOptions())
    endpoint = EndpointAsset(
        id="tls:example.org:443", type="tls-endpoint", location=Location(host="example.org", port=443),
        address="192.0.2.1", service="tls",
        details={"protocols": {"TLSv1.0": {"accepted": True, "cipher_suites": []}}})
    certs = str(FIXTURES / "nginx" / "certs" / "legacy.crt")
    from cryptocheck.sources.files import SourceOptions, SourceStats, iter_assets

    items = [*iter_assets([certs], SourceOptions(), SourceStats()), endpoint]
    scan("certs", [certs, "example.org:443"], policy="nhs-acagpg", as_of=date(2026, 11, 22),
         reporters=[reporter], items=items)
    log = json.loads(out.getvalue())
    jsonschema.validate(log, _schema())
    results = log["runs"][0]["results"]
    hosts = [r for r in results if "logicalLocations" in r["locations"][0]]
    assert hosts and hosts[0]["locations"][0]["logicalLocations"][0]["name"] == "example.org:443"
    files = [r for r in results if "physicalLocation" in r["locations"][0]]
    assert files and files[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].endswith("legacy.crt")
