"""load.py: a saved JSON report reads back into the same records (every asset type), so that
every format renders from a saved report; and the mixed report the other report tests use.

The mixed report is a real ``certs`` scan of the corpus (with a real waiver) plus a TLS
endpoint and configuration settings. Until the TLS and configuration sources land, those two
are EndpointAsset/ConfigAsset records made here, with usages as docs/contexts.md defines them,
judged by the real default policy (so their statuses and citations are the policy's).
"""

from __future__ import annotations

import dataclasses
import json
from collections import Counter
from datetime import date
from functools import cache
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner

from cryptocheck.cli import main
from cryptocheck.model import (
    ConfigAsset,
    CryptoUsage,
    EndpointAsset,
    Location,
    Report,
    Status,
    Summary,
    Waiver,
)
from cryptocheck.policy import judge, load_policy
from cryptocheck.report import FORMATS
from cryptocheck.report.load import ReportLoadError, load_report
from cryptocheck.report.sample import empty_report, sample_report
from cryptocheck.report.wire import dumps_report, report_schema, summary_to_dict
from cryptocheck.run import scan

CORPUS = Path(__file__).resolve().parent / "corpus"
AS_OF = date(2026, 6, 1)


def _tls_usages(where: Location, asset_id: str) -> list[CryptoUsage]:
    def usage(context: str, algorithm: str, **kw: object) -> CryptoUsage:
        return CryptoUsage(asset_id=asset_id, context=context, algorithm=algorithm,
                           location=where, **kw)  # type: ignore[arg-type]

    found = [usage("tls.protocol", v) for v in ("TLSv1.0", "TLSv1.2", "TLSv1.3")]
    found.append(usage("tls.cipher-suite", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", key_size=128,
                       attributes=(("aead", True), ("au", "RSA"), ("cipher", "AES"),
                                   ("export", False), ("kx", "ECDHE"), ("mac", "AEAD"),
                                   ("mode", "GCM"), ("protocol", "TLSv1.2"))))
    found.append(usage("tls.cipher-suite", "TLS_RSA_WITH_3DES_EDE_CBC_SHA", key_size=168,
                       attributes=(("aead", False), ("au", "RSA"), ("cipher", "3DES"),
                                   ("export", False), ("kx", "RSA"), ("mac", "SHA1"),
                                   ("mode", "CBC"), ("protocol", "TLSv1.0"))))
    found.append(usage("tls.group", "x25519", key_size=255, strength=128,
                       quantum_vulnerable=True))
    found.append(usage("tls.group", "X25519MLKEM768", quantum_vulnerable=False))
    return found


@cache
def mixed_report() -> Report:
    """Certificates and keys (a real scan, one finding waived), a TLS endpoint and two
    configuration settings, judged by the default policy as of AS_OF."""
    targets = [str(CORPUS / "certs"), str(CORPUS / "keys")]
    first = scan(targets, None, AS_OF, command="certs")
    target = next(f for f in first.findings if f.status is Status.DISALLOWED)
    waiver = Waiver(id="W-42", owner="pki-team@example.org",
                    reason="Replacement ordered (CHG-1234)", expires=date(2026, 12, 31),
                    rule=target.rule, asset=target.asset_id)
    certs = scan(targets, None, AS_OF, waivers=(waiver,), command="certs")
    policy = load_policy(None)
    endpoint = EndpointAsset(
        id="tls:127.0.0.1:8443", type="tls-endpoint",
        location=Location(host="127.0.0.1", port=8443), address="127.0.0.1", service="tls",
        details={"protocols": ["TLSv1.0", "TLSv1.2", "TLSv1.3"],
                 "cipher_suites": ["TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
                                   "TLS_RSA_WITH_3DES_EDE_CBC_SHA"],
                 "groups": ["x25519", "X25519MLKEM768"]})
    config = ConfigAsset(
        id="config:etc/nginx/nginx.conf:12:ssl_protocols",
        location=Location(path="etc/nginx/nginx.conf", line=12, column=5), kind="nginx",
        directive="ssl_protocols", value="TLSv1 TLSv1.2", scope="server example.org:443",
        details={"protocols": ["TLSv1.0", "TLSv1.2"]})
    extra_findings = [judge(u, policy, AS_OF, (waiver,))
                      for u in _tls_usages(endpoint.location, endpoint.id)]
    extra_findings += [
        judge(CryptoUsage(asset_id=config.id, context="tls.protocol", algorithm=v,
                          location=config.location), policy, AS_OF, (waiver,))
        for v in ("TLSv1.0", "TLSv1.2")]
    findings = certs.findings + tuple(extra_findings)
    assets = certs.assets + (endpoint, config)
    counts = Counter(f.status for f in findings)
    worst = max((f.status for f in findings if not f.waived), key=lambda s: s.rank)
    assert certs.summary is not None
    summary = Summary(inputs=len(assets) + len(certs.errors), assets=len(assets),
                      errors=len(certs.errors),
                      findings_by_status=tuple((s.value, counts.get(s, 0)) for s in Status),
                      waived=sum(1 for f in findings if f.waived),
                      files_read=certs.summary.files_read + 1,
                      files_skipped=certs.summary.files_skipped, worst_status=worst)
    return dataclasses.replace(certs, command="mixed",
                               targets=(*certs.targets, "127.0.0.1:8443", "etc/nginx"),
                               assets=assets, findings=findings, summary=summary)


def write_mixed(path: Path) -> Path:
    """The mixed report saved as JSON at ``path``."""
    path.write_text(dumps_report(mixed_report()), encoding="utf-8")
    return path


def test_mixed_report_has_every_asset_type_and_a_waiver() -> None:
    report = mixed_report()
    assert {a.type for a in report.assets} >= {"certificate", "private-key", "public-key",
                                              "tls-endpoint", "config-setting"}
    assert any(f.waived for f in report.findings)
    jsonschema.Draft202012Validator(report_schema()).validate(json.loads(dumps_report(report)))


@pytest.mark.parametrize("build", [sample_report, empty_report, mixed_report])
def test_round_trip_gives_identical_json(build: object) -> None:
    report = build()  # type: ignore[operator]
    text = dumps_report(report)
    loaded = load_report(text)
    assert dumps_report(loaded) == text
    assert [type(a) for a in loaded.assets] == [type(a) for a in report.assets]
    assert loaded.summary is not None and report.summary is not None
    assert summary_to_dict(loaded.summary) == summary_to_dict(report.summary)


def test_scan_json_load_json_identical(tmp_path: Path) -> None:
    """scan -> json (the CLI) -> load -> json: byte for byte the same."""
    out = tmp_path / "scan.json"
    result = CliRunner().invoke(main, ["certs", str(CORPUS / "certs"), str(CORPUS / "keys"),
                                       "--as-of", "2026-06-01", "--format", "json", "-o",
                                       str(out)])
    assert result.exit_code in (0, 1), result.output
    text = out.read_text(encoding="utf-8")
    assert dumps_report(load_report(out)) == text
    assert dumps_report(load_report(str(out))) == text


def test_endpoint_details_come_back_as_details() -> None:
    loaded = load_report(dumps_report(mixed_report()))
    endpoint = next(a for a in loaded.assets if isinstance(a, EndpointAsset))
    assert endpoint.details["protocols"] == ["TLSv1.0", "TLSv1.2", "TLSv1.3"]
    assert endpoint.location == Location(host="127.0.0.1", port=8443)
    config = next(a for a in loaded.assets if isinstance(a, ConfigAsset))
    assert (config.directive, config.scope, config.location.line) == (
        "ssl_protocols", "server example.org:443", 12)


def test_dates_in_usage_attributes_read_back_as_dates() -> None:
    loaded = load_report(dumps_report(mixed_report()))
    validity = next(f for f in loaded.findings if f.usage.context == "certificate.validity")
    assert isinstance(validity.usage.attribute("not_after"), (date,))


@pytest.mark.parametrize("text, message", [
    ("{not json", "not JSON"),
    ('{"a": 1}', "not a cryptocheck report"),
    ('{"schema_version": "9.0", "tool": {}}', "not readable by this version"),
    ('{"schema_version": "1.0", "tool": {"version": "1"}}', "malformed report: missing key"),
])
def test_not_a_report_is_a_clear_error(text: str, message: str, tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text(text)
    with pytest.raises(ReportLoadError, match=message):
        load_report(path)


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ReportLoadError, match="cannot read"):
        load_report(tmp_path / "nope.json")


@pytest.mark.parametrize("fmt", FORMATS)
def test_report_command_renders_every_format_from_a_saved_report(fmt: str,
                                                                  tmp_path: Path) -> None:
    saved = write_mixed(tmp_path / "mixed.json")
    out = tmp_path / f"out.{fmt}"
    result = CliRunner().invoke(main, ["report", str(saved), "--format", fmt, "-o", str(out)])
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8")
    assert text.strip()
    if fmt == "json":
        assert text == saved.read_text(encoding="utf-8")
