"""The ssh source's options carry the sshd_config / ssh_config files judged beside the servers:
``cryptocheck ssh`` hands them to the one run as ``SshOptions`` (it builds no stream of its
own), the library scan reads them the same way, and the service never lets a request name
them. In-process; no server (the one target given is refused by a closed port)."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, NoReturn

import pytest
from click.testing import CliRunner

from cryptocheck.cli import main
from cryptocheck.cli import ssh as ssh_cli
from cryptocheck.model import ConfigAsset, RunError
from cryptocheck.run import scan
from cryptocheck.service.config import ServeConfig
from cryptocheck.service.kinds import RequestError, validate_scan
from cryptocheck.service.security import Allowlist
from cryptocheck.sources.config.sshd_defaults import DEFAULT_VERSION
from cryptocheck.sources.files import SourceStats
from cryptocheck.sources.registry import get_source
from cryptocheck.sources.ssh import SshOptions
from cryptocheck.sources.ssh.source import hosts

FILE_OPTIONS = ("sshd_configs", "ssh_configs", "openssh_version")
SSHD_CONFIG = "Ciphers aes128-cbc,aes256-gcm@openssh.com\nKexAlgorithms +diffie-hellman-group1-sha1\n"


def test_the_config_files_are_options_of_the_source_with_defaults() -> None:
    defaults = get_source("ssh").option_defaults()
    assert {name: defaults[name] for name in FILE_OPTIONS} == {
        "sshd_configs": (), "ssh_configs": (), "openssh_version": DEFAULT_VERSION}


def test_a_service_request_cannot_name_files_on_the_server() -> None:
    assert not set(FILE_OPTIONS) & set(get_source("ssh").tunable)
    config, allow = ServeConfig(), Allowlist(["127.0.0.0/8"], [])
    accepted = validate_scan({"kind": "ssh", "targets": ["127.0.0.1:22"],
                              "options": {"gex": False}}, config, allow)
    assert accepted["options"] == {"gex": False}
    for name, value in (("sshd_configs", ["/etc/ssh/sshd_config"]),
                        ("ssh_configs", ["/etc/ssh/ssh_config"]),
                        ("openssh_version", "8.9")):
        with pytest.raises(RequestError) as refused:
            validate_scan({"kind": "ssh", "targets": ["127.0.0.1:22"],
                           "options": {name: value}}, config, allow)
        assert refused.value.code == "bad-options"
        assert name in str(refused.value)


def test_the_stream_reads_the_files_first_then_scans_the_rest(tmp_path: Path) -> None:
    config = tmp_path / "sshd_config"
    config.write_text(SSHD_CONFIG)
    missing = str(tmp_path / "absent")
    options = SshOptions(timeout=2, sshd_configs=(str(config),), ssh_configs=(missing,))
    items = list(get_source("ssh").items(["127.0.0.1:1", str(config), missing], options,
                                         SourceStats()))
    settings = [item for item in items if isinstance(item, ConfigAsset)]
    errors = [item for item in items if isinstance(item, RunError)]
    assert items[:len(settings)] == settings  # the files come first
    assert {(a.directive, a.location.line) for a in settings} >= {("Ciphers", 1),
                                                                  ("KexAlgorithms", 2)}
    assert {(e.location.path, e.location.host, e.reason) for e in errors} == {
        (missing, None, "unreadable"), (None, "127.0.0.1", "connection-refused")}


def test_the_library_scan_judges_the_files_and_names_them_in_its_scope(tmp_path: Path) -> None:
    config = tmp_path / "sshd_config"
    config.write_text(SSHD_CONFIG)
    options = SshOptions(sshd_configs=(str(config),))
    report = scan("ssh", [str(config)], options, policy="ssh-hardening")
    assert report.targets == (str(config),)
    assert not report.errors  # no host left to connect to
    lines = {(f.usage.algorithm, f.location.line) for f in report.findings}
    assert {("diffie-hellman-group1-sha1", 2), ("aes128-cbc", 1)} <= lines


def test_a_host_named_like_a_file_is_still_scanned_as_often_as_named() -> None:
    options = SshOptions(sshd_configs=("a", "b"), ssh_configs=("a",))
    assert hosts(["h1", "a", "h2", "a", "b", "a"], options) == ["h1", "h2", "a"]
    assert hosts(["h1", "h2"], SshOptions()) == ["h1", "h2"]


def test_the_command_hands_the_files_to_the_one_run(monkeypatch: pytest.MonkeyPatch,
                                                    tmp_path: Path) -> None:
    calls: list[tuple[str, list[str], Any, dict[str, Any]]] = []

    def run_and_exit(common: Any, source: str, targets: list[str], options: Any = None,
                     **rest: Any) -> NoReturn:
        calls.append((source, list(targets), options, rest))
        raise SystemExit(0)

    monkeypatch.setattr(ssh_cli, "run_and_exit", run_and_exit)
    result = CliRunner().invoke(main, ["ssh", "h1", "--sshd-config", "s1", "--ssh-config", "c1",
                                       "--ssh-config", "c2", "--openssh-version", "8.9",
                                       "--no-gex"])
    assert result.exit_code == 0, result.output
    [(source, targets, options, rest)] = calls
    assert (source, targets, rest) == ("ssh", ["h1", "s1", "c1", "c2"], {})
    assert options == dataclasses.replace(SshOptions(), gex=False, sshd_configs=("s1",),
                                          ssh_configs=("c1", "c2"), openssh_version="8.9")
