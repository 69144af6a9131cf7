"""``cryptocheck report``: render a saved JSON report again, sign, verify and compare reports.

::

    cryptocheck report scan.json --format html --output scan.html
    cryptocheck report scan.json --output html=r.html --output cbom=r.cdx.json --sign key.pem
    cryptocheck report keygen signing.key            # writes signing.key and signing.key.pub
    cryptocheck report verify scan.json --signature scan.json.sig --public-key signing.key.pub
    cryptocheck report diff monday.json friday.json --format html --output diff.html

Rendering decides nothing: the statuses are the saved report's. Exit codes: 0 done (for
``verify``: the evidence verifies); 1 ``verify`` found a mismatch, or ``diff --fail-on-new``
found new findings; 2 bad usage or a file that cannot be read.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import click

from cryptocheck.cli.common import (
    EXIT_FINDINGS,
    EXIT_USAGE,
    STATUS_NAMES,
    Outputs,
    output_options,
    planned_outputs,
    resolve_outputs,
)
from cryptocheck.model import Status
from cryptocheck.report import ReportOptions, replay
from cryptocheck.report.diff import DIFF_FORMATS, diff_reports, render_diff
from cryptocheck.report.load import ReportLoadError, load_report
from cryptocheck.report.sign import SignError, VerificationError, generate_keypair, verify


def _fail(message: str, code: int = EXIT_USAGE) -> None:
    click.echo(f"cryptocheck: {message}", err=True)
    sys.exit(code)


class _ReportGroup(click.Group):
    """``report FILE ...`` renders; ``report verify|keygen|diff ...`` are subcommands."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ctx.help_option_names:
            args = ["render", *args]
        return super().parse_args(ctx, args)


@click.group(cls=_ReportGroup, context_settings={"help_option_names": ["-h", "--help"]})
def report() -> None:
    """Render a saved JSON report (cryptocheck report INPUT.json --format FORMAT), or sign,
    verify and compare reports (keygen, verify, diff)."""


def _render_options(func: Any) -> Any:
    for option in reversed([
        *output_options(),
        click.option("--fail-on", type=click.Choice(STATUS_NAMES), default="disallowed",
                     show_default=True, help="Threshold for the verdict (html, junit, markdown)."),
        click.option("--show-approved", is_flag=True, help="List approved findings in text."),
        click.option("--color/--no-color", default=None, help="Colour text output."),
    ]):
        func = option(func)
    return func


@report.command("render", hidden=True)
@click.argument("input_path", metavar="INPUT.json", type=click.Path(dir_okay=False))
@_render_options
def render(input_path: str, fmt: str | None, output: tuple[str, ...], sign_key: str | None,
           signature: str | None, csv_assets: bool, fail_on: str, show_approved: bool,
           color: bool | None) -> None:
    """Render INPUT.json (a report saved with --format json) in any format."""
    try:
        saved = load_report(input_path)
    except ReportLoadError as exc:
        _fail(str(exc))
        return
    fmt_name, plain, named, given = resolve_outputs(fmt, output)
    plan = planned_outputs(fmt_name, plain, named, given)
    options = ReportOptions(show_approved=show_approved, fail_on=Status(fail_on),
                            csv_assets=csv_assets)
    outputs = Outputs(plan, options, color, sign_key, signature)
    try:
        for reporter in outputs.reporters:
            replay(saved, reporter)
    finally:
        outputs.close()
    signed = outputs.sign(saved)
    if signed is not None:
        click.echo(f"cryptocheck: signed: {signed}", err=True)


@report.command("verify")
@click.argument("report_path", metavar="REPORT", type=click.Path(dir_okay=False))
@click.option("--signature", "signature_path", required=True, type=click.Path(dir_okay=False),
              help="The signature file written by --sign.")
@click.option("--public-key", "public_key", required=True, type=click.Path(dir_okay=False),
              help="The signer's public key (PEM or DER).")
def verify_command(report_path: str, signature_path: str, public_key: str) -> None:
    """Check that REPORT and every output listed in the signature are as they were signed."""
    try:
        result = verify(report_path, signature_path, public_key)
    except SignError as exc:
        _fail(str(exc))
        return
    except VerificationError as exc:
        _fail(str(exc), EXIT_FINDINGS)
        return
    click.echo(f"verified: {report_path} and {len(result.outputs)} output(s) signed with "
               f"{result.algorithm} key {result.key_id}")
    for path in result.outputs:
        click.echo(f"  ok {path}")


@report.command("keygen")
@click.argument("private_key", metavar="PRIVATE_KEY", type=click.Path(dir_okay=False))
@click.option("--public-key", metavar="FILE", type=click.Path(dir_okay=False),
              help="Where to write the public key [default: PRIVATE_KEY.pub].")
@click.option("--algorithm", type=click.Choice(["ed25519", "ecdsa-p256"]), default="ed25519",
              show_default=True)
def keygen(private_key: str, public_key: str | None, algorithm: str) -> None:
    """Make a signing key pair: PRIVATE_KEY (PKCS#8 PEM, mode 600) and its public key."""
    public_path = Path(public_key or private_key + ".pub")
    private_path = Path(private_key)
    for path in (private_path, public_path):
        if path.exists():
            _fail(f"{path} exists: not overwriting a key")
    private_pem, public_pem = generate_keypair("ecdsa-p256" if algorithm == "ecdsa-p256"
                                               else "ed25519")
    try:
        fd = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(private_pem)
        public_path.write_bytes(public_pem)
    except OSError as exc:
        _fail(f"cannot write key: {exc.strerror}")
    click.echo(f"wrote {private_path} (private, keep it secret) and {public_path} (public)")


@report.command("diff")
@click.argument("old_path", metavar="OLD.json", type=click.Path(dir_okay=False))
@click.argument("new_path", metavar="NEW.json", type=click.Path(dir_okay=False))
@click.option("--format", "fmt", type=click.Choice(DIFF_FORMATS), default="text",
              show_default=True)
@click.option("--output", "-o", metavar="FILE", help="Write here [default: standard output].")
@click.option("--fail-on-new", is_flag=True, help="Exit 1 when the new report has new findings.")
def diff_command(old_path: str, new_path: str, fmt: str, output: str | None,
                 fail_on_new: bool) -> None:
    """List the findings (not approved) that are new in NEW.json, fixed since OLD.json, and
    unchanged, matched by stable fingerprints."""
    try:
        old, new = load_report(old_path), load_report(new_path)
    except ReportLoadError as exc:
        _fail(str(exc))
        return
    result = diff_reports(old, new)
    text = render_diff(result, fmt)
    if output in (None, "-"):
        click.echo(text, nl=False)
    else:
        try:
            Path(output).write_text(text, encoding="utf-8")
        except OSError as exc:
            _fail(f"cannot write {output}: {exc.strerror}")
    if fail_on_new and result.added:
        sys.exit(EXIT_FINDINGS)
