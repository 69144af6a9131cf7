"""Safe by default, on the real server process: 401 and 403 told apart, the allowlist and the
metadata addresses, body and rate limits, and no token or key material in the logs."""

from __future__ import annotations

import base64
import hashlib
import socket
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from servers.needs import declares
from servers.service import Server, make_token, write_config

from cryptocheck.service.config import ConfigError, load_config
from cryptocheck.service.security import Allowlist, TargetRefused, forbidden, split_target

CORPUS = Path(__file__).parent / "corpus"
PRIVATE_KEY = CORPUS / "keys" / "rsa-2048-pkcs8.pem"
CERT = CORPUS / "certs" / "leaf-ec-p256.pem"


@pytest.fixture(scope="module")
@declares("service")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, dict[str, str]]]:
    folder = tmp_path_factory.mktemp("serve-security")
    url = f"sqlite:///{folder / 'serve.db'}"
    allowed = folder / "allowed"
    allowed.mkdir()
    (allowed / "cert.pem").write_bytes(CERT.read_bytes())
    config = write_config(
        folder / "serve.toml", poll_seconds=0.1,
        allow={"networks": ["127.0.0.0/8", "169.254.0.0/16", "fd00::/8", "::ffff:0:0/96"],
               "hosts": ["localhost"], "paths": [str(allowed)]},
        limits={"max_request_bytes": 64 * 1024, "rate_limit_per_minute": 100000,
                "max_targets_per_job": 5})
    tokens = {scope: make_token(url, scope, f"sec-{scope}") for scope in ("read", "scan", "admin")}
    server = Server(url, folder / "server.log", config).start()
    try:
        yield server, tokens
    finally:
        server.stop()


def test_no_token_is_401_and_a_small_scope_is_403(service: tuple[Server, dict[str, str]]) -> None:
    server, tokens = service
    for method, path in (("GET", "/v1/scans"), ("GET", "/v1/assets"), ("GET", "/metrics"),
                         ("POST", "/v1/scans"), ("POST", "/v1/check/certificates"),
                         ("GET", "/v1/policies")):
        answer = server.request(method, path)
        assert answer.status == 401, (method, path)
        assert answer.headers["www-authenticate"].startswith("Bearer")
        assert answer.json()["error"] == "unauthorized"
    assert server.request("GET", "/v1/scans", token="cct_not-a-real-token").status == 401
    assert server.request("GET", "/v1/scans", headers={
        "Authorization": f"Basic {tokens['admin']}"}).status == 401
    forbidden_answer = server.request("POST", "/v1/scans", token=tokens["read"],
                                      json_body={"kind": "certs", "targets": ["x"]})
    assert forbidden_answer.status == 403 and forbidden_answer.json()["error"] == "forbidden"
    assert "needs scope scan" in forbidden_answer.json()["message"]
    assert server.request("POST", "/v1/check/certificates", token=tokens["read"],
                          body=CERT.read_bytes()).status == 403
    assert server.request("GET", "/v1/scans", token=tokens["read"]).status == 200
    assert server.request("POST", "/v1/check/certificates", token=tokens["admin"],
                          body=CERT.read_bytes()).status == 200


def _refusal(server: Server, token: str, kind: str, target: str) -> str:
    answer = server.request("POST", "/v1/scans", token=token,
                            json_body={"kind": kind, "targets": [target]})
    assert answer.status == 403, (target, answer.body)
    body = answer.json()
    assert body["error"] == "target-not-allowed"
    return str(body["message"])


def test_targets_outside_the_allowlist_are_refused(service: tuple[Server, dict[str, str]]) -> None:
    server, tokens = service
    message = _refusal(server, tokens["scan"], "tls", "10.9.8.7:443")
    assert "10.9.8.7" in message and "not inside the allowlist" in message
    assert "not inside the allowlist" in _refusal(server, tokens["scan"], "ssh",
                                                  "[2001:db8::1]:22")
    # A name not listed must resolve into listed networks (this one does not resolve).
    assert "unlisted.example.invalid does not resolve" in _refusal(
        server, tokens["scan"], "tls", "unlisted.example.invalid:443")
    # Server-side paths: only under allow.paths.
    assert "allow.paths" in _refusal(server, tokens["scan"], "certs", "/etc/ssl/certs")
    # Inside the allowlist the target passes (the kind may not be installed yet: then 400
    # kind-unavailable, never a refusal).
    allowed = server.request("POST", "/v1/scans", token=tokens["scan"],
                             json_body={"kind": "tls", "targets": ["127.0.0.1:1"]})
    assert allowed.status in (202, 400), allowed.body
    assert allowed.json().get("error") != "target-not-allowed"


@pytest.mark.parametrize("target", ["169.254.169.254", "169.254.169.254:80",
                                    "[fd00:ec2::254]:443", "fd00:ec2::254",
                                    "http://169.254.169.254/latest/meta-data",
                                    "[::ffff:169.254.169.254]:80", "169.254.1.1:443",
                                    "169.254.169.0/24", "fd00::/16", "168.0.0.0/6"])
def test_metadata_addresses_are_refused_even_when_listed(
        service: tuple[Server, dict[str, str]], target: str) -> None:
    server, tokens = service
    message = _refusal(server, tokens["scan"], "tls", target)
    assert "metadata" in message


def test_allowlist_rules() -> None:
    names = {"metadata.internal": ["169.254.169.254"], "db.example": ["10.0.0.5"],
             "mixed.example": ["10.0.0.6", "169.254.10.1"], "web.example": ["192.0.2.10"]}
    allowlist = Allowlist(["10.0.0.0/8"], ["*.internal", "web.example"],
                          resolver=lambda host: names.get(host, []))
    allowlist.check("db.example:5432")        # resolves into a listed network
    allowlist.check("web.example:443")        # listed by name
    allowlist.check("10.1.2.3")
    for target, reason in (("metadata.internal:80", "metadata"),
                           ("mixed.example", "metadata"),
                           ("nowhere.example", "does not resolve"),
                           ("192.0.2.1:443", "not inside"),
                           ("", "no host"), ("10.0.0.1:99999", "not a port")):
        with pytest.raises(TargetRefused, match=reason):
            allowlist.check(target)
    with pytest.raises(TargetRefused, match="not inside"):
        Allowlist([], []).check("127.0.0.1:443")  # nothing is allowed by default
    # Networks as targets (the TLS and SSH scanners take CIDR blocks): wholly inside a
    # listed network, touching no metadata or link-local address.
    allowlist.check("10.1.0.0/16")
    for target, reason in (("10.0.0.0/7", "not inside"), ("11.0.0.0/30", "not inside"),
                           ("::ffff:0:0/100", "IPv4-mapped")):
        with pytest.raises(TargetRefused, match=reason):
            allowlist.check(target)
    with pytest.raises(TargetRefused, match="metadata"):
        Allowlist(["160.0.0.0/4"], []).check("168.0.0.0/6")
    assert split_target("[2001:db8::1]:8443") == ("2001:db8::1", 8443)
    assert split_target("smtp://Mail.Example.:25") == ("mail.example", 25)
    assert forbidden(__import__("ipaddress").ip_address("fe80::1"))


def test_body_and_rate_limits(service: tuple[Server, dict[str, str]], tmp_path: Path) -> None:
    server, tokens = service
    big = server.request("POST", "/v1/check/certificates", token=tokens["scan"],
                         body=b"A" * (65 * 1024))
    assert big.status == 413 and big.json()["error"] == "too-large"
    # Without a Content-Length (chunked), the limit holds as the body streams in.
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        head = (f"POST /v1/check/certificates HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
                f"{tokens['scan']}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n")
        sock.sendall(head.encode())
        chunk = b"B" * 16384
        try:
            for _ in range(8):
                sock.sendall(b"%x\r\n" % len(chunk) + chunk + b"\r\n")
            sock.sendall(b"0\r\n\r\n")
        except OSError:
            pass  # the server may close early
        reply = sock.recv(4096)
    assert reply.startswith(b"HTTP/1.1 413"), reply[:100]

    url = server.database_url
    config = write_config(tmp_path / "slow.toml", limits={"rate_limit_per_minute": 3})
    token = make_token(url, "read", "rate")
    limited = Server(url, tmp_path / "limited.log", config).start()
    try:
        codes = [limited.request("GET", "/v1/scans", token=token).status for _ in range(5)]
        assert codes[:3] == [200, 200, 200] and codes[3:] == [429, 429], codes
        answer = limited.request("GET", "/v1/scans", token=token)
        assert int(answer.headers["retry-after"]) >= 1
        # Another token has its own budget.
        assert limited.request("GET", "/v1/scans", token=tokens["read"]).status == 200
    finally:
        limited.stop()


def test_tokens_and_key_material_never_logged(service: tuple[Server, dict[str, str]]) -> None:
    server, tokens = service
    key_pem = PRIVATE_KEY.read_bytes()
    key_lines = [line for line in key_pem.decode().splitlines() if not line.startswith("-----")]
    assert server.request("POST", "/v1/check/certificates?name=key.pem", token=tokens["scan"],
                          body=key_pem).status == 200
    scan = server.request("POST", "/v1/scans", token=tokens["scan"], json_body={
        "kind": "certs", "files": [{"name": "key.pem",
                                    "content": base64.b64encode(key_pem).decode()}]})
    assert scan.status == 202
    job = server.wait_scan(tokens["read"], scan.json()["id"])
    assert job["state"] == "finished" and job["counts"]["assets"] == 1
    report = server.request("GET", f"/v1/scans/{job['id']}/report", token=tokens["read"])
    assert not any(line in report.body.decode() for line in key_lines)
    # An encrypted key opens with a password sent in a header, and the password is not kept.
    password = "corpus-pkcs8-aes256-password"
    encrypted = (CORPUS / "keys" / "rsa-2048-pkcs8-aes256.pem").read_bytes()
    closed = server.request("POST", "/v1/check/certificates?name=enc.pem", token=tokens["scan"],
                            body=encrypted).json()
    opened = server.request("POST", "/v1/check/certificates?name=enc.pem", token=tokens["scan"],
                            body=encrypted, headers={"X-Cryptocheck-Password": password})
    assert opened.status == 200 and password.encode() not in opened.body
    assert closed["assets"][0]["key_size"] is None
    assert opened.json()["assets"][0]["key_size"] == 2048
    server.request("GET", "/v1/scans", token="cct_wrong-token-value-for-the-log-test")
    server.request("GET", "/v1/scans?x=1", token=tokens["admin"])
    log = server.log_path.read_text("utf-8")
    assert "/v1/scans" in log  # the log is being written
    for secret in [*tokens.values(), "cct_wrong-token-value-for-the-log-test", *key_lines,
                   password]:
        assert secret not in log
    assert base64.b64encode(key_pem).decode()[:40] not in log
    # Uploaded files are kept only until their job ends.
    with sqlite3.connect(server.database_url.removeprefix("sqlite:///")) as db:
        assert db.execute("SELECT COUNT(*) FROM job_inputs").fetchone() == (0,)


def test_tokens_are_stored_hashed_and_can_be_revoked(
        service: tuple[Server, dict[str, str]]) -> None:
    server, _ = service
    made = subprocess.run([sys.executable, "-m", "cryptocheck", "serve", "--database-url",
                           server.database_url, "token", "create", "--scope", "read",
                           "--name", "short-lived"], capture_output=True, text=True, check=True)
    token = made.stdout.strip()
    assert token.startswith("cct_") and len(token) > 40
    assert server.request("GET", "/v1/scans", token=token).status == 200
    with sqlite3.connect(server.database_url.removeprefix("sqlite:///")) as db:
        stored = db.execute("SELECT * FROM tokens WHERE name = 'short-lived'").fetchall()
    assert len(stored) == 1
    assert token not in repr(stored)
    assert hashlib.sha256(token.encode()).hexdigest() in stored[0]
    subprocess.run([sys.executable, "-m", "cryptocheck", "serve", "token", "revoke",
                    "short-lived", "--database-url", server.database_url], check=True,
                   capture_output=True)
    assert server.request("GET", "/v1/scans", token=token).status == 401


def test_per_job_target_limit(service: tuple[Server, dict[str, str]]) -> None:
    server, tokens = service
    content = base64.b64encode(CERT.read_bytes()).decode()
    files = [{"name": f"c{i}.pem", "content": content} for i in range(6)]
    answer = server.request("POST", "/v1/scans", token=tokens["scan"],
                            json_body={"kind": "certs", "files": files})
    assert answer.status == 400 and answer.json()["error"] == "too-many-targets"
    assert "at most 5" in answer.json()["message"]
    answer = server.request("POST", "/v1/scans", token=tokens["scan"],
                            json_body={"kind": "certs", "files": files[:5]})
    assert answer.status == 202
    # A network block counts as its addresses.
    block = server.request("POST", "/v1/scans", token=tokens["scan"],
                           json_body={"kind": "tls", "targets": ["127.0.0.0/29"]})
    assert block.status == 400 and "8 targets" in block.json()["message"]


def test_configuration_is_safe_by_default_and_strict(tmp_path: Path) -> None:
    defaults = load_config(None)
    assert defaults.host == "127.0.0.1"
    assert defaults.allow_networks == defaults.allow_hosts == defaults.allow_paths == ()
    misspelt = tmp_path / "misspelt.toml"
    misspelt.write_text('[allow]\nnetwerks = ["10.0.0.0/8"]\n', "utf-8")
    with pytest.raises(ConfigError, match="netwerks"):
        load_config(str(misspelt))
    answer = subprocess.run([sys.executable, "-m", "cryptocheck", "serve", "--config",
                             str(misspelt)], check=False, capture_output=True, text=True,
                            timeout=60)
    assert answer.returncode == 2 and "netwerks" in answer.stderr
    zero = tmp_path / "zero.toml"
    zero.write_text("workers = 0\n", "utf-8")
    with pytest.raises(ConfigError, match="positive"):
        load_config(str(zero))
    good = tmp_path / "good.toml"
    good.write_text('port = 9000\n[allow]\nnetworks = ["10.0.0.0/8"]\n[limits]\n'
                    'max_targets_per_job = 7\n', "utf-8")
    loaded = load_config(str(good), port=9100, host=None)
    assert (loaded.port, loaded.host, loaded.allow_networks, loaded.max_targets_per_job) == (
        9100, "127.0.0.1", ("10.0.0.0/8",), 7)
