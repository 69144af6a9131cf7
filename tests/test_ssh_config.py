"""sshd_config / ssh_config: Include, Match/Host, the +, - and ^ modifiers and the defaults,
each compared with what the installed OpenSSH (Debian 12, 9.2p1) itself computes:
``sshd -T`` (``-C`` for a Match) and ``ssh -G``."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from servers.needs import declares

from cryptocheck.model import ConfigAsset, RunError
from cryptocheck.sources.config import sshd as ssh_config
from cryptocheck.sources.ssh.usages import config_usages

SSHD = "/usr/sbin/sshd"
LISTS = ("kexalgorithms", "ciphers", "macs", "hostkeyalgorithms", "pubkeyacceptedalgorithms",
         "casignaturealgorithms", "hostbasedacceptedalgorithms")

needs_openssh = pytest.mark.skipif(shutil.which(SSHD) is None or shutil.which("ssh") is None,
                                   reason="OpenSSH not installed (README set-up installs it)")


@pytest.fixture(scope="module")
@declares("tools")  # ssh-keygen
def host_key(tmp_path_factory: pytest.TempPathFactory) -> Path:
    key = tmp_path_factory.mktemp("hostkey") / "ssh_host_ed25519_key"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    return key


def _sshd_t(config: Path, connection: str | None = None) -> dict[str, str]:
    Path("/run/sshd").mkdir(parents=True, exist_ok=True)
    command = [SSHD, "-T", "-f", str(config)]
    if connection:
        command += ["-C", connection]
    out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    return dict(line.split(" ", 1) for line in out.splitlines() if " " in line)


def _ssh_g(config: Path, host: str) -> dict[str, str]:
    out = subprocess.run(["ssh", "-G", "-F", str(config), host], check=True,
                         capture_output=True, text=True, stdin=subprocess.DEVNULL).stdout
    return dict(line.split(" ", 1) for line in out.splitlines() if " " in line)


def _compare(ours: dict[str, list[str] | str], oracle: dict[str, str]) -> None:
    for key in LISTS:
        assert ",".join(ours[key]) == oracle[key], key  # type: ignore[arg-type]


def _write(tmp_path: Path, text: str, host_key: Path, name: str = "sshd_config") -> Path:
    path = tmp_path / name
    path.write_text(f"HostKey {host_key}\n{text}")
    return path


@needs_openssh
def test_defaults_equal_sshd_t(tmp_path: Path, host_key: Path) -> None:
    path = _write(tmp_path, "", host_key)
    ours = ssh_config.effective_config(str(path), path.read_text(), "sshd")
    _compare(ours, _sshd_t(path))


MODIFIER_CASES = {
    "append": "KexAlgorithms +diffie-hellman-group1-sha1,diffie-hellman-group14-sha1\n"
              "HostKeyAlgorithms +ssh-rsa\n",
    "remove": "Ciphers -*-ctr\nMACs -*-sha1*,umac-64*\nKexAlgorithms -sntrup*\n",
    "prepend": "MACs ^hmac-sha2-512-etm@openssh.com,hmac-md5\n"
               "PubkeyAcceptedAlgorithms ^ssh-rsa\n",
    "replace": "Ciphers aes256-ctr,aes128-gcm@openssh.com\n"
               "KexAlgorithms curve25519-sha256,diffie-hellman-group16-sha512\n"
               "CASignatureAlgorithms ssh-ed25519\n",
}


@needs_openssh
@pytest.mark.parametrize("case", sorted(MODIFIER_CASES))
def test_modifiers_equal_sshd_t(tmp_path: Path, host_key: Path, case: str) -> None:
    path = _write(tmp_path, MODIFIER_CASES[case], host_key)
    ours = ssh_config.effective_config(str(path), path.read_text(), "sshd")
    _compare(ours, _sshd_t(path))


def test_modifiers_expected_lists() -> None:
    """The three modifiers against a known default (independent of the oracle)."""
    default = ["a", "b-sha1", "c"]
    supported = ["a", "b-sha1", "c", "d", "e-sha1"]
    assert ssh_config.assemble_names("+d,a", default, supported) == (
        ["a", "b-sha1", "c", "d"], [])
    assert ssh_config.assemble_names("-*-sha1", default, supported) == (["a", "c"], [])
    assert ssh_config.assemble_names("^e-sha1,c", default, supported) == (
        ["e-sha1", "c", "a", "b-sha1"], [])
    assert ssh_config.assemble_names("*-sha1,zz", default, supported) == (
        ["b-sha1", "e-sha1"], ["zz"])


@needs_openssh
def test_include_first_value_wins_like_sshd(tmp_path: Path, host_key: Path) -> None:
    (tmp_path / "sshd_config.d").mkdir()
    (tmp_path / "sshd_config.d" / "10-ciphers.conf").write_text(
        "Ciphers aes256-gcm@openssh.com,aes256-ctr\n")
    (tmp_path / "sshd_config.d" / "20-kex.conf").write_text("KexAlgorithms -ecdh-sha2-*\n")
    path = _write(tmp_path, f"Include {tmp_path}/sshd_config.d/*.conf\n"
                            "Ciphers aes128-ctr\nMACs hmac-sha2-512\n", host_key)
    ours = ssh_config.effective_config(str(path), path.read_text(), "sshd")
    oracle = _sshd_t(path)
    _compare(ours, oracle)
    assert ours["ciphers"] == ["aes256-gcm@openssh.com", "aes256-ctr"]
    # Relative Include resolves against the including file's directory.
    relative = _write(tmp_path, "Include sshd_config.d/*.conf\n", host_key, "relative_config")
    assets = list(ssh_config.config_assets(str(relative), relative.read_text(), "sshd"))
    ciphers = [a for a in assets if isinstance(a, ConfigAsset) and a.directive == "Ciphers"]
    assert ciphers[0].location.path == str(tmp_path / "sshd_config.d" / "10-ciphers.conf")
    assert ciphers[0].location.line == 1


@needs_openssh
def test_match_block_like_sshd_t_c(tmp_path: Path, host_key: Path) -> None:
    path = _write(tmp_path, "PubkeyAcceptedAlgorithms -ecdsa-*\n"
                            "Match User git Address 10.0.0.0/8\n"
                            "    PubkeyAcceptedAlgorithms ssh-ed25519,rsa-sha2-512\n"
                            "Match User backup\n"
                            "    PubkeyAcceptedAlgorithms +ssh-rsa\n", host_key)
    text = path.read_text()
    for user, addr in (("git", "10.1.2.3"), ("git", "192.0.2.1"), ("backup", "192.0.2.1"),
                       ("alice", "10.0.0.1")):
        connection = {"user": user, "host": "client.example", "address": addr}
        ours = ssh_config.effective_config(str(path), text, "sshd", connection)
        oracle = _sshd_t(path, f"user={user},host=client.example,addr={addr}")
        _compare(ours, oracle)
    git = ssh_config.effective_config(str(path), text, "sshd",
                                      {"user": "git", "address": "10.9.9.9"})
    assert git["pubkeyacceptedalgorithms"] == ["ssh-ed25519", "rsa-sha2-512"]


@needs_openssh
@pytest.mark.tools
def test_ssh_config_host_blocks_like_ssh_g(tmp_path: Path) -> None:
    (tmp_path / "extra.conf").write_text("Host legacy.example\n    Ciphers +aes128-cbc\n")
    path = tmp_path / "ssh_config"
    # ssh itself resolves a relative Include against ~/.ssh, so the oracle gets a full path.
    path.write_text(f"Include {tmp_path}/extra.conf\n"
                    "Host *.internal !bastion.internal\n"
                    "    KexAlgorithms ^diffie-hellman-group14-sha1\n"
                    "    MACs -umac-*\n"
                    "Host *\n"
                    "    Ciphers -chacha20-poly1305@openssh.com\n"
                    "    HostKeyAlgorithms ssh-ed25519,rsa-sha2-*\n")
    text = path.read_text()
    for host in ("db.internal", "bastion.internal", "legacy.example", "other.example"):
        ours = ssh_config.effective_config(str(path), text, "ssh", {"host": host})
        oracle = _ssh_g(path, host)
        for key in ("kexalgorithms", "ciphers", "macs", "hostkeyalgorithms",
                    "pubkeyacceptedalgorithms", "casignaturealgorithms"):
            assert ",".join(ours[key]) == oracle[key], (host, key)  # type: ignore[arg-type]
    legacy = ssh_config.effective_config(str(path), text, "ssh", {"host": "legacy.example"})
    assert legacy["ciphers"][-1] == "aes128-cbc"


def test_config_assets_lines_scopes_defaults_and_usages(tmp_path: Path) -> None:
    path = tmp_path / "sshd_config"
    text = ("# hardened\n"
            "KexAlgorithms=+diffie-hellman-group1-sha1\n"
            "Ciphers aes256-gcm@openssh.com\n"
            "Ciphers 3des-cbc\n"
            "Compression no\n"
            "Match User legacy\n"
            "  PubkeyAcceptedAlgorithms +ssh-rsa,ssh-dss\n")
    path.write_text(text)
    items = list(ssh_config.config_assets(str(path), text, "sshd"))
    assert not [i for i in items if isinstance(i, RunError)]
    assets = [i for i in items if isinstance(i, ConfigAsset)]
    by_line = {a.location.line: a for a in assets}
    kex = by_line[2]
    assert kex.id == f"config:{path}:2:KexAlgorithms"
    assert kex.details["modifier"] == "append"
    assert kex.details["effective"][-1] == "diffie-hellman-group1-sha1"
    assert by_line[4].details["ignored"] is True
    assert by_line[7].scope == "Match User legacy"
    assert by_line[7].details["effective"][-2:] == ["ssh-rsa", "ssh-dss"]
    defaults = {a.directive for a in assets if a.details.get("default")}
    assert defaults == {"MACs", "HostKeyAlgorithms", "PubkeyAcceptedAlgorithms",
                        "CASignatureAlgorithms"}
    usages = [u for a in assets for u in config_usages(a)]
    group1 = [u for u in usages if u.algorithm == "diffie-hellman-group1-sha1"]
    assert len(group1) == 1
    assert (group1[0].key_size, group1[0].hash, group1[0].location.line) == (1024, "SHA-1", 2)
    # The ignored second Ciphers line enables nothing.
    assert not [u for u in usages if u.algorithm == "3des-cbc"]
    assert {u.algorithm for u in usages if u.context == "ssh.compression"} == {"none"}


def test_unsupported_names_are_kept_and_bad_lines_are_errors(tmp_path: Path) -> None:
    text = "Ciphers +arcfour256\n!!!\nKexAlgorithms\n"
    items = list(ssh_config.config_assets("sshd_config", text, "sshd"))
    errors = [i for i in items if isinstance(i, RunError)]
    assert [(e.reason, e.location.line) for e in errors] == [
        ("syntax-error", 2), ("syntax-error", 3)]
    ciphers = next(i for i in items if isinstance(i, ConfigAsset) and i.directive == "Ciphers")
    assert ciphers.details["unsupported"] == ["arcfour256"]
    judged = [u.algorithm for u in config_usages(ciphers)]
    assert "arcfour256" in judged


def test_include_depth_and_missing_files(tmp_path: Path) -> None:
    loop = tmp_path / "loop.conf"
    loop.write_text(f"Include {loop}\n")
    items = list(ssh_config.config_assets(str(loop), loop.read_text(), "ssh", defaults=False))
    assert [i.reason for i in items if isinstance(i, RunError)] == ["include-depth"]
    quiet = list(ssh_config.config_assets("ssh_config", "Include /nonexistent/*.conf\n", "ssh",
                                          defaults=False))
    assert quiet == []


def test_version_tables() -> None:
    assert ssh_config.covered_versions() == ("8.9", "9.2", "9.6")
    assert ssh_config.table_version("9.4") == "9.2"
    assert ssh_config.table_version("7.4") == "8.9"
    assert ssh_config.default_list("kex", "8.9")[0] == "curve25519-sha256"
    assert ssh_config.default_list("kex", "9.6")[0] == "sntrup761x25519-sha512@openssh.com"


def test_included_files_are_reported_for_the_walk(tmp_path: Path) -> None:
    (tmp_path / "sshd_config.d").mkdir()
    snippet = tmp_path / "sshd_config.d" / "10-kex.conf"
    snippet.write_text("KexAlgorithms +diffie-hellman-group1-sha1\n")
    main_file = tmp_path / "sshd_config"
    main_file.write_text("Include sshd_config.d/*.conf\n")
    included: set[str] = set()
    list(ssh_config.config_assets(str(main_file), main_file.read_text(), "sshd",
                                  included=included))
    assert included == {str(snippet.resolve())}


def test_config_walk_reads_an_included_snippet_once(tmp_path: Path) -> None:
    """``cryptocheck config`` over a directory: the snippet's finding appears once, at the
    snippet's own file and line (read through the main file's Include)."""
    from click.testing import CliRunner

    from cryptocheck.cli import main

    etc = tmp_path / "etc" / "ssh"
    (etc / "sshd_config.d").mkdir(parents=True)
    (etc / "sshd_config").write_text("Include sshd_config.d/*.conf\nCiphers aes128-ctr\n")
    (etc / "sshd_config.d" / "10-kex.conf").write_text("KexAlgorithms +diffie-hellman-group1-sha1\n")
    result = CliRunner().invoke(main, ["config", str(tmp_path), "--policy", "ssh-hardening",
                                       "--format", "json"])
    import json
    report = json.loads(result.stdout)
    hits = [f for f in report["findings"]
            if f["usage"]["algorithm"] == "diffie-hellman-group1-sha1"]
    assert len(hits) == 1
    assert hits[0]["location"]["path"].endswith("sshd_config.d/10-kex.conf")
    assert hits[0]["location"]["line"] == 1
