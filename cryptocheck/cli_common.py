"""What every scanning command shares: the common options and the run that ends in an exit code.

``certs``, ``config``, ``tls`` and ``ssh`` differ only in where their assets come from; each
decorates itself with :func:`scan_options` and ends with :func:`run_and_exit`, so that
``--policy``, ``--as-of``, ``--format``, ``--output``, ``--fail-on`` and ``--waivers`` mean the
same everywhere, and the exit codes are the ones DESIGN.md fixes:

  0  nothing at or above --fail-on (waived findings do not count)
  1  findings at or above --fail-on
  2  bad usage, a policy or waiver file with an error, or no input could be read
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, NoReturn, TextIO

import click

from .model import Asset, Finding, Report, RunError, Status
from .policy import PolicyError, load_policy, load_waivers
from .report import FORMATS, ReportOptions, RunHeader, make_reporter
from .run import failing, scan
from .sources import SourceOptions, SourceStats

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2
STATUS_NAMES = [s.value for s in Status if s is not Status.APPROVED]


@dataclass(frozen=True)
class CommonOptions:
    """The options every scanning command takes, as given on the command line."""

    policy_name: str | None
    as_of: str | None
    fmt: str
    output: str | None
    fail_on: str
    waiver_file: str | None
    show_approved: bool
    color: bool | None

    def day(self) -> date:
        """The as-of date (today, UTC, unless --as-of)."""
        if not self.as_of:
            return datetime.now(UTC).date()
        try:
            return date.fromisoformat(self.as_of)
        except ValueError:
            raise click.BadParameter(f"{self.as_of!r} is not a date (YYYY-MM-DD)",
                                     param_hint="--as-of")


_COMMON_NAMES = ("policy_name", "as_of", "fmt", "output", "fail_on", "waiver_file",
                 "show_approved", "color")


def scan_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """Add the common options to a click command; it receives them as ``common``."""
    options = [
        click.option("--policy", "policy_name", metavar="ID|FILE",
                     help="Policy id or file [default: nhs-acagpg]."),
        click.option("--as-of", "as_of", metavar="DATE",
                     help="Judge as of this date (YYYY-MM-DD) [default: today]."),
        click.option("--format", "fmt", type=click.Choice(FORMATS), default="text",
                     show_default=True),
        click.option("--output", "-o", metavar="FILE",
                     help="Write the report here [default: standard output]."),
        click.option("--fail-on", type=click.Choice(STATUS_NAMES), default="disallowed",
                     show_default=True,
                     help="Exit 1 when a finding not waived is at or worse than this status "
                          "(approved < legacy < deprecated < unknown < disallowed)."),
        click.option("--waivers", "waiver_file", metavar="FILE",
                     type=click.Path(dir_okay=False),
                     help="Waiver file (TOML) of accepted exceptions with owner and expiry."),
        click.option("--show-approved", is_flag=True,
                     help="List approved findings in text output too."),
        click.option("--color/--no-color", default=None,
                     help="Colour text output [default: on a terminal, unless NO_COLOR]."),
    ]

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        common = CommonOptions(**{name: kwargs.pop(name) for name in _COMMON_NAMES})
        return func(*args, common=common, **kwargs)

    decorated: Callable[..., Any] = wrapper
    for option in reversed(options):
        decorated = option(decorated)
    return decorated


def _open_output(output: str | None) -> tuple[TextIO, bool]:
    if output in (None, "-"):
        return sys.stdout, False
    try:
        return open(output, "w", encoding="utf-8", newline="\n"), True
    except OSError as exc:
        raise click.BadParameter(f"cannot write {output}: {exc.strerror}", param_hint="--output")


class FailCounter:
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


def fail(message: str) -> NoReturn:
    """Print ``cryptocheck: message`` to stderr and exit 2 (bad usage or bad input)."""
    click.echo(f"cryptocheck: {message}", err=True)
    sys.exit(EXIT_USAGE)


def run_and_exit(
    common: CommonOptions,
    command: str,
    targets: Sequence[str],
    *,
    items: Iterable[Asset | RunError] | None = None,
    stats: SourceStats | None = None,
    source_options: SourceOptions | None = None,
    nothing_found: str = "nothing found",
) -> NoReturn:
    """Load the policy and waivers, run :func:`cryptocheck.run.scan`, write the report and
    exit with the code DESIGN.md fixes.

    ``items`` is the command's stream of assets and errors (None: read ``targets`` as files,
    as ``certs`` does); ``nothing_found`` is said on stderr when no input was found at all.
    """
    day = common.day()
    try:
        policy = load_policy(common.policy_name)
        waivers = load_waivers(common.waiver_file) if common.waiver_file else ()
    except PolicyError as exc:
        fail(str(exc))
    stream, close = _open_output(common.output)
    use_color = common.color if common.color is not None else (
        common.fmt == "text" and not close and stream.isatty() and "NO_COLOR" not in os.environ)
    options = ReportOptions(color=bool(use_color), show_approved=common.show_approved,
                            fail_on=Status(common.fail_on))
    reporter = make_reporter(common.fmt, stream, options=options)
    verdict = FailCounter(Status(common.fail_on))
    try:
        # Only the json format needs every record at the end; the others stream.
        report = scan(targets, policy, day, waivers=waivers, source_options=source_options,
                      reporters=[reporter, verdict], command=command,
                      collect=common.fmt == "json", items=items, stats=stats)
    finally:
        if close:
            stream.close()
    summary = report.summary
    assert summary is not None
    if summary.assets == 0 and summary.errors > 0:
        fail(f"no input could be read ({summary.errors} error(s))")
    if summary.inputs == 0:
        click.echo(f"cryptocheck: {nothing_found}", err=True)
    if verdict.count:
        click.echo(f"cryptocheck: FAIL: {verdict.count} finding(s) at or above "
                   f"'{common.fail_on}'", err=True)
        sys.exit(EXIT_FINDINGS)
    sys.exit(EXIT_OK)
