"""The service's API on the real server process (SQLite and PostgreSQL): checks, scans,
reports, the estate, policies, schedules, metrics."""

from __future__ import annotations

import base64
import json
import re
import subprocess
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import jsonschema
import pytest
from servers.database import create_pg_schema, drop_pg_schema
from servers.service import Server, make_token, write_config

from cryptocheck.report import FORMATS
from cryptocheck.report.wire import report_schema
from cryptocheck.run import scan

pytestmark = pytest.mark.service
CERTS = Path(__file__).parent / "corpus" / "certs"
CHAIN = CERTS / "chain-leaf-rsa-2048.pem"
WEAK = CERTS / "leaf-ec-p192.pem"


@pytest.fixture(scope="module",
                params=["sqlite", pytest.param("postgresql", marks=pytest.mark.database)])
def service(request: pytest.FixtureRequest,
            tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, dict[str, str]]]:
    folder = tmp_path_factory.mktemp("serve-api")
    schema = None
    if request.param == "sqlite":
        url = f"sqlite:///{folder / 'serve.db'}"
    else:
        url, schema = create_pg_schema()
    try:
        config = write_config(folder / "serve.toml", poll_seconds=0.1,
                              schedule_poll_seconds=0.3)
        tokens = {scope: make_token(url, scope, f"api-{scope}")
                  for scope in ("read", "scan", "admin")}
        server = Server(url, folder / "server.log", config).start()
        try:
            yield server, tokens
        finally:
            server.stop()
    finally:
        if schema is not None:
            drop_pg_schema(schema)


def _pairs(findings: list[dict[str, object]]) -> Counter[tuple[object, object]]:
    return Counter((f["rule"], f["status"]) for f in findings)


def test_health_needs_no_token(service: tuple[Server, dict[str, str]]) -> None:
    server, _ = service
    assert server.request("GET", "/healthz").json() == {"status": "ok"}
    ready = server.request("GET", "/readyz")
    assert ready.status == 200 and ready.json()["status"] == "ready"


def test_check_certificates_gives_the_library_verdicts(
        service: tuple[Server, dict[str, str]]) -> None:
    server, tokens = service
    answer = server.request("POST", "/v1/check/certificates?name=chain.pem", token=tokens["scan"],
                            body=CHAIN.read_bytes())
    assert answer.status == 200, answer.body
    assert answer.headers["content-type"].startswith("application/json")
    report = answer.json()
    jsonschema.validate(report, report_schema())
    expected = scan("certs", [str(CHAIN)])
    assert report["summary"]["assets"] == expected.summary.assets == 3
    assert _pairs(report["findings"]) == Counter(
        (f.rule, f.status.value) for f in expected.findings)
    assert {a["path"] for a in report["assets"]} == {"chain.pem"}


def test_check_der_and_pkcs7_in_a_multipart_form(service: tuple[Server, dict[str, str]],
                                                 tmp_path: Path) -> None:
    server, tokens = service
    p7b = tmp_path / "chain.p7b"
    subprocess.run(["openssl", "crl2pkcs7", "-nocrl", "-certfile", str(CHAIN), "-outform", "DER",
                    "-out", str(p7b)], check=True, capture_output=True)
    boundary = uuid.uuid4().hex
    parts = b""
    for name, data in (("leaf.der", (CERTS / "leaf-rsa-2048.der").read_bytes()),
                       ("chain.p7b", p7b.read_bytes())):
        parts += (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; "
                  f"filename=\"{name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
                  ).encode() + data + b"\r\n"
    parts += f"--{boundary}--\r\n".encode()
    answer = server.request("POST", "/v1/check/certificates?policy=nist-ir8547",
                            token=tokens["scan"], body=parts, headers={
                                "Content-Type": f"multipart/form-data; boundary={boundary}"})
    assert answer.status == 200, answer.body
    report = answer.json()
    assert report["policy"]["id"] == "nist-ir8547"
    formats = Counter((a["path"], a["source_format"]) for a in report["assets"])
    assert formats == Counter({("leaf.der", "DER"): 1, ("chain.p7b", "PKCS#7"): 3}), formats


def test_check_in_every_installed_format(service: tuple[Server, dict[str, str]]) -> None:
    server, tokens = service
    for fmt in FORMATS:
        answer = server.request("POST", f"/v1/check/certificates?format={fmt}",
                                token=tokens["scan"], body=WEAK.read_bytes())
        assert answer.status == 200 and answer.body, (fmt, answer.body[:200])
    assert server.request("POST", "/v1/check/certificates?format=pdf", token=tokens["scan"],
                          body=WEAK.read_bytes()).status == 400
    assert server.request("POST", "/v1/check/certificates", token=tokens["scan"],
                          body=b"").status == 400
    garbage = server.request("POST", "/v1/check/certificates", token=tokens["scan"],
                             body=b"not a certificate at all")
    assert garbage.status == 200 and garbage.json()["summary"]["errors"] == 1


def _submit(server: Server, token: str, *paths: Path) -> int:
    files = [{"name": p.name, "content": base64.b64encode(p.read_bytes()).decode()}
             for p in paths]
    answer = server.request("POST", "/v1/scans", token=token,
                            json_body={"kind": "certs", "files": files, "as_of": "2026-11-22"})
    assert answer.status == 202, answer.body
    assert answer.headers["location"] == f"/v1/scans/{answer.json()['id']}"
    return int(answer.json()["id"])


def test_scan_report_estate_and_history(service: tuple[Server, dict[str, str]]) -> None:
    server, tokens = service
    first = _submit(server, tokens["scan"], CHAIN, WEAK)
    job = server.wait_scan(tokens["read"], first)
    assert job["state"] == "finished" and job["restarted"] is False, job
    assert job["counts"]["assets"] == 4 and job["progress"]["done"] == 4
    report = server.request("GET", f"/v1/scans/{first}/report", token=tokens["read"]).json()
    jsonschema.validate(report, report_schema())
    expected = scan("certs", [str(CHAIN), str(WEAK)], as_of=__import__("datetime").date(2026, 11, 22))
    assert _pairs(report["findings"]) == Counter(
        (f.rule, f.status.value) for f in expected.findings)
    for fmt in FORMATS:
        rendered = server.request("GET", f"/v1/scans/{first}/report?format={fmt}",
                                  token=tokens["read"])
        assert rendered.status == 200 and rendered.body, fmt
    assert server.request("GET", "/v1/scans/99999", token=tokens["read"]).status == 404
    assert server.request("GET", f"/v1/scans/{first}/report?format=nope",
                          token=tokens["read"]).status == 400

    # The estate: the weak certificate is the worst, and shows in status filters.
    disallowed = server.request("GET", "/v1/assets?status=disallowed",
                                token=tokens["read"]).json()["assets"]
    weak_ids = {a["id"] for a in disallowed if a["asset"]["path"] == WEAK.name}
    assert len(weak_ids) == 1, disallowed
    weak_id = weak_ids.pop()
    findings = server.request("GET", "/v1/findings?status=disallowed",
                              token=tokens["read"]).json()["findings"]
    assert findings and all(f["status"] == "disallowed" for f in findings)
    rule = findings[0]["rule"]
    by_rule = server.request("GET", f"/v1/findings?rule={rule}", token=tokens["read"]).json()
    assert by_rule["findings"] and {f["rule"] for f in by_rule["findings"]} == {rule}
    expiring = server.request("GET", "/v1/assets?expiring_before=2200-01-01&kind=certificate",
                              token=tokens["read"]).json()["assets"]
    assert {a["asset"]["path"] for a in expiring} >= {CHAIN.name, WEAK.name}
    assert server.request("GET", "/v1/assets?status=bogus", token=tokens["read"]).status == 400

    # A second scan of the same file: the asset's history has two entries.
    second = _submit(server, tokens["scan"], WEAK)
    server.wait_scan(tokens["read"], second)
    history = server.request("GET", f"/v1/assets/{weak_id}/history",
                             token=tokens["read"]).json()["history"]
    assert [h["scan"] for h in history][-2:] == [first, second]
    assert {h["status"] for h in history} == {"disallowed"}
    assert server.request("GET", "/v1/assets/nope/history", token=tokens["read"]).status == 404
    # Cancelling a finished scan changes nothing.
    done = server.request("DELETE", f"/v1/scans/{first}", token=tokens["scan"])
    assert done.status == 200 and done.json()["state"] == "finished"
    listed = server.request("GET", "/v1/scans?limit=2", token=tokens["read"]).json()["scans"]
    assert [s["id"] for s in listed] == sorted([s["id"] for s in listed], reverse=True)


def test_policies(service: tuple[Server, dict[str, str]]) -> None:
    server, tokens = service
    listing = server.request("GET", "/v1/policies", token=tokens["read"]).json()
    ids = {p["id"] for p in listing["policies"]}
    assert "nhs-acagpg" in ids and "certs" in listing["kinds"] and "json" in listing["formats"]
    policy = server.request("GET", "/v1/policies/nhs-acagpg", token=tokens["read"]).json()
    assert policy["rules"] and all(r["citations"] for r in policy["rules"])
    assert server.request("GET", "/v1/policies/..%2Fetc", token=tokens["read"]).status == 404
    assert server.request("GET", "/v1/policies/nope", token=tokens["read"]).status == 404


def test_schedule_queues_scans(service: tuple[Server, dict[str, str]]) -> None:
    server, tokens = service
    body = {"interval_seconds": 60, "scan": {"kind": "certs", "files": [
        {"name": "weak.pem", "content": base64.b64encode(WEAK.read_bytes()).decode()}]}}
    assert server.request("POST", "/v1/schedules", token=tokens["scan"],
                          json_body=body).status == 403
    assert server.request("POST", "/v1/schedules", token=tokens["admin"], json_body={
        **body, "interval_seconds": 5}).status == 400
    created = server.request("POST", "/v1/schedules", token=tokens["admin"], json_body=body)
    assert created.status == 201, created.body
    schedule_id = created.json()["id"]
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        found = server.request("GET", f"/v1/schedules/{schedule_id}", token=tokens["read"]).json()
        if found["last_scan"]:
            break
        time.sleep(0.2)
    job = server.wait_scan(tokens["read"], found["last_scan"])
    assert job["state"] == "finished" and job["schedule"] == schedule_id
    assert found["scan"]["files"] == ["weak.pem"]  # uploaded contents are not shown back
    assert server.request("DELETE", f"/v1/schedules/{schedule_id}",
                          token=tokens["admin"]).status == 204
    assert server.request("GET", f"/v1/schedules/{schedule_id}",
                          token=tokens["read"]).status == 404


METRIC_LINE = re.compile(r'^[a-z_]+(\{[a-z_]+="[^"]*"(,[a-z_]+="[^"]*")*\})? [0-9.e+-]+$')


def test_metrics_are_prometheus_text(service: tuple[Server, dict[str, str]]) -> None:
    server, tokens = service
    _submit_id = _submit(server, tokens["scan"], WEAK)
    server.wait_scan(tokens["read"], _submit_id)
    assert server.request("GET", "/metrics").status == 401
    answer = server.request("GET", "/metrics", token=tokens["read"])
    assert answer.status == 200 and answer.headers["content-type"].startswith("text/plain")
    lines = answer.body.decode().splitlines()
    samples = {}
    for line in lines:
        if line.startswith("#"):
            assert re.match(r"^# (HELP|TYPE) [a-z_]+ .+$", line), line
            continue
        assert METRIC_LINE.match(line), line
        name, value = line.rsplit(" ", 1)
        samples[name] = float(value)
    assert samples['cryptocheck_scans{state="finished"}'] >= 1
    assert samples['cryptocheck_findings_total{status="disallowed"}'] >= 1
    assert samples["cryptocheck_scan_duration_seconds_count"] >= 1
    assert any(k.startswith("cryptocheck_http_requests_total") for k in samples)


def test_openapi_describes_every_route(service: tuple[Server, dict[str, str]]) -> None:
    server, _ = service
    spec = server.request("GET", "/openapi.json").json()
    assert spec["openapi"].startswith("3.")
    from cryptocheck.service.api import routes
    described = {p.replace("{id}", "{id:int}") for p in spec["paths"]}
    for route in routes():
        assert route.path in described, route.path
        for method in route.methods or ():
            if method != "HEAD":
                key = route.path.replace("{id:int}", "{id}")
                assert method.lower() in spec["paths"][key], (route.path, method)
    json.dumps(spec)
