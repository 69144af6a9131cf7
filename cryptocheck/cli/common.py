"""What every scanning command shares: the common options and the run that ends in an exit code.

``certs``, ``config``, ``tls`` and ``ssh`` differ only in where their assets come from; each
decorates itself with :func:`scan_options` and ends with :func:`run_and_exit`, so that
``--policy``, ``--as-of``, ``--format``, ``--output``, ``--fail-on`` and ``--waivers`` mean the
same everywhere, and the exit codes are the ones DESIGN.md fixes:

  0  nothing at or above --fail-on (waived findings do not count)
  1  findings at or above --fail-on
  2  bad usage, a policy or waiver file with an error, or no input could be read

One run can write several formats: ``--output FILE`` takes the ``--format`` one, and
``--output FMT=FILE`` (repeatable) adds any other (``--output html=r.html --output
sarif=r.sarif``). ``--sign KEYFILE`` then signs the JSON report and every file written (see
:mod:`cryptocheck.report.sign`).
"""

from __future__ import annotations

import dataclasses
import functools
import os
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TextIO

import click

from cryptocheck.model import Asset, Finding, Report, RunError, Status, Waiver
from cryptocheck.report import (
    FORMATS,
    Reporter,
    ReportOptions,
    RunHeader,
    failing_findings,
    make_reporter,
)

if TYPE_CHECKING:
    from cryptocheck.sources.files import SourceOptions, SourceStats

# The policy engine and the run are imported when a run starts, not with the options: a
# command that starts network work first (tls, ssh) loads them while servers answer.

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
    outputs: tuple[tuple[str, str], ...] = ()
    fmt_given: bool = True
    sign_key: str | None = None
    signature: str | None = None
    csv_assets: bool = False

    def day(self) -> date:
        """The as-of date (today, UTC, unless --as-of)."""
        if not self.as_of:
            return datetime.now(UTC).date()
        try:
            return date.fromisoformat(self.as_of)
        except ValueError:
            raise click.BadParameter(f"{self.as_of!r} is not a date (YYYY-MM-DD)",
                                     param_hint="--as-of")


_COMMON_NAMES = ("policy_name", "as_of", "fail_on", "waiver_file", "show_approved", "color",
                 "sign_key", "signature", "csv_assets")


def parse_outputs(values: Sequence[str]) -> tuple[str | None, tuple[tuple[str, str], ...]]:
    """Split ``--output`` values into the plain one (for ``--format``) and ``FMT=FILE`` ones.

    A value is ``FMT=FILE`` when the part before the first ``=`` names a format; anything
    else is a file name (so ``a=b.txt`` is a file when ``a`` is not a format). More than one
    plain value, or one file named twice, is a usage error.
    """
    plain: list[str] = []
    named: list[tuple[str, str]] = []
    for value in values:
        fmt, sep, path = value.partition("=")
        if sep and fmt in FORMATS:
            if not path:
                raise click.BadParameter(f"{value!r} names no file", param_hint="--output")
            named.append((fmt, path))
        else:
            plain.append(value)
    if len(plain) > 1:
        raise click.BadParameter("give one plain --output FILE (for --format); name the "
                                 "others FMT=FILE", param_hint="--output")
    files = [p for _, p in named] + [p for p in plain if p != "-"]
    if len(set(files)) != len(files):
        raise click.BadParameter("the same file is named twice", param_hint="--output")
    return (plain[0] if plain else None), tuple(named)


def output_options() -> list[Callable[[Callable[..., Any]], Callable[..., Any]]]:
    """The click options that say what to write and where (shared with ``cryptocheck
    report``): --format, --output (repeatable), --sign, --signature, --csv-assets."""
    return [
        click.option("--format", "fmt", type=click.Choice(FORMATS), default=None,
                     help="Report format [default: text]."),
        click.option("--output", "-o", "output", metavar="FILE|FMT=FILE", multiple=True,
                     help="Write the --format report to FILE [default: standard output]; "
                          "FMT=FILE (repeatable) also writes format FMT to FILE."),
        click.option("--sign", "sign_key", metavar="KEYFILE", type=click.Path(dir_okay=False),
                     help="Sign the JSON report and every output with this Ed25519 or ECDSA "
                          "P-256 private key (needs a json output file)."),
        click.option("--signature", "signature", metavar="FILE", type=click.Path(dir_okay=False),
                     help="Where --sign writes the signature [default: JSON report + .sig]."),
        click.option("--csv-assets", is_flag=True,
                     help="CSV: one row per asset rather than one per finding."),
    ]


def resolve_outputs(fmt: str | None, output_values: Sequence[str]
                    ) -> tuple[str, str | None, tuple[tuple[str, str], ...], bool]:
    """(format, plain output, FMT=FILE outputs, whether --format was given) from the raw
    options. The --format report is written unless only FMT=FILE outputs were asked for."""
    plain, named = parse_outputs(output_values)
    return fmt or "text", plain, named, fmt is not None


def scan_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """Add the common options to a click command; it receives them as ``common``."""
    options: list[Callable[[Callable[..., Any]], Callable[..., Any]]] = [
        click.option("--policy", "policy_name", metavar="ID|FILE",
                     help="Policy id or file [default: nhs-acagpg]."),
        click.option("--as-of", "as_of", metavar="DATE",
                     help="Judge as of this date (YYYY-MM-DD) [default: today]."),
        *output_options(),
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
        fmt, plain, named, given = resolve_outputs(kwargs.pop("fmt"), kwargs.pop("output"))
        common = CommonOptions(**{name: kwargs.pop(name) for name in _COMMON_NAMES},
                               fmt=fmt, output=plain, outputs=named, fmt_given=given)
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


def planned_outputs(fmt: str, output: str | None, outputs: Sequence[tuple[str, str]],
                    fmt_given: bool) -> list[tuple[str, str | None]]:
    """(format, file or None for standard output) of every report a run writes."""
    plan: list[tuple[str, str | None]] = []
    if fmt_given or output is not None or not outputs:
        plan.append((fmt, None if output in (None, "-") else output))
    plan.extend((f, None if p == "-" else p) for f, p in outputs)
    if sum(1 for _, p in plan if p is None) > 1:
        raise click.BadParameter("only one format can go to standard output",
                                 param_hint="--output")
    return plan


class Outputs:
    """The reports one run writes: a stream and a reporter per (format, file), opened
    together and closed together, and signed afterwards when ``--sign`` was given."""

    def __init__(self, plan: Sequence[tuple[str, str | None]], options: ReportOptions,
                 color: bool | None, sign_key: str | None = None,
                 signature: str | None = None) -> None:
        self.plan = list(plan)
        self.sign_key = sign_key
        self.signature = signature
        self._key: Any = None
        if signature and not sign_key:
            raise click.BadParameter("--signature names where --sign writes: give --sign KEYFILE",
                                     param_hint="--signature")
        if sign_key:
            self._prepare_signing()
        self._streams: list[tuple[TextIO, bool]] = []
        self.reporters: list[Reporter] = []
        try:
            for fmt, path in self.plan:
                stream, close = _open_output(path)
                self._streams.append((stream, close))
                use_color = color if color is not None else (
                    fmt == "text" and not close and stream.isatty()
                    and "NO_COLOR" not in os.environ)
                opts = dataclasses.replace(options, color=bool(use_color) and fmt == "text")
                self.reporters.append(make_reporter(fmt, stream, options=opts))
        except BaseException:
            self.close()
            raise

    @property
    def formats(self) -> set[str]:
        return {fmt for fmt, _ in self.plan}

    def _prepare_signing(self) -> None:
        # Checked before the run, so that a scan of thousands of hosts does not end in a
        # usage error.
        from cryptocheck.report.sign import SignError, load_private_key

        if any(path is None for _, path in self.plan):
            raise click.BadParameter("--sign needs every output written to a file",
                                     param_hint="--output")
        if not any(fmt == "json" for fmt, _ in self.plan):
            raise click.BadParameter("--sign signs the JSON report: add --output json=FILE",
                                     param_hint="--sign")
        try:
            self._key = load_private_key(str(self.sign_key))
        except SignError as exc:
            raise click.BadParameter(str(exc), param_hint="--sign") from None

    def close(self) -> None:
        """Close every file opened (standard output stays open)."""
        for stream, close in self._streams:
            if close:
                stream.close()
        self._streams = []

    def sign(self, report: Report) -> Path | None:
        """Sign the written outputs (after :meth:`close`); the signature's path, or None."""
        if self._key is None:
            return None
        from cryptocheck.report.sign import sign_outputs
        from cryptocheck.report.wire import report_to_dict

        files = [(fmt, Path(path)) for fmt, path in self.plan if path is not None]
        json_file = next(path for fmt, path in files if fmt == "json")
        target = Path(self.signature) if self.signature else json_file.with_name(
            json_file.name + ".sig")
        sign_outputs(report_to_dict(report), files, self._key, target)
        return target


class FailCounter:
    """Counts, as the run streams, the findings that fail it (run.failing's rule): the exit
    code is the CLI's decision, so it is taken here, not by a reporter."""

    def __init__(self, fail_on: Status) -> None:
        self.fail_on = fail_on
        self.count = 0

    def begin(self, header: RunHeader) -> None:
        """Nothing to do before the first item."""

    def item(self, asset: Asset, findings: Sequence[Finding]) -> None:
        self.count += len(failing_findings(findings, self.fail_on))

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
    extra_waivers: list[Waiver] | None = None,
) -> NoReturn:
    """Load the policy and waivers, run :func:`cryptocheck.run.scan`, write the report and
    exit with the code DESIGN.md fixes.

    ``items`` is the command's stream of assets and errors (None: read ``targets`` as files,
    as ``certs`` does); ``nothing_found`` is said on stderr when no input was found at all.
    ``extra_waivers`` is a list the command's stream appends to as it finds waivers (config:
    inline waiver comments, baseline entries); the file's waivers are put in front of it.
    """
    from cryptocheck.policy import PolicyError, load_policy, load_waivers
    from cryptocheck.run import scan

    day = common.day()
    try:
        policy = load_policy(common.policy_name)
        waivers = load_waivers(common.waiver_file) if common.waiver_file else ()
    except PolicyError as exc:
        fail(str(exc))
    options = ReportOptions(show_approved=common.show_approved, fail_on=Status(common.fail_on),
                            csv_assets=common.csv_assets)
    plan = planned_outputs(common.fmt, common.output, common.outputs, common.fmt_given)
    outputs = Outputs(plan, options, common.color, common.sign_key, common.signature)
    verdict = FailCounter(Status(common.fail_on))
    try:
        # Only the json format (and signing, which signs it) needs every record at the end;
        # the others stream, or keep what they need themselves.
        if extra_waivers is not None:
            extra_waivers[:0] = waivers
        report = scan(targets, policy, day,
                      waivers=extra_waivers if extra_waivers is not None else waivers,
                      source_options=source_options,
                      reporters=[*outputs.reporters, verdict], command=command,
                      collect="json" in outputs.formats, items=items, stats=stats)
    finally:
        outputs.close()
    signed = outputs.sign(report)
    if signed is not None:
        click.echo(f"cryptocheck: signed: {signed}", err=True)
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
