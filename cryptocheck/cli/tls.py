"""``cryptocheck tls``: what TLS servers negotiate, judged against the policy."""

from __future__ import annotations

import sys
from typing import Any

import click

from cryptocheck.cli.common import CommonOptions, fail, parse_ports, run_and_exit, scan_options
from cryptocheck.sources.tls import TlsOptions
from cryptocheck.sources.tls.targets import read_targets_file


@click.command("tls")
@click.argument("targets", nargs=-1)
@click.option("--targets-file", type=click.Path(dir_okay=False, exists=True),
              help="Targets one per line (# comments allowed).")
@click.option("--sni", metavar="NAME", help="Server name to send (default: the host name).")
@click.option("--ports", default="443", show_default=True,
              help="Ports for targets without one and for CIDR ranges: 443,8443,9000-9010.")
@click.option("--mode", type=click.Choice(["full", "compliance"]), default="full",
              show_default=True,
              help="full: the whole inventory; compliance: only what the policy needs to "
                   "decide (a handful of connections per endpoint).")
@click.option("--per-host", type=click.IntRange(1, 4096), default=2, show_default=True,
              help="Connections to one address at once.")
@click.option("--global-limit", type=click.IntRange(1, 10000), default=256, show_default=True,
              help="Connections at once in all.")
@click.option("--concurrency", type=click.IntRange(1, 10000), default=64, show_default=True,
              help="Endpoints scanned at once.")
@click.option("--rate", type=click.FloatRange(min=0.01), default=None,
              help="New connections per second to one address [default: no limit].")
@click.option("--connect-timeout", type=click.FloatRange(min=0.1), default=5.0,
              show_default=True, help="Seconds to wait for a TCP connection.")
@click.option("--read-timeout", type=click.FloatRange(min=0.1), default=5.0,
              show_default=True, help="Seconds to wait for each read.")
@click.option("--retries", type=click.IntRange(0, 5), default=1, show_default=True,
              help="Retries of a failed connection.")
@click.option("--ca-file", "ca_files", multiple=True, type=click.Path(dir_okay=False),
              help="Extra trust anchors (PEM) for chain validation (repeatable).")
@click.option("--progress/--no-progress", default=None,
              help="Progress on stderr [default: when stderr is a terminal].")
@scan_options
def tls(targets: tuple[str, ...], targets_file: str | None, sni: str | None, ports: str,
        mode: str, per_host: int, global_limit: int, concurrency: int, rate: float | None,
        connect_timeout: float, read_timeout: float, retries: int,
        ca_files: tuple[str, ...], progress: bool | None, common: CommonOptions) -> Any:
    """Scan TLS endpoints: protocol versions, every cipher suite, groups (post-quantum
    hybrids too), DHE prime sizes, signature schemes and the certificate chain.

    TARGETS: host, host:port, [v6]:port, URLs (https://, smtps://, ldaps://), STARTTLS as
    smtp://, imap://, pop3://, ftp://, ldap://, xmpp://, postgres://, and CIDR ranges.
    """
    all_targets = list(targets)
    if targets_file:
        try:
            all_targets += read_targets_file(targets_file)
        except OSError as exc:
            fail(f"cannot read {targets_file}: {exc.strerror}")
    if not all_targets:
        raise click.UsageError("give at least one target or --targets-file")
    options = TlsOptions(
        mode=mode, sni=sni, ports=parse_ports(ports), per_host=per_host, global_limit=global_limit,
        concurrency=concurrency, rate=rate, connect_timeout=connect_timeout,
        read_timeout=read_timeout, retries=retries, ca_files=ca_files,
        progress=progress if progress is not None else sys.stderr.isatty())
    # The run starts the scan in its thread before it loads the policy and the reporters
    # (the tls source's stream starts at once; compliance mode loads the policy first, as
    # it needs it to choose its probes), so the servers answer while those load. Those
    # imports hold the GIL for long stretches; a short switch interval lets the scanner's
    # event loop take it back as soon as a server has answered (the default, 5 ms, is
    # longer than a probe).
    sys.setswitchinterval(min(sys.getswitchinterval(), 0.0005))
    run_and_exit(common, "tls", all_targets, options)
