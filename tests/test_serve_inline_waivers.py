"""One nginx file with an inline waiver, through the three roads a user can take: the
``cryptocheck config`` command, ``POST /v1/check/config`` and a ``/v1/scans`` job on the real
server process. All three must give the same findings (rule, status, location, waiver) and
the same waivers, with exactly one finding waived: the waiver travels in the source's stream,
so no road can drop it (the service used to report none)."""

from __future__ import annotations

import base64
import io
import json
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from servers.service import Server, make_token, write_config

from cryptocheck.cli import main

pytestmark = pytest.mark.service

FIXTURE = Path(__file__).parent / "fixtures" / "serve" / "inline-waiver" / "nginx.conf"
WAIVED_RULE = "NHS-TLS-PROTO-001"  # TLSv1.0 under the default policy: disallowed


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, str]]:
    folder = tmp_path_factory.mktemp("serve-waivers")
    url = f"sqlite:///{folder / 'serve.db'}"
    token = make_token(url, "scan", "waivers")
    server = Server(url, folder / "server.log",
                    write_config(folder / "serve.toml", poll_seconds=0.1)).start()
    try:
        yield server, token
    finally:
        server.stop()


def _through_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    # Run from the fixture's folder so that the report names it ``nginx.conf``, as the
    # service names an upload.
    monkeypatch.chdir(FIXTURE.parent)
    out = tmp_path / "cli.json"
    result = CliRunner().invoke(main, ["config", FIXTURE.name, "--format", "json",
                                       "--output", str(out)])
    assert result.exit_code == 1, result.output  # 3DES is not waived
    report: dict[str, Any] = json.loads(out.read_text("utf-8"))
    return report


def _through_check(server: Server, token: str) -> dict[str, Any]:
    answer = server.request("POST", f"/v1/check/config?name={FIXTURE.name}", token=token,
                            body=FIXTURE.read_bytes())
    assert answer.status == 200, answer.body
    report: dict[str, Any] = answer.json()
    return report


def _through_job(server: Server, token: str) -> dict[str, Any]:
    answer = server.request("POST", "/v1/scans", token=token, json_body={
        "kind": "config", "files": [{"name": FIXTURE.name, "content": base64.b64encode(
            FIXTURE.read_bytes()).decode()}]})
    assert answer.status == 202, answer.body
    job = server.wait_scan(token, answer.json()["id"], timeout=120)
    assert job["state"] == "finished", job
    report = server.request("GET", f"/v1/scans/{job['id']}/report", token=token)
    assert report.status == 200, report.body
    found: dict[str, Any] = report.json()
    return found


def _findings(report: dict[str, Any]) -> list[tuple[Any, ...]]:
    location = ("path", "line", "column")
    return sorted((f["rule"], f["status"], *(f["location"][k] for k in location),
                   json.dumps(f["waiver"], sort_keys=True)) for f in report["findings"])


def _waivers(report: dict[str, Any]) -> list[str]:
    return sorted(json.dumps(w, sort_keys=True) for w in report["waivers"])


def test_an_inline_waiver_counts_the_same_on_every_road(
        service: tuple[Server, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    server, token = service
    reports = {"cli": _through_cli(tmp_path, monkeypatch),
               "check": _through_check(server, token),
               "job": _through_job(server, token)}
    cli = reports["cli"]
    waived = [f for f in cli["findings"] if f["waiver"] is not None]
    assert [(f["rule"], f["location"]["line"]) for f in waived] == [(WAIVED_RULE, 8)], waived
    assert cli["summary"]["waived"] == 1
    assert [(w["id"], w["rule"]) for w in cli["waivers"]] == [("inline:nginx.conf:7",
                                                               WAIVED_RULE)]
    for road in ("check", "job"):
        report = reports[road]
        missing = set(_findings(cli)) - set(_findings(report))
        unexpected = set(_findings(report)) - set(_findings(cli))
        assert not missing and not unexpected, (road, missing, unexpected)
        assert _findings(report) == _findings(cli), road
        assert _waivers(report) == _waivers(cli), road
        assert report["summary"]["waived"] == 1, road
        assert report["summary"]["findings_by_status"] == cli["summary"]["findings_by_status"]


def test_an_inline_waiver_inside_an_uploaded_archive_still_covers_its_setting(
        service: tuple[Server, str]) -> None:
    # The server unpacks the archive in a temporary folder: the waiver must be renamed with
    # the asset it covers, or it would cover nothing.
    server, token = service
    buffer = io.BytesIO()
    data = FIXTURE.read_bytes()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        info = tarfile.TarInfo("repo/etc/nginx/nginx.conf")
        info.size = len(data)
        archive.addfile(info, io.BytesIO(data))
    answer = server.request("POST", "/v1/check/config?name=repo.tar.gz", token=token,
                            body=buffer.getvalue())
    assert answer.status == 200, answer.body
    report = answer.json()
    path = "repo.tar.gz!repo/etc/nginx/nginx.conf"
    assert [(w["id"], w["asset"]) for w in report["waivers"]] == [
        (f"inline:{path}:7", f"config:{path}:8:ssl_protocols")]
    waived = [(f["rule"], f["location"]["path"], f["location"]["line"])
              for f in report["findings"] if f["waiver"] is not None]
    assert waived == [(WAIVED_RULE, path, 8)]
    assert report["summary"]["waived"] == 1
