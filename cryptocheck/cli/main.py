"""Command line: parses options, calls run.scan, picks a reporter, sets the exit code.

Exit codes (fixed; they never encode a count):
  0  nothing at or above --fail-on (waived findings do not count)
  1  findings at or above --fail-on
  2  bad usage, a policy or waiver file with an error, or no input could be read
"""

from __future__ import annotations

import atexit
import os
import sys
from pathlib import Path
from typing import NoReturn

import click

from cryptocheck import __version__, plugins
from cryptocheck.cli.common import (
    EXIT_FINDINGS,
    EXIT_OK,
    EXIT_USAGE,
    CommonOptions,
    run_and_exit,
    scan_options,
)
from cryptocheck.sources.files import SourceOptions
from cryptocheck.sources.files.system_store import system_store_paths

__all__ = ["EXIT_FINDINGS", "EXIT_OK", "EXIT_USAGE", "main"]

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


# Commands that live in their own packages, imported only when used (so that ``certs``
# starts fast and a package not installed is simply not offered): name -> "module:attr".
LAZY_COMMANDS = {
    "policy": "cryptocheck.cli.policy:policy",
    "config": "cryptocheck.cli.config:config",
    "tls": "cryptocheck.cli.tls:tls",
    "ssh": "cryptocheck.cli.ssh:ssh",
    "report": "cryptocheck.cli.report:report",
    "serve": "cryptocheck.cli.serve:serve",
}


class _LazyGroup(click.Group):
    def _lazy(self) -> dict[str, str]:
        return {name: target for name, target in LAZY_COMMANDS.items()
                if plugins.installed(target)}

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self._lazy()})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = self._lazy().get(cmd_name)
        if target is None:
            return super().get_command(ctx, cmd_name)
        command: click.Command = plugins.load(target)
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
@scan_options
@click.option("--password-file", type=click.Path(dir_okay=False),
              help="File of passwords (one per line) for PKCS#12, JKS and encrypted keys.")
@click.option("--password-env", default="CRYPTOCHECK_PASSWORD", show_default=True, metavar="NAME",
              help="Environment variable holding a password to try.")
@click.option("--system-store", is_flag=True, help="Also check this machine's trusted CA certificate store.")
@click.option("--max-file-size", type=click.IntRange(min=1), default=64 * 1024 * 1024, show_default=True,
              help="Files larger than this many bytes are reported as errors, not read.")
@click.option("--bulk", is_flag=True,
              help="Bulk path for millions of certificates (on by itself for inputs of 64 MiB "
                   "or more): jsonl records or a text summary. See docs/bulk.md.")
@click.option("--jobs", type=click.IntRange(min=0), default=0, metavar="N",
              help="Bulk path: processes to use [default: every core].")
@click.option("--field", metavar="NAME",
              help="Bulk path: read JSON Lines, the certificate (PEM or base64 DER) in this field.")
@click.option("--no-dedup", is_flag=True,
              help="Bulk path: report every copy of a certificate, not the first only.")
@click.option("--progress/--no-progress", default=None,
              help="Bulk path: progress on stderr [default: when stderr is a terminal].")
def certs(paths: tuple[str, ...], common: CommonOptions, password_file: str | None,
          password_env: str, system_store: bool, max_file_size: int, bulk: bool, jobs: int,
          field: str | None, no_dedup: bool, progress: bool | None) -> None:
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
    options = SourceOptions(passwords=_passwords(password_file, password_env),
                            max_file_size=max_file_size)
    from cryptocheck.cli.bulk import run_bulk, wants_bulk

    if wants_bulk(bulk or field is not None, targets, common.fmt):
        run_bulk(common, targets, options, jobs, not no_dedup, field, progress)
    run_and_exit(common, "certs", targets, source_options=options,
                 nothing_found="no certificates or keys found")


def run() -> NoReturn:
    """The program's entry point (``cryptocheck``, ``python -m cryptocheck``): :data:`main`,
    then the process ends at once with its exit code.

    Why: once the reports are written, closed and the standard streams flushed, nothing is
    left to do but the interpreter's teardown (a few hundred modules, the scanner's thread
    pools), which cost a ``tls`` or ``ssh`` run 40-100 ms on top of a 0.25 s scan. The exit
    handlers (``atexit``) still run. Inside another program (tests, CliRunner) ``main`` is
    called directly and exits as usual.
    """
    try:
        main(prog_name="cryptocheck")
        code: object = 0
    except SystemExit as done:
        code = done.code
    if code is None:
        code = 0
    elif not isinstance(code, int):
        print(code, file=sys.stderr)
        code = 1
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass  # a closed pipe: nothing more can be said on it
    atexit._run_exitfuncs()
    os._exit(code)
