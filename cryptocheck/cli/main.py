"""Command line: parses options, calls run.scan, picks a reporter, sets the exit code.

The scanning commands are the sources of :mod:`cryptocheck.sources.registry`, one command
each (``cryptocheck/cli/<source>.py`` for a source with options of its own); ``policy``,
``report`` and ``serve`` are :data:`COMMANDS`.

Exit codes (fixed; they never encode a count; decided by :func:`cryptocheck.cli.common.exit_code`):
  0  nothing at or above --fail-on (waived findings do not count)
  1  findings at or above --fail-on, or a waiver comment that cannot be applied
  2  bad usage, a policy or waiver file with an error, or no input could be read
"""

from __future__ import annotations

import atexit
import importlib
import importlib.util
import os
import sys
from typing import NoReturn

import click

from cryptocheck.cli.common import (
    EXIT_FINDINGS,
    EXIT_OK,
    EXIT_USAGE,
    CommonOptions,
    run_and_exit,
    scan_options,
)
from cryptocheck.sources.registry import Source, get_source, source_names
from cryptocheck.version import __version__

__all__ = ["COMMANDS", "EXIT_FINDINGS", "EXIT_OK", "EXIT_USAGE", "main", "run"]


# The commands that are not a source, imported only when used: name -> "module:attr".
# Every scanning command is a source of the registry (cryptocheck.sources.registry).
COMMANDS = {
    "policy": "cryptocheck.cli.policy:policy",
    "report": "cryptocheck.cli.report:report",
    "serve": "cryptocheck.cli.serve:serve",
}


def scanning_command(name: str) -> click.Command:
    """The command of source ``name``: ``cryptocheck.cli.<name>``'s command ``<name>`` when
    the source has options of its own to offer, else one made from its record (targets and
    the common options, the source's options at their defaults)."""
    module = f"cryptocheck.cli.{name}"
    if importlib.util.find_spec(module) is not None:
        command: click.Command = getattr(importlib.import_module(module), name)
        return command
    return _plain_command(get_source(name))


def _plain_command(source: Source) -> click.Command:
    @click.command(source.name, help=f"{source.help}\n\nTARGETS: what the source reads.")
    @click.argument("targets", nargs=-1, required=True)
    @scan_options
    def command(targets: tuple[str, ...], common: CommonOptions) -> None:
        run_and_exit(common, source.name, targets)
    return command


class _Commands(click.Group):
    """The commands: the registered sources, then :data:`COMMANDS`, each imported on use (so
    that ``certs`` starts without the TLS scanner or the web framework)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*source_names(), *COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in source_names():
            return scanning_command(cmd_name)
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module, _, attr = target.partition(":")
        command: click.Command = getattr(importlib.import_module(module), attr)
        return command


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="cryptocheck")
def main() -> None:
    """Find the cryptography in use and judge it against an approved-algorithms policy.

    The default policy is nhs-acagpg (NHS Approved Cryptographic Algorithms Good Practice
    Guideline, following NIST SP 800-131A). Exit codes: 0 nothing at or above --fail-on,
    1 findings at or above it, 2 bad usage or no input could be read.
    """


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
