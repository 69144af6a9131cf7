"""The service keeps no table of kinds, options or formats: a source registered in
``cryptocheck.sources.registry`` is a scan kind, with what its record says a request may
tune, and the one run judges its stream (waivers included). In-process, no server."""

from __future__ import annotations

import base64
import dataclasses
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from cryptocheck.report import FORMATS, REPORT_FORMATS
from cryptocheck.service import openapi
from cryptocheck.service.config import ServeConfig
from cryptocheck.service.kinds import RequestError, available_kinds, run_request, validate_scan
from cryptocheck.service.security import Allowlist
from cryptocheck.sources import registry
from cryptocheck.sources.files import SourceStats

FIXTURE = Path(__file__).parent / "fixtures" / "serve" / "inline-waiver" / "nginx.conf"


def _upload(name: str, data: bytes) -> dict[str, str]:
    return {"name": name, "content": base64.b64encode(data).decode()}


@pytest.fixture
def copied_config_source(monkeypatch: pytest.MonkeyPatch) -> registry.Source:
    """A new source, ``sslconf``, registered for this test only: the config source's stream
    under another name, with one option a request may tune."""
    config = registry.get_source("config")

    def items(targets: Sequence[str], options: Any, stats: SourceStats
              ) -> Iterator[registry.Item]:
        return config.items(targets, options, stats)

    record = dataclasses.replace(config, name="sslconf", items=items,
                                 tunable={"vendored": bool})
    monkeypatch.setattr(registry, "REGISTRY", (
        *registry.REGISTRY, registry.Registered("sslconf", "unused.module", ())))
    monkeypatch.setitem(registry._LOADED, "sslconf", record)
    return record


def test_a_registered_source_is_a_scan_kind_with_its_own_tunables(
        copied_config_source: registry.Source) -> None:
    assert "sslconf" in available_kinds()
    config, allow = ServeConfig(), Allowlist([], [])
    files = [_upload("nginx.conf", FIXTURE.read_bytes())]
    request = validate_scan({"kind": "sslconf", "files": files, "options": {"vendored": True}},
                            config, allow)
    assert request["options"] == {"vendored": True}
    # The config source lets a request tune gitignore; this record does not.
    with pytest.raises(RequestError) as refused:
        validate_scan({"kind": "sslconf", "files": files, "options": {"gitignore": False}},
                      config, allow)
    assert refused.value.code == "bad-options"
    report = run_request(request, [("nginx.conf", FIXTURE.read_bytes())], [])
    assert report.command == "sslconf"
    assert [(f.rule, f.location.path, f.location.line) for f in report.findings
            if f.waiver is not None] == [("NHS-TLS-PROTO-001", "nginx.conf", 8)]
    assert [w.id for w in report.waivers] == ["inline:nginx.conf:7"]


def test_numbers_may_only_be_lowered_below_the_records_defaults() -> None:
    config, allow = ServeConfig(), Allowlist([], [])
    files = [_upload("c.pem", b"")]
    default = registry.get_source("certs").option_defaults()["max_file_size"]
    accepted = validate_scan({"kind": "certs", "files": files,
                              "options": {"max_file_size": default}}, config, allow)
    assert accepted["options"] == {"max_file_size": default}
    with pytest.raises(RequestError):
        validate_scan({"kind": "certs", "files": files,
                       "options": {"max_file_size": default + 1}}, config, allow)


def test_the_openapi_description_lists_the_registries() -> None:
    schemas = openapi.SCHEMAS
    assert schemas["ScanRequest"]["properties"]["kind"]["enum"] == list(
        registry.source_names())
    tunable = {name for kind in registry.source_names()
               for name in registry.get_source(kind).tunable}
    assert set(openapi.OPTIONS["properties"]) == tunable
    assert openapi.FORMAT["schema"]["enum"] == list(FORMATS)
    assert set(openapi.REPORT_TYPES) == {f.media_type.partition(";")[0]
                                         for f in REPORT_FORMATS}
