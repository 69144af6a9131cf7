"""cryptocheck ssh against real OpenSSH servers started here (sshd -D on 127.0.0.1, own host
keys made by ssh-keygen): the reported lists equal what the server was configured with (and
what ``sshd -T`` says it offers), and the host keys equal those generated."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import itertools
import json
import shutil
import socket
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner
from servers.needs import declares
from servers.process import free_port
from servers.relays import concurrency_relay
from servers.sshd import SSHD, sshd, sshd_offered

from cryptocheck.cli import main
from cryptocheck.model import EndpointAsset, KeyAsset, RunError
from cryptocheck.sources.ssh import SshOptions, iter_ssh_items
from cryptocheck.sources.ssh.probes import usages_of

pytestmark = pytest.mark.skipif(shutil.which(SSHD) is None or shutil.which("ssh-keygen") is None,
                                reason="OpenSSH not installed (README set-up installs it)")

KEY_SPECS = {  # name -> ssh-keygen arguments, expected (type, size)
    "ed25519": (["-t", "ed25519"], "ssh-ed25519", None),
    "rsa2048": (["-t", "rsa", "-b", "2048"], "ssh-rsa", 2048),
    "rsa3072": (["-t", "rsa", "-b", "3072"], "ssh-rsa", 3072),
    "ecdsa256": (["-t", "ecdsa", "-b", "256"], "ecdsa-sha2-nistp256", 256),
    "ecdsa384": (["-t", "ecdsa", "-b", "384"], "ecdsa-sha2-nistp384", 384),
}

CONFIGS = {
    "default": (["ed25519", "rsa3072", "ecdsa384"], ""),
    "restricted": (["rsa2048", "ecdsa256"],
                   ("KexAlgorithms curve25519-sha256,diffie-hellman-group14-sha256\n"
                   "Ciphers aes256-gcm@openssh.com,aes128-ctr\n"
                   "MACs hmac-sha2-512-etm@openssh.com,hmac-sha2-256\n"
                   "Compression no\n")),
    "legacy": (["rsa2048"],
               ("KexAlgorithms diffie-hellman-group1-sha1,diffie-hellman-group14-sha1\n"
               "HostKeyAlgorithms ssh-rsa,rsa-sha2-256\n"
               "Ciphers aes128-cbc,3des-cbc,aes128-ctr\n"
               "MACs hmac-md5,hmac-sha1-96,hmac-sha1\n")),
    "gex-only": (["ecdsa256", "ed25519"],
                 ("KexAlgorithms diffie-hellman-group-exchange-sha256\n"
                 "ModuliFile {moduli}\n")),
    "nistp521-only": (["ecdsa384"], "KexAlgorithms ecdh-sha2-nistp521\n"),
    "pq-only": (["ed25519"], "KexAlgorithms sntrup761x25519-sha512@openssh.com\n"),
    "certificate": (["ed25519"], "HostCertificate {certificate}\n"),
}


@dataclass
class Server:
    name: str
    port: int
    keys: dict[str, Path]
    offered: dict[str, str]  # sshd -T
    certificate: Path | None = None


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("hostkeys")
    made = {}
    for name, (args, _, _) in KEY_SPECS.items():
        path = folder / f"ssh_host_{name}_key"
        subprocess.run(["ssh-keygen", "-q", *args, "-N", "", "-f", str(path)], check=True)
        made[name] = path
    return made


@pytest.fixture(scope="module")
def moduli(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A moduli file with only 3072- and 6144-bit primes (taken from the system's)."""
    lines = [line for line in Path("/etc/ssh/moduli").read_text().splitlines()
             if not line.startswith("#") and line.split()[4] in ("3071", "6143")]
    path = tmp_path_factory.mktemp("moduli") / "moduli"
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture(scope="module")
def certificate(keys: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The Ed25519 host key signed by a test CA (ssh-keygen -s -h)."""
    folder = tmp_path_factory.mktemp("hostca")
    ca = folder / "ca"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(ca)], check=True)
    public = folder / "host.pub"
    public.write_text(Path(f"{keys['ed25519']}.pub").read_text())
    subprocess.run(["ssh-keygen", "-q", "-s", str(ca), "-h", "-I", "test-host",
                    "-n", "127.0.0.1", str(public)], check=True, capture_output=True)
    return folder / "host-cert.pub"


@pytest.fixture(scope="module")
@declares("ssh_server")
def servers(keys: dict[str, Path], moduli: Path, certificate: Path,
            tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Server]]:
    """Every configuration's sshd, started once for the module and stopped by its pid."""
    with contextlib.ExitStack() as stack:
        yield {name: stack.enter_context(_sshd(name, keys, moduli, certificate,
                                               tmp_path_factory))
               for name in CONFIGS}


@contextlib.contextmanager
def _sshd(name: str, keys: dict[str, Path], moduli: Path, certificate: Path,
          tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    key_names, extra = CONFIGS[name]
    folder = tmp_path_factory.mktemp(f"sshd-{name}")
    with sshd(folder, [keys[k] for k in key_names],
              extra.format(moduli=moduli, certificate=certificate)) as running:
        yield Server(name, running.port, {k: keys[k] for k in key_names},
                     sshd_offered(running.config),
                     certificate if "HostCertificate" in extra else None)


def _scan(server: Server) -> tuple[EndpointAsset, list[KeyAsset], list[RunError]]:
    items = list(iter_ssh_items([f"127.0.0.1:{server.port}"], SshOptions(timeout=10)))
    endpoints = [i for i in items if isinstance(i, EndpointAsset)]
    assert len(endpoints) == 1, items
    return (endpoints[0], [i for i in items if isinstance(i, KeyAsset)],
            [i for i in items if isinstance(i, RunError)])


def _certificate_fingerprint(path: Path) -> str:
    """OpenSSH's SHA256 fingerprint of the certificate blob in ``path``."""
    blob = base64.b64decode(path.read_text().split()[1])
    return "SHA256:" + base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")


def _fingerprint(path: Path) -> str:
    out = subprocess.run(["ssh-keygen", "-l", "-E", "sha256", "-f", f"{path}.pub"],
                         check=True, capture_output=True, text=True).stdout
    return out.split()[1]


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_lists_equal_configuration(servers: dict[str, Server], name: str) -> None:
    server = servers[name]
    endpoint, _, errors = _scan(server)
    assert not errors
    details = endpoint.details
    assert details["banner"].startswith("SSH-2.0-OpenSSH_9.2")
    assert details["software"] == "OpenSSH_9.2p1"
    # The server appends its strict-KEX marker (Terrapin countermeasure) to its own list.
    assert details["kex"] == [*server.offered["kexalgorithms"].split(","),
                              "kex-strict-s-v00@openssh.com"]
    for field, keyword in (("ciphers", "ciphers"), ("macs", "macs")):
        assert details[field]["client_to_server"] == server.offered[keyword].split(",")
        assert details[field]["server_to_client"] == server.offered[keyword].split(",")
    compression = ["none", "zlib@openssh.com"] if server.offered["compression"] != "no" else [
        "none"]
    assert details["compression"]["client_to_server"] == compression
    # Host key algorithms: the configured list, restricted to the key types the server has
    # (no certificates here); sshd orders them by its HostKey lines.
    types = {KEY_SPECS[k][1] for k in server.keys}
    if name == "certificate":
        types.add("ssh-ed25519-cert-v01@openssh.com")
    usable = {a for a in server.offered["hostkeyalgorithms"].split(",")
              if ("ssh-rsa" if a in ("rsa-sha2-256", "rsa-sha2-512", "ssh-rsa") else a)
              in types}
    assert sorted(details["host_key_algorithms"]) == sorted(usable)


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_host_keys_equal_generated(servers: dict[str, Server], name: str) -> None:
    server = servers[name]
    endpoint, key_assets, _ = _scan(server)
    details = endpoint.details
    expected = {(KEY_SPECS[k][1], KEY_SPECS[k][2], _fingerprint(p))
                for k, p in server.keys.items()}
    if server.name == "pq-only":
        # Only a post-quantum hybrid is offered, which this client does not speak: the
        # lists are still read, and the missing host keys are said, not invented.
        assert details["host_keys"] == []
        assert any("no key exchange method in common" in e for e in details["probe_errors"])
        return
    seen = {(k["type"], k["size"], k["fingerprint"]) for k in details["host_keys"]}
    if name == "certificate":
        # The certificate is its own host key algorithm; its key is the Ed25519 key.
        cert = next(k for k in details["host_keys"]
                    if k["algorithm"] == "ssh-ed25519-cert-v01@openssh.com")
        assert cert["key_algorithm"] == "Ed25519"
        assert server.certificate is not None
        assert cert["fingerprint"] == _certificate_fingerprint(server.certificate)
        seen.discard((cert["type"], cert["size"], cert["fingerprint"]))
        key_assets = [a for a in key_assets if a.comment != cert["type"]]
    assert seen == expected
    assert {k["algorithm"] for k in details["host_keys"]} == set(details["host_key_algorithms"])
    assert {(a.comment, a.key_size) for a in key_assets} == {(t, s) for t, s, _ in expected}
    assert all(a.location.port == server.port and a.format == "ssh-host-key"
               for a in key_assets)
    host_key_usages = [u for u in usages_of(endpoint) if u.context == "ssh.host-key"]
    for usage in host_key_usages:
        if usage.algorithm.startswith(("rsa-sha2", "ssh-rsa")):
            assert usage.key_size == next(s for t, s, _ in expected if t == "ssh-rsa")


def test_gex_modulus_sizes(servers: dict[str, Server]) -> None:
    server = servers["gex-only"]
    endpoint, _, _ = _scan(server)
    sizes = endpoint.details["gex_modulus_sizes"]
    # The moduli file has 3072- and 6144-bit primes; a request no prime fits falls back to
    # OpenSSH's built-in groups 14/16/18 (2048/4096/8192); below 2048 is refused.
    assert {3072, 6144} <= set(sizes)
    assert set(sizes) <= {2048, 3072, 4096, 6144, 8192}
    assert min(sizes) >= 2048
    gex = [u for u in usages_of(endpoint) if u.context == "ssh.gex-modulus"]
    assert sorted(u.key_size for u in gex) == sizes  # type: ignore[type-var]


def test_legacy_server_judged_disallowed(servers: dict[str, Server]) -> None:
    server = servers["legacy"]
    result = CliRunner().invoke(main, ["ssh", f"127.0.0.1:{server.port}", "--policy",
                                       "ssh-hardening", "--format", "json", "--no-gex"])
    assert result.exit_code == 1, result.output
    assert "diffie-hellman-group1-sha1" in result.output


def test_unreachable_and_bad_targets_are_errors() -> None:
    port = free_port()
    items = list(iter_ssh_items([f"127.0.0.1:{port}", "127.0.0.1:notaport", "10.0.0.0/33"],
                                SshOptions(timeout=2)))
    assert all(isinstance(i, RunError) for i in items)
    assert sorted(i.reason for i in items if isinstance(i, RunError)) == [
        "bad-target", "bad-target", "connection-refused"]


def test_not_ssh_is_an_error() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        items: list[object] = []

        import threading

        def serve() -> None:
            conn, _ = listener.accept()
            conn.sendall(b"HTTP/1.0 400 Bad Request\r\n\r\n")
            # Half-close and take the client's banner first: closing with unread data would
            # reset the connection and lose the reply before the client reads it.
            conn.shutdown(socket.SHUT_WR)
            conn.recv(1024)
            conn.close()

        thread = threading.Thread(target=serve)
        thread.start()
        items = list(iter_ssh_items([f"127.0.0.1:{port}"], SshOptions(timeout=3)))
        thread.join()
    assert [(type(i).__name__, getattr(i, "reason", None)) for i in items] == [
        ("RunError", "no-banner")]


def test_per_host_limit_and_connection_count(servers: dict[str, Server],
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """Three host key types and GEX probes, one connection at a time to the host: never
    two open at once (counted where the scanner opens and closes them; a relay in front of
    sshd sees closes late), and each probe is one connection (counted by the relay)."""
    from cryptocheck.sources.ssh import wire

    state = {"open": 0, "most": 0}
    real_open, real_close = wire.Connection.open, wire.Connection.close

    async def counting_open(host: str, port: int) -> wire.Connection:
        conn = await real_open(host, port)
        state["open"] += 1
        state["most"] = max(state["most"], state["open"])
        return conn

    async def counting_close(self: wire.Connection) -> None:
        state["open"] -= 1
        await real_close(self)

    monkeypatch.setattr(wire.Connection, "open", staticmethod(counting_open))
    monkeypatch.setattr(wire.Connection, "close", counting_close)
    with concurrency_relay(servers["default"].port) as proxy:
        options = SshOptions(per_host=1, timeout=10, gex_sizes=(2048, 3072))
        items = list(iter_ssh_items([f"127.0.0.1:{proxy.port}"], options))
    endpoint = next(i for i in items if isinstance(i, EndpointAsset))
    assert len({k["fingerprint"] for k in endpoint.details["host_keys"]}) == 3
    assert state["most"] == 1 and state["open"] == 0
    # 1 (lists + first key) + 2 (other key types) + 2 (GEX sizes)
    assert proxy.total == 5


def test_each_probe_opens_its_connections_within_its_budget(servers: dict[str, Server]
                                                          ) -> None:
    """The SSH checks are probe records run by the probe scheduler: the KEXINIT (and first
    key) in one connection, one per other key type, one per GEX size; each within the budget
    its record gives for this server and these options."""
    import asyncio

    from cryptocheck.sources.probe import plan
    from cryptocheck.sources.ssh.probes import PROBES
    from cryptocheck.sources.ssh.scan import _Scanner, _Target

    assert [p.name for p in plan(PROBES, "full")] == ["kexinit", "host-keys", "gex"]
    scanner = _Scanner(SshOptions(timeout=10, gex_sizes=(2048, 3072)))
    items = asyncio.run(scanner.scan_bounded(_Target("x", "127.0.0.1",
                                                     servers["default"].port)))
    assert isinstance(items[0], EndpointAsset), items
    assert scanner.per_probe == {"kexinit": 1, "host-keys": 2, "gex": 2}
    assert sum(scanner.per_probe.values()) == scanner.connections


def test_target_timeout_is_one_error() -> None:
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        port = silent.getsockname()[1]
        items = list(iter_ssh_items([f"127.0.0.1:{port}"],
                                    SshOptions(timeout=30, target_timeout=0.5)))
    assert [(type(i).__name__, getattr(i, "reason", None)) for i in items] == [
        ("RunError", "timeout")]


def test_rate_spaces_connection_starts() -> None:
    """The pacing schedule (not wall time): each new connection to a host is 1/rate later."""
    import asyncio

    from cryptocheck.sources.ssh.scan import _Scanner

    async def schedule() -> list[float]:
        scanner = _Scanner(SshOptions(rate=20.0))
        marks = []
        for _ in range(4):
            await scanner._pace("h")
            marks.append(scanner.next_start["h"])
        return marks

    marks = asyncio.run(schedule())
    assert all(later - earlier >= 1 / 20 - 1e-9 for earlier, later in itertools.pairwise(marks))


def test_cli_reads_sshd_config_with_lines(tmp_path: Path) -> None:
    config = tmp_path / "sshd_config"
    config.write_text("Ciphers aes128-cbc,aes256-gcm@openssh.com\nKexAlgorithms "
                      "+diffie-hellman-group1-sha1\n")
    result = CliRunner().invoke(main, ["ssh", "--sshd-config", str(config), "--policy",
                                       "ssh-hardening", "--format", "json"])
    assert result.exit_code == 1, result.output
    report = json.loads(result.stdout)
    lines = {(f["usage"]["algorithm"], f["location"].get("line")) for f in report["findings"]}
    assert ("diffie-hellman-group1-sha1", 2) in lines
    assert ("aes128-cbc", 1) in lines


def test_json_report_of_a_scan_validates_and_keeps_no_secrets(servers: dict[str, Server]
                                                              ) -> None:
    from jsonschema import Draft202012Validator, FormatChecker

    from cryptocheck.report.wire import report_schema

    server = servers["default"]
    result = CliRunner().invoke(main, ["ssh", f"127.0.0.1:{server.port}", "--format", "json",
                                       "--policy", "ssh-hardening"])
    document = json.loads(result.stdout)
    validator = Draft202012Validator(report_schema(), format_checker=FormatChecker())
    assert [e.message for e in validator.iter_errors(document)] == []
    types = {a["type"] for a in document["assets"]}
    assert types == {"ssh-endpoint", "public-key"}
    for key in server.keys.values():
        private = key.read_text()
        body = "".join(private.splitlines()[1:-1])
        assert body[:40] not in result.stdout


def test_host_keys_agree_with_ssh_keyscan_through_the_key_files_path(
        servers: dict[str, Server], tmp_path: Path) -> None:
    """ssh-keyscan's known_hosts of the same server, read by ``cryptocheck certs`` (the
    core's key code), gives the same keys (SPKI SHA-256, algorithm, size) as the wire."""
    if shutil.which("ssh-keyscan") is None:
        pytest.fail("ssh-keyscan missing (installed with the OpenSSH client)")
    server = servers["default"]
    scanned = subprocess.run(["ssh-keyscan", "-p", str(server.port), "127.0.0.1"],
                             capture_output=True, text=True, check=True).stdout
    known_hosts = tmp_path / "known_hosts"
    known_hosts.write_text(scanned)
    result = CliRunner().invoke(main, ["certs", str(known_hosts), "--format", "json"])
    from_file = {(a["key_algorithm"], a["key_size"], a["spki_sha256"])
                 for a in json.loads(result.stdout)["assets"]}
    _, wire_keys, _ = _scan(server)
    from_wire = {(k.key_algorithm, k.key_size, k.spki_sha256) for k in wire_keys}
    assert from_file == from_wire
    assert len(from_wire) == 3
