"""Command line: parses options, calls run.scan, picks a reporter, sets the exit code.

Exit codes (fixed; they never encode a count):
  0  nothing at or above --fail-on (waived findings do not count)
  1  findings at or above --fail-on
  2  bad usage, a policy or waiver file with an error, or no input could be read
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
from collections.abc import Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TextIO

import click

from . import __version__
from .model import Asset, Finding, Report, RunError, Status
from .policy import PolicyError, load_policy, load_waivers
from .report import FORMATS, RunHeader, make_reporter
from .run import failing, scan
from .sources import SourceOptions
from .system_store import system_store_paths

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2
STATUS_NAMES = [s.value for s in Status if s is not Status.APPROVED]


def _as_of(value: str | None) -> date:
    if not value:
        return datetime.now(UTC).date()
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date (YYYY-MM-DD)", param_hint="--as-of")


def _passwords(password_file: str | None, password_env: str) -> tuple[str, ...]:
    """Passwords come from a file or the environment, never from the command line, so that
    they stay out of shell history and process listings."""
    found: list[str] = []
    if password_file:
        try:
            text = Path(password_file).read_text("utf-8")
        except OSError as exc:
            raise click.BadParameter(f"cannot read: {exc.strerror}", param_hint="--password-file")
        found.extend(line.rstrip("\r\n") for line in text.splitlines() if line.rstrip("\r\n"))
    value = os.environ.get(password_env)
    if value:
        found.append(value)
    return tuple(found)


def _open_output(output: str | None) -> tuple[TextIO, bool]:
    if output in (None, "-"):
        return sys.stdout, False
    try:
        return open(output, "w", encoding="utf-8", newline="\n"), True
    except OSError as exc:
        raise click.BadParameter(f"cannot write {output}: {exc.strerror}", param_hint="--output")


class _FailCounter:
    """Counts, as the run streams, the findings that fail it (run.failing's rule): the exit
    code is the CLI's decision, so it is taken here, not by a reporter."""

    def __init__(self, fail_on: Status) -> None:
        self.fail_on = fail_on
        self.count = 0

    def begin(self, header: RunHeader) -> None:
        """Nothing to do before the first item."""

    def item(self, asset: Asset, findings: Sequence[Finding]) -> None:
        self.count += len(failing(findings, self.fail_on))

    def error(self, error: RunError) -> None:
        """Errors decide exit code 2 from the summary, not here."""

    def end(self, report: Report) -> None:
        """Nothing to do after the last item."""


# Commands that live in their own packages, imported only when used (so that ``certs``
# starts fast and a package not installed is simply not offered): name -> "module:attr".
LAZY_COMMANDS = {
    "config": "cryptocheck.config.cli:config",
    "tls": "cryptocheck.tls.cli:tls",
    "ssh": "cryptocheck.ssh.cli:ssh",
    "report": "cryptocheck.report.cli:report",
    "serve": "cryptocheck.serve.cli:serve",
}


def _installed(target: str) -> bool:
    """Whether the module of a ``module:attr`` target can be imported."""
    try:
        return importlib.util.find_spec(target.partition(":")[0]) is not None
    except ModuleNotFoundError:
        return False


class _LazyGroup(click.Group):
    def _lazy(self) -> dict[str, str]:
        return {name: target for name, target in LAZY_COMMANDS.items()
                if _installed(target)}

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self._lazy()})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = self._lazy().get(cmd_name)
        if target is None:
            return super().get_command(ctx, cmd_name)
        module, _, attr = target.partition(":")
        command: click.Command = getattr(importlib.import_module(module), attr)
        return command


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="cryptocheck")
def main() -> None:
    """Find the cryptography in use and judge it against an approved-algorithms policy.

    The default policy is nhs-acagpg (NHS Approved Cryptographic Algorithms Good Practice
    Guideline, following NIST SP 800-131A). Exit codes: 0 nothing at or above --fail-on,
    1 findings at or above it, 2 bad usage or no input could be read.
    """


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(allow_dash=True))
@click.option("--policy", "policy_name", metavar="ID|FILE", help="Policy id or file [default: nhs-acagpg].")
@click.option("--as-of", "as_of", metavar="DATE", help="Judge as of this date (YYYY-MM-DD) [default: today].")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True)
@click.option("--output", "-o", metavar="FILE", help="Write the report here [default: standard output].")
@click.option("--fail-on", type=click.Choice(STATUS_NAMES), default="disallowed", show_default=True,
              help="Exit 1 when a finding not waived is at or worse than this status "
                   "(approved < legacy < deprecated < unknown < disallowed).")
@click.option("--waivers", "waiver_file", metavar="FILE", type=click.Path(dir_okay=False),
              help="Waiver file (TOML) of accepted exceptions with owner and expiry.")
@click.option("--password-file", type=click.Path(dir_okay=False),
              help="File of passwords (one per line) for PKCS#12, JKS and encrypted keys.")
@click.option("--password-env", default="CRYPTOCHECK_PASSWORD", show_default=True, metavar="NAME",
              help="Environment variable holding a password to try.")
@click.option("--system-store", is_flag=True, help="Also check this machine's trusted CA certificate store.")
@click.option("--max-file-size", type=click.IntRange(min=1), default=64 * 1024 * 1024, show_default=True,
              help="Files larger than this many bytes are reported as errors, not read.")
@click.option("--show-approved", is_flag=True, help="List approved findings in text output too.")
@click.option("--color/--no-color", default=None, help="Colour text output [default: on a terminal, unless NO_COLOR].")
def certs(paths: tuple[str, ...], policy_name: str | None, as_of: str | None, fmt: str,
          output: str | None, fail_on: str, waiver_file: str | None, password_file: str | None,
          password_env: str, system_store: bool, max_file_size: int, show_approved: bool,
          color: bool | None) -> None:
    """Check certificates and keys in PATHS (files, directories, archives; - for stdin).

    Reads PEM, DER, PKCS#7, PKCS#12, JKS/JCEKS, OpenSSH keys, authorized_keys, known_hosts,
    private keys, PEM blocks embedded in text files and Kubernetes TLS Secrets, inside zip and
    tar archives too.
    """
    targets = list(paths)
    if system_store:
        targets.extend(system_store_paths())
    if not targets:
        raise click.UsageError("give at least one PATH (or --system-store)")
    day = _as_of(as_of)
    try:
        policy = load_policy(policy_name)
        waivers = load_waivers(waiver_file) if waiver_file else ()
    except PolicyError as exc:
        click.echo(f"cryptocheck: {exc}", err=True)
        sys.exit(EXIT_USAGE)
    options = SourceOptions(passwords=_passwords(password_file, password_env),
                            max_file_size=max_file_size)
    stream, close = _open_output(output)
    use_color = color if color is not None else (
        fmt == "text" and not close and stream.isatty() and "NO_COLOR" not in os.environ)
    reporter = make_reporter(fmt, stream, color=bool(use_color), show_approved=show_approved)
    verdict = _FailCounter(Status(fail_on))
    try:
        # Only the json format needs every record at the end; the others stream.
        report = scan(targets, policy, day, waivers=waivers, source_options=options,
                      reporters=[reporter, verdict], command="certs", collect=fmt == "json")
    finally:
        if close:
            stream.close()
    summary = report.summary
    assert summary is not None
    bad = verdict.count
    if summary.assets == 0 and summary.errors > 0:
        click.echo(f"cryptocheck: no input could be read ({summary.errors} error(s))", err=True)
        sys.exit(EXIT_USAGE)
    if summary.inputs == 0:
        click.echo("cryptocheck: no certificates or keys found", err=True)
    if bad:
        click.echo(f"cryptocheck: FAIL: {bad} finding(s) at or above '{fail_on}'", err=True)
        sys.exit(EXIT_FINDINGS)
    sys.exit(EXIT_OK)


from .policy_cli import policy

main.add_command(policy)
