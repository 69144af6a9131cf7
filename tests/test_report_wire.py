"""The JSON wire format: field names, order, null handling, times, determinism."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from io import StringIO
from typing import Any

import pytest

from cryptocheck.model import CryptoUsage, Location, Status
from cryptocheck.report import make_reporter, replay
from cryptocheck.report.sample import empty_report, sample_report
from cryptocheck.report.wire import (
    SCHEMA_ID,
    SCHEMA_VERSION,
    asset_to_dict,
    chain_to_dict,
    clean_text,
    dumps_report,
    error_to_dict,
    finding_to_dict,
    findings_by_status,
    report_to_dict,
    usage_to_dict,
    utc_timestamp,
)

CERT_KEYS = [
    "type", "id", "path", "index", "sha256", "subject", "issuer", "serial", "key_algorithm",
    "key_size", "curve", "key_oid", "signature_algorithm", "signature_scheme", "signature_hash",
    "signature_oid", "not_before", "not_after", "is_ca", "self_signed", "spki_sha256",
    "subject_key_id", "authority_key_id", "source_format", "location",
]
KEY_KEYS = [
    "type", "id", "path", "index", "key_algorithm", "key_size", "curve", "key_oid",
    "spki_sha256", "format", "encrypted", "protection", "comment", "location",
]
LOCATION_KEYS = ["path", "index", "line", "column", "offset", "host", "port"]
TOP_KEYS = [
    "schema", "schema_version", "tool", "command", "targets", "policy", "started", "finished",
    "summary", "assets", "findings", "chains", "waivers", "errors",
]


def by_id(report_dict: dict[str, Any], asset_id: str) -> dict[str, Any]:
    return next(a for a in report_dict["assets"] if a["id"] == asset_id)


def test_top_level_keys_in_documented_order() -> None:
    wire = report_to_dict(sample_report())
    assert list(wire) == TOP_KEYS
    assert wire["schema"] == SCHEMA_ID and wire["schema_version"] == SCHEMA_VERSION == "1.0"
    assert wire["tool"] == {"name": "cryptocheck", "version": "0.1.0"}
    assert wire["policy"] == {
        "id": "nhs-acag", "version": "2024.1", "title": "NHS Approved Cryptographic Algorithms",
        "sha256": "0" * 63 + "a", "as_of": "2025-06-01", "files": ["policies/nhs-acag.toml"],
    }


def test_run_times_are_utc_with_z() -> None:
    wire = report_to_dict(sample_report())
    assert wire["started"] == "2025-06-01T09:00:00Z"  # microseconds dropped
    assert wire["finished"] == "2025-06-01T09:00:05Z"  # 10:00:05+01:00 converted


def test_certificate_asset_is_flat_with_every_key() -> None:
    wire = report_to_dict(sample_report())
    leaf = by_id(wire, "cert-1")
    assert list(leaf) == CERT_KEYS
    assert leaf["type"] == "certificate"
    assert (leaf["path"], leaf["index"]) == ("bundle.pem", 0)
    assert leaf["not_before"] == "2020-01-01T00:00:00Z"  # naive taken as UTC
    assert leaf["not_after"] == "2030-01-01T12:30:15Z"
    assert leaf["curve"] is None and leaf["subject_key_id"] is None
    assert list(leaf["location"]) == LOCATION_KEYS
    root = by_id(wire, "cert-2")
    assert root["not_before"] == "2019-05-31T23:00:00Z"  # +02:00 converted
    assert root["not_after"] == "9999-12-31T23:59:59Z"
    assert root["issuer"] == "CN=Ünïcødé Root 例え,O=株式会社テスト"


def test_unknown_algorithm_and_sizes_stay_null_not_guessed() -> None:
    wire = report_to_dict(sample_report())
    odd = by_id(wire, "cert-3")
    assert odd["key_algorithm"] == "unknown" and odd["key_oid"] == "1.2.3.4.5"
    assert odd["key_size"] is None and odd["signature_hash"] is None
    assert odd["not_before"] == "1950-01-01T00:00:00Z"
    key = by_id(wire, "key-1")
    assert list(key) == KEY_KEYS
    assert key["type"] == "private-key"
    assert key["key_size"] is None and key["spki_sha256"] is None and key["key_oid"] is None
    assert key["encrypted"] is True


def test_finding_fields() -> None:
    report = sample_report()
    wire = finding_to_dict(report.findings[0])
    assert list(wire) == [
        "asset", "rule", "status", "severity", "message", "citation", "location", "usage",
        "waived", "waiver", "waiver_note",
    ]
    assert wire["status"] == "disallowed" and wire["waived"] is False and wire["waiver"] is None
    assert wire["citation"][1] == {
        "document": "NHS Approved Cryptographic Algorithms Good Practice Guideline",
        "section": "4.2 — Signatures", "url": None, "confirmation": "U",
        "note": "Section number from the 2023 edition",
    }
    assert list(wire["usage"]) == [
        "context", "algorithm", "key_size", "curve", "hash", "strength", "quantum_vulnerable",
        "oid", "attributes",
    ]
    # attributes: keys sorted, datetimes as UTC Z strings
    assert list(wire["usage"]["attributes"].items()) == [
        ("is_ca", False), ("lifetime_days", 3653), ("not_after", "2030-01-01T12:30:15Z"),
    ]


def test_waived_finding_and_expired_waiver_note() -> None:
    report = sample_report()
    waived = finding_to_dict(report.findings[1])
    assert waived["waived"] is True
    assert waived["waiver"] == {
        "id": "W-1", "owner": "pki-team@example.org",
        "reason": "Legacy appliance, replacement ordered (ticket ÖPS-12)", "expires": "2026-01-31",
    }
    noted = finding_to_dict(report.findings[2])
    assert noted["waived"] is False and noted["waiver"] is None
    assert noted["waiver_note"] == "waiver W-0 expired on 2024-12-31"
    assert noted["usage"]["attributes"] == {
        "lifetime_days": 3653, "not_before": "2020-01-01", "note": None,
    }


def test_error_fields_and_endpoint_location() -> None:
    report = sample_report()
    file_error, host_error = (error_to_dict(e) for e in report.errors)
    assert list(file_error) == ["path", "index", "reason", "message", "location"]
    assert file_error["path"] == "certs/bro\\udcffken.pem"  # lone surrogate shown, not lost
    assert file_error["location"]["offset"] == 2048
    assert host_error["path"] is None and host_error["index"] is None
    assert host_error["location"]["host"] == "tls.example.net"
    assert host_error["location"]["port"] == 8443


def test_chain_fields() -> None:
    chain = chain_to_dict(sample_report().chains[0])
    assert chain == {
        "id": "chain-1", "certificates": ["cert-1", "cert-2"], "complete": True,
        "weakest_status": "disallowed", "weakest_asset": "cert-1",
        "weakest_rule": "rsa-key-min-2048",
    }


def test_summary_emits_all_five_statuses_best_first() -> None:
    wire = report_to_dict(sample_report())["summary"]
    assert list(wire["findings_by_status"].items()) == [
        ("approved", 3), ("legacy", 1), ("deprecated", 1), ("unknown", 2), ("disallowed", 2),
    ]
    assert wire["worst_status"] == "disallowed"
    assert (wire["inputs"], wire["assets"], wire["errors"]) == (7, 5, 2)


def test_findings_by_status_defaults_missing_to_zero_and_rejects_strangers() -> None:
    assert findings_by_status([("disallowed", 2), (Status.APPROVED, 1)]) == {
        "approved": 1, "legacy": 0, "deprecated": 0, "unknown": 0, "disallowed": 2,
    }
    assert findings_by_status([]) == dict.fromkeys(
        ["approved", "legacy", "deprecated", "unknown", "disallowed"], 0)
    with pytest.raises(ValueError):
        findings_by_status([("fine", 1)])


def test_empty_run() -> None:
    wire = report_to_dict(empty_report())
    assert wire["assets"] == wire["findings"] == wire["errors"] == wire["chains"] == []
    assert wire["summary"]["worst_status"] is None
    assert wire["targets"] == []


def test_report_without_summary_is_a_caller_mistake() -> None:
    with pytest.raises(ValueError, match="summary"):
        report_to_dict(replace(sample_report(), summary=None))


def test_unsupported_attribute_type_is_refused() -> None:
    usage = CryptoUsage("a", "public-key", "RSA", Location(), attributes=(("x", object()),))  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="'x'"):
        usage_to_dict(usage)


def test_not_an_asset_is_refused() -> None:
    with pytest.raises(TypeError):
        asset_to_dict(Location())  # type: ignore[arg-type]


def test_utc_timestamp() -> None:
    assert utc_timestamp(datetime(5, 1, 2, 3, 4, 5)) == "0005-01-02T03:04:05Z"  # padded year
    eastern = timezone(timedelta(hours=-5))
    assert utc_timestamp(datetime(2024, 12, 31, 22, 0, tzinfo=eastern)) == "2025-01-01T03:00:00Z"


def test_clean_text_keeps_valid_unicode_and_escapes_lone_surrogates() -> None:
    assert clean_text("株式会社 Ünï") == "株式会社 Ünï"
    assert clean_text("a\udcffb") == "a\\udcffb"
    assert clean_text(None) is None


def test_json_output_is_byte_identical_for_same_records() -> None:
    first, second = dumps_report(sample_report()), dumps_report(sample_report())
    assert first == second
    assert first.endswith("}\n")
    assert "株式会社" in first  # ensure_ascii=False: readable, not \\u escapes
    first.encode("utf-8")  # writable as UTF-8 (lone surrogates were escaped)


def test_only_run_times_differ_between_runs() -> None:
    one = sample_report()
    two = replace(one, started=one.started + timedelta(hours=3),
                  finished=one.finished + timedelta(hours=3))
    a, b = report_to_dict(one), report_to_dict(two)
    assert a != b
    for key in ("started", "finished"):
        a.pop(key), b.pop(key)
    assert a == b


def test_attribute_order_in_record_does_not_change_output() -> None:
    report = sample_report()
    first = report.findings[0]
    shuffled = replace(first, usage=replace(first.usage,
                                            attributes=tuple(reversed(first.usage.attributes))))
    assert json.dumps(finding_to_dict(first)) == json.dumps(finding_to_dict(shuffled))


def test_json_reporter_writes_report_at_end_only() -> None:
    stream = StringIO()
    reporter = make_reporter("json", stream)
    report = sample_report()
    replay(report, reporter)
    assert stream.getvalue() == dumps_report(report)
    assert json.loads(stream.getvalue())["summary"]["waived"] == 1


def test_make_reporter_rejects_unknown_format() -> None:
    with pytest.raises(ValueError, match="yaml-report"):
        make_reporter("yaml-report", StringIO())


def test_summary_worst_status_may_be_a_string() -> None:
    report = sample_report()
    assert report.summary is not None
    summary = replace(report.summary, worst_status="legacy")  # type: ignore[arg-type]
    assert report_to_dict(replace(report, summary=summary))["summary"]["worst_status"] == "legacy"


def test_no_private_key_material_fields() -> None:
    text = dumps_report(sample_report()).lower()
    for word in ("private_key", "password", "passphrase", "secret"):
        assert f'"{word}' not in text
