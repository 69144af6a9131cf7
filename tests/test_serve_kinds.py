"""The tls, ssh and config kinds through the real server: a live openssl s_server and sshd on
127.0.0.1 (inside the allowlist), configuration uploaded as a file and as a tar archive."""

from __future__ import annotations

import base64
import hashlib
import io
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509
from servers.service import Server, make_token, write_config
from servers.sshd import host_key, sshd
from servers.tls import s_server

from cryptocheck.service.kinds import available_kinds

pytestmark = pytest.mark.service
TLS_FIXTURES = Path(__file__).parent / "fixtures" / "tls"
NGINX = b"""server {
    listen 443 ssl;
    ssl_protocols TLSv1 TLSv1.2;
    ssl_ciphers ECDHE-RSA-AES128-GCM-SHA256:DES-CBC3-SHA;
}
"""


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, str]]:
    folder = tmp_path_factory.mktemp("serve-kinds")
    url = f"sqlite:///{folder / 'serve.db'}"
    config = write_config(folder / "serve.toml", poll_seconds=0.1,
                          allow={"networks": ["127.0.0.0/8"]})
    token = make_token(url, "scan", "kinds")
    server = Server(url, folder / "server.log", config).start()
    try:
        yield server, token
    finally:
        server.stop()


def _run_scan(server: Server, token: str, body: dict[str, object]) -> dict[str, object]:
    answer = server.request("POST", "/v1/scans", token=token, json_body=body)
    assert answer.status == 202, answer.body
    job = server.wait_scan(token, answer.json()["id"], timeout=120)
    assert job["state"] == "finished", job
    report: dict[str, object] = server.request(
        "GET", f"/v1/scans/{job['id']}/report", token=token).json()
    return report


@pytest.mark.skipif("tls" not in available_kinds(), reason="cryptocheck.sources.tls not installed")
@pytest.mark.tls_server
def test_tls_scan_of_a_live_server(service: tuple[Server, str]) -> None:
    server, token = service
    with s_server() as port:  # the fixture certificate rsa (TLS_FIXTURES)
        # Options may only make a scan gentler than the scanner's defaults.
        harsh = server.request("POST", "/v1/scans", token=token, json_body={
            "kind": "tls", "targets": [f"127.0.0.1:{port}"], "options": {"per_host": 1000}})
        assert harsh.status == 400 and harsh.json()["error"] == "bad-options"
        report = _run_scan(server, token, {"kind": "tls", "targets": [f"127.0.0.1:{port}"],
                                           "options": {"connect_timeout": 3.0, "per_host": 1}})
    assets = report["assets"]
    assert isinstance(assets, list)
    endpoints = [a for a in assets if a["type"] == "tls-endpoint"]
    assert len(endpoints) == 1 and endpoints[0]["port"] == port
    served = x509.load_pem_x509_certificate((TLS_FIXTURES / "rsa.pem").read_bytes())
    fingerprint = hashlib.sha256(served.public_bytes(
        __import__("cryptography.hazmat.primitives.serialization",
                   fromlist=["Encoding"]).Encoding.DER)).hexdigest()
    assert fingerprint in {a.get("sha256") for a in assets if a["type"] == "certificate"}
    findings = report["findings"]
    assert isinstance(findings, list) and any(
        f["usage"]["context"].startswith("tls.") for f in findings)
    listed = server.request("GET", "/v1/assets?kind=tls-endpoint&host=127.0.0.1",
                            token=token).json()["assets"]
    assert [a["asset"]["port"] for a in listed] == [port]


@pytest.mark.skipif("ssh" not in available_kinds(), reason="cryptocheck.sources.ssh not installed")
@pytest.mark.ssh_server
def test_ssh_scan_of_a_live_sshd(service: tuple[Server, str], tmp_path: Path) -> None:
    server, token = service
    key = host_key(tmp_path / "host_ed25519", "-t", "ed25519")
    with sshd(tmp_path, [key]) as running:
        port = running.port
        report = _run_scan(server, token, {"kind": "ssh", "targets": [f"127.0.0.1:{port}"],
                                           "options": {"timeout": 5.0, "gex": False}})
    assets = report["assets"]
    assert isinstance(assets, list)
    assert [a["port"] for a in assets if a["type"] == "ssh-endpoint"] == [port]
    assert "Ed25519" in {a.get("key_algorithm") for a in assets if a["type"] == "public-key"}
    findings = report["findings"]
    assert isinstance(findings, list) and any(
        f["usage"]["context"].startswith("ssh.") for f in findings)


@pytest.mark.skipif("config" not in available_kinds(), reason="cryptocheck.sources.config not installed")
def test_config_check_and_archive_scan(service: tuple[Server, str]) -> None:
    server, token = service
    answer = server.request("POST", "/v1/check/config?name=nginx.conf", token=token, body=NGINX)
    assert answer.status == 200, answer.body
    checked = answer.json()
    directives = {a["directive"] for a in checked["assets"] if a["type"] == "config-setting"}
    assert {"ssl_protocols", "ssl_ciphers"} <= directives
    assert any(f["status"] == "disallowed" for f in checked["findings"])

    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        info = tarfile.TarInfo("repo/etc/nginx/nginx.conf")
        info.size = len(NGINX)
        archive.addfile(info, io.BytesIO(NGINX))
    report = _run_scan(server, token, {"kind": "config", "files": [
        {"name": "repo.tar.gz", "content": base64.b64encode(buffer.getvalue()).decode()}]})
    assets = report["assets"]
    assert isinstance(assets, list)
    scanned = {a["directive"] for a in assets if a["type"] == "config-setting"}
    assert scanned == directives
    # Paths name the upload, never the server's temporary directory.
    assert {a["path"] for a in checked["assets"]} == {"nginx.conf"}
    assert {a["path"] for a in assets} == {"repo.tar.gz!repo/etc/nginx/nginx.conf"}
    assert all("cryptocheck-" not in a["id"] for a in assets)
