"""load.py: a saved JSON report reads back into the same records (every asset type), so that
every format renders from a saved report; and the mixed report the other report tests use.

The mixed report is one real run of :func:`cryptocheck.run.scan` over certificates and keys
(the corpus), a live TLS endpoint (``openssl s_server`` on 127.0.0.1 accepting TLS 1.0 to
1.3, scanned by the TLS source) and nginx configuration (tests/fixtures/config/nginx, read by
the configuration source), judged by the default policy as of AS_OF with one real waiver.
"""

from __future__ import annotations

import itertools
import json
from datetime import date
from functools import cache
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner
from servers.tls import s_server

from cryptocheck.cli import main
from cryptocheck.model import (
    ConfigAsset,
    EndpointAsset,
    Report,
    Status,
    Waiver,
)
from cryptocheck.report import FORMATS, accepted_protocols
from cryptocheck.report.load import ReportLoadError, load_report
from cryptocheck.report.sample import empty_report, sample_report
from cryptocheck.report.wire import dumps_report, report_schema, summary_to_dict
from cryptocheck.run import scan
from cryptocheck.sources.config.stream import ConfigOptions, iter_config_items
from cryptocheck.sources.files import SourceOptions, SourceStats, iter_assets
from cryptocheck.sources.tls import TlsOptions, iter_tls_items

TESTS = Path(__file__).resolve().parent
CORPUS = TESTS / "corpus"
NGINX = TESTS / "fixtures" / "config" / "nginx"
AS_OF = date(2026, 6, 1)


@cache
def mixed_report() -> Report:
    """Certificates and keys, a live TLS endpoint and nginx configuration in one run."""
    files = [str(CORPUS / "certs"), str(CORPUS / "keys")]
    first = scan("certs", files, policy=None, as_of=AS_OF)
    target = next(f for f in first.findings if f.status is Status.DISALLOWED)
    waiver = Waiver(id="W-42", owner="pki-team@example.org",
                    reason="Replacement ordered (CHG-1234)", expires=date(2026, 12, 31),
                    rule=target.rule, asset=target.asset_id)
    with s_server("-min_protocol", "TLSv1", "-cipher", "DEFAULT:AES128-SHA:@SECLEVEL=0") as port:
        endpoint = f"127.0.0.1:{port}"
        tls_items = list(iter_tls_items([endpoint], TlsOptions(read_timeout=3.0,
                                                               connect_timeout=3.0)))
    stats = SourceStats()
    items = itertools.chain(
        iter_assets(files, SourceOptions(), stats), tls_items,
        iter_config_items([str(NGINX)], ConfigOptions(as_of=AS_OF)))
    return scan("certs", [*files, endpoint, str(NGINX)], policy=None, as_of=AS_OF,
                waivers=(waiver,), command="mixed", items=items, stats=stats)


def tls_endpoint(report: Report) -> EndpointAsset:
    """The mixed report's TLS endpoint."""
    return next(a for a in report.assets
                if isinstance(a, EndpointAsset) and a.type == "tls-endpoint")


def config_setting(report: Report) -> ConfigAsset:
    """The mixed report's first nginx ssl_protocols setting."""
    return next(a for a in report.assets
                if isinstance(a, ConfigAsset) and a.directive == "ssl_protocols")


def write_mixed(path: Path) -> Path:
    """The mixed report saved as JSON at ``path``."""
    path.write_text(dumps_report(mixed_report()), encoding="utf-8")
    return path


@pytest.mark.tls_server  # mixed_report scans a live s_server
def test_mixed_report_has_every_asset_type_and_a_waiver() -> None:
    report = mixed_report()
    assert {a.type for a in report.assets} >= {"certificate", "private-key", "public-key",
                                              "tls-endpoint", "config-setting"}
    assert any(f.waived for f in report.findings)
    assert {f.usage.context for f in report.findings} >= {"tls.protocol", "tls.cipher-suite",
                                                          "certificate.signature"}
    jsonschema.Draft202012Validator(report_schema()).validate(json.loads(dumps_report(report)))


@pytest.mark.parametrize("build", [sample_report, empty_report, pytest.param(mixed_report, marks=pytest.mark.tls_server)])
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


@pytest.mark.tls_server  # mixed_report scans a live s_server
def test_endpoint_details_come_back_as_details() -> None:
    report = mixed_report()
    loaded = load_report(dumps_report(report))
    endpoint = tls_endpoint(loaded)
    assert endpoint == tls_endpoint(report)
    assert accepted_protocols(endpoint) == ["TLSv1.0", "TLSv1.1", "TLSv1.2", "TLSv1.3"]
    config = config_setting(loaded)
    assert config == config_setting(report)
    assert config.location.path is not None and config.location.path.endswith(".conf")


@pytest.mark.tls_server  # mixed_report scans a live s_server
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
@pytest.mark.tls_server  # mixed_report scans a live s_server
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
