"""``cryptocheck ssh``: audit SSH servers (and sshd_config / ssh_config files) against a policy."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from cryptocheck.cli.common import CommonOptions, parse_ports, run_and_exit, scan_options
from cryptocheck.sources.config.sshd_defaults import DEFAULT_VERSION, covered_versions
from cryptocheck.sources.ssh.scan import SshOptions


@click.command("ssh")
@click.argument("targets", nargs=-1)
@click.option("--targets-file", type=click.Path(dir_okay=False, exists=True),
              help="Read targets (host, host:port, [v6]:port, CIDR) one per line.")
@click.option("--ports", default="22", show_default=True,
              help="Ports for targets given without one (and for CIDR blocks): 22,2222,8000-8010.")
@click.option("--timeout", type=float, default=10.0, show_default=True,
              help="Seconds for each connection step.")
@click.option("--concurrency", type=click.IntRange(1, 1024), default=32, show_default=True,
              help="Targets scanned at once.")
@click.option("--per-host", type=click.IntRange(1, 16), default=2, show_default=True,
              help="Connections to one host at once.")
@click.option("--rate", type=click.FloatRange(min=0.01), default=None,
              help="New connections per second to one host [default: no limit].")
@click.option("--target-timeout", type=float, default=120.0, show_default=True,
              help="Seconds for everything one target needs.")
@click.option("--host-keys/--no-host-keys", default=True, show_default=True,
              help="Fetch every host key the server offers (one key exchange per key type).")
@click.option("--gex/--no-gex", default=True, show_default=True,
              help="Probe Diffie-Hellman group-exchange modulus sizes.")
@click.option("--sshd-config", "sshd_configs", multiple=True,
              type=click.Path(dir_okay=False), help="Also judge this sshd_config (repeatable).")
@click.option("--ssh-config", "ssh_configs", multiple=True,
              type=click.Path(dir_okay=False), help="Also judge this ssh_config (repeatable).")
@click.option("--openssh-version", default=DEFAULT_VERSION, show_default=True,
              help="OpenSSH version whose defaults fill absent configuration settings "
                   f"(tables: {', '.join(covered_versions())}).")
@scan_options
def ssh(targets: tuple[str, ...], targets_file: str | None, ports: str, timeout: float,
        concurrency: int, per_host: int, rate: float | None, target_timeout: float,
        host_keys: bool, gex: bool,
        sshd_configs: tuple[str, ...], ssh_configs: tuple[str, ...], openssh_version: str,
        common: CommonOptions) -> Any:
    """Audit SSH servers: key exchange, host key, cipher, MAC and compression lists, every
    host key and its size, group-exchange moduli; and sshd_config / ssh_config files."""
    all_targets = list(targets)
    if targets_file:
        all_targets += [line.strip() for line in
                        Path(targets_file).read_text("utf-8").splitlines()
                        if line.strip() and not line.lstrip().startswith("#")]
    if not all_targets and not sshd_configs and not ssh_configs:
        raise click.UsageError("give at least one target, --targets-file or a config file")
    options = SshOptions(ports=parse_ports(ports), timeout=timeout, concurrency=concurrency,
                         per_host=per_host, rate=rate, target_timeout=target_timeout,
                         host_keys=host_keys, gex=gex, sshd_configs=sshd_configs,
                         ssh_configs=ssh_configs, openssh_version=openssh_version)
    # The configuration files are part of the run's scope (the report's targets); the
    # source's stream reads them and connects to the rest.
    run_and_exit(common, "ssh", [*all_targets, *sshd_configs, *ssh_configs], options)
