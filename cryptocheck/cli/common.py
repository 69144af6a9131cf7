"""What every scanning command shares: the common options and the run that ends in an exit code.

``certs``, ``config``, ``tls`` and ``ssh`` differ only in where their assets come from; each
decorates itself with :func:`scan_options` and ends with :func:`run_and_exit`, so that
``--policy``, ``--as-of``, ``--format``, ``--output``, ``--fail-on`` and ``--waivers`` mean the
same everywhere, and the exit codes are the ones DESIGN.md fixes, decided in one place
(:func:`exit_code`):

  0  nothing at or above --fail-on (waived findings do not count)
  1  findings at or above --fail-on, or a waiver in the input that cannot be applied
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
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, NoReturn, TextIO

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
from cryptocheck.sources.registry import INVALID_WAIVER

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


class RunTally:
    """Counts, as the run streams, what decides its exit code: the findings that fail it
    (:func:`~cryptocheck.report.failing_findings`) and the waivers found in the input that
    cannot be applied. A reporter only in form: it writes nothing."""

    def __init__(self, fail_on: Status) -> None:
        self.fail_on = fail_on
        self.failing = 0
        self.invalid_waivers = 0

    def begin(self, header: RunHeader) -> None:
        """Nothing to do before the first item."""

    def item(self, asset: Asset, findings: Sequence[Finding]) -> None:
        self.failing += len(failing_findings(findings, self.fail_on))
        self.invalid_waivers += sum(1 for f in findings if f.usage.context == INVALID_WAIVER)

    def error(self, error: RunError) -> None:
        """Errors count in the summary, not here."""

    def end(self, report: Report) -> None:
        """Nothing to do after the last item."""


def exit_code(*, assets: int, errors: int, failing: int, invalid_waivers: int = 0) -> int:
    """The exit code of a finished run (the one place it is decided; DESIGN.md fixes it).

    2 when nothing could be read (no asset, some error); 1 when a finding not waived is at or
    above --fail-on, or a waiver found in the input could not be applied (expired, without a
    reason, unreadable: an exception nobody renewed must fail the build whatever the policy
    says of it); else 0.
    """
    if assets == 0 and errors > 0:
        return EXIT_USAGE
    if failing or invalid_waivers:
        return EXIT_FINDINGS
    return EXIT_OK


def finish(*, assets: int, errors: int, inputs: int, failing: int, fail_on: str,
           invalid_waivers: int = 0, nothing_found: str = "nothing found",
           failing_noun: str = "finding(s)") -> NoReturn:
    """Say on stderr why the run ends as it does, and exit with :func:`exit_code`."""
    code = exit_code(assets=assets, errors=errors, failing=failing,
                     invalid_waivers=invalid_waivers)
    if code == EXIT_USAGE:
        fail(f"no input could be read ({errors} error(s))")
    if inputs == 0:
        click.echo(f"cryptocheck: {nothing_found}", err=True)
    if failing:
        click.echo(f"cryptocheck: FAIL: {failing} {failing_noun} at or above '{fail_on}'",
                   err=True)
    if invalid_waivers:
        click.echo(f"cryptocheck: FAIL: {invalid_waivers} waiver comment(s) expired, without a "
                   "reason or unreadable", err=True)
    sys.exit(code)


def fail(message: str) -> NoReturn:
    """Print ``cryptocheck: message`` to stderr and exit 2 (bad usage or bad input)."""
    click.echo(f"cryptocheck: {message}", err=True)
    sys.exit(EXIT_USAGE)


def load_waiver_file(common: CommonOptions) -> tuple[Waiver, ...]:
    """The waivers of ``--waivers FILE`` (none without it); a bad file exits 2."""
    if not common.waiver_file:
        return ()
    from cryptocheck.policy import PolicyError, load_waivers

    try:
        return tuple(load_waivers(common.waiver_file))
    except PolicyError as exc:
        fail(str(exc))


def _policy_error() -> type[Exception]:
    # Looked up only when an exception is being matched: the policy package is not imported
    # before a network scan has started.
    from cryptocheck.policy import PolicyError

    return PolicyError


def run_and_exit(
    common: CommonOptions,
    source: str,
    targets: Sequence[str],
    options: Any = None,
) -> NoReturn:
    """Run source ``source`` over ``targets`` (:func:`cryptocheck.run.scan`), write the
    reports and exit with the code :func:`exit_code` decides.

    ``options`` is an instance of the source's options class (None: its defaults): every
    command reaches its source only through the record, with no stream of its own. The
    policy is loaded and the reports opened
    after the stream has started, so that a network scan is under way meanwhile.
    """
    from cryptocheck.run import scan
    from cryptocheck.sources.registry import get_source

    record = get_source(source)
    waivers = load_waiver_file(common)
    report_options = ReportOptions(show_approved=common.show_approved,
                                   fail_on=Status(common.fail_on), csv_assets=common.csv_assets)
    plan = planned_outputs(common.fmt, common.output, common.outputs, common.fmt_given)
    tally = RunTally(Status(common.fail_on))
    opened: list[Outputs] = []

    def open_outputs() -> list[Reporter]:
        outputs = Outputs(plan, report_options, common.color, common.sign_key,
                          common.signature)
        opened.append(outputs)
        return [*outputs.reporters, tally]

    try:
        # Only the json format (and signing, which signs it) needs every record at the end;
        # the others stream, or keep what they need themselves.
        report = scan(record, targets, options, policy=common.policy_name, as_of=common.day(),
                      waivers=waivers, reporters=open_outputs,
                      collect="json" in {fmt for fmt, _ in plan})
    except _policy_error() as exc:
        fail(str(exc))
    finally:
        for outputs in opened:
            outputs.close()
    signed = opened[0].sign(report)
    if signed is not None:
        click.echo(f"cryptocheck: signed: {signed}", err=True)
    summary = report.summary
    assert summary is not None
    finish(assets=summary.assets, errors=summary.errors, inputs=summary.inputs,
           failing=tally.failing, fail_on=common.fail_on, invalid_waivers=tally.invalid_waivers,
           nothing_found=record.nothing_found)


def parse_ports(text: str) -> tuple[int, ...]:
    """``--ports``: ``443,8443,9000-9010`` as a tuple of ports (a bad list is a usage error)."""
    ports: list[int] = []
    try:
        for part in text.split(","):
            part = part.strip()
            if "-" in part:
                low, high = part.split("-", 1)
                ports.extend(range(int(low), int(high) + 1))
            elif part:
                ports.append(int(part))
    except ValueError:
        ports = []
    if not ports or not all(0 < p < 65536 for p in ports):
        raise click.BadParameter(f"{text!r} is not a port list", param_hint="--ports")
    return tuple(ports)
