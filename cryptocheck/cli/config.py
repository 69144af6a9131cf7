"""``cryptocheck config PATH...``: judge the configuration in a repository, file by file.

Thin: options -> the ``config`` source (:mod:`cryptocheck.sources.config.source`) -> the
shared run (:func:`cryptocheck.cli.common.run_and_exit`). ``--write-baseline`` records today's findings
instead of judging (exit 0); ``--baseline`` waives what a baseline recorded, so only new
findings fail. Inline waiver comments and baseline entries come as waivers in the source's
stream; one that has expired, gives no reason or cannot be read fails the run (exit 1)
whatever the policy says of it (:func:`cryptocheck.cli.common.exit_code`).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import NoReturn

import click

from cryptocheck.cli.common import (
    EXIT_OK,
    CommonOptions,
    fail,
    load_waiver_file,
    run_and_exit,
    scan_options,
)
from cryptocheck.model import Asset, ConfigAsset, Finding, Report, RunError
from cryptocheck.report import RunHeader
from cryptocheck.sources.config.baseline import BaselineError, Fingerprints, baseline_document
from cryptocheck.sources.config.inline_waivers import WAIVER_KIND
from cryptocheck.sources.config.stream import ConfigOptions
from cryptocheck.sources.config.walk import GitError


def _size(text: str) -> int:
    units = {"k": 1024, "m": 1024**2, "g": 1024**3}
    text = text.strip().lower().removesuffix("b")
    try:
        if text and text[-1] in units:
            return int(float(text[:-1]) * units[text[-1]])
        return int(text)
    except ValueError:
        raise click.BadParameter(f"{text!r} is not a size (e.g. 2M, 512k)",
                                 param_hint="--max-file-size") from None


class _BaselineWriter:
    """Collects (fingerprint, finding) pairs for ``--write-baseline``, fingerprinting the
    assets in the order the stream yields them, as a later ``--baseline`` run will."""

    def __init__(self) -> None:
        self.fingerprints = Fingerprints()
        self.pairs: list[tuple[str, Finding]] = []

    def begin(self, header: RunHeader) -> None:
        """Nothing before the first item."""

    def item(self, asset: Asset, findings: Sequence[Finding]) -> None:
        # A waiver comment gone bad is not a setting: its finding is keyed by its place.
        if isinstance(asset, ConfigAsset) and asset.kind == WAIVER_KIND:
            print_ = asset.id
        else:
            print_ = self.fingerprints.add(asset)
        self.pairs.extend((print_, f) for f in findings)

    def error(self, error: RunError) -> None:
        """Errors are not baselined."""

    def end(self, report: Report) -> None:
        """Nothing after the last item."""


@click.command("config")
@click.argument("paths", nargs=-1, required=True, metavar="PATH...")
@click.option("--changed-since", metavar="REF",
              help="Only read files git says changed since REF (and untracked ones).")
@click.option("--baseline", "baseline", metavar="FILE", type=click.Path(dir_okay=False),
              help="Waive the findings recorded in this baseline: only new ones fail.")
@click.option("--write-baseline", is_flag=True,
              help="Write the findings of this run to --baseline FILE and exit 0.")
@click.option("--max-file-size", default="2M", show_default=True, metavar="SIZE",
              help="Skip files larger than this (an error for files named explicitly).")
@click.option("--no-gitignore", is_flag=True, help="Read files .gitignore excludes too.")
@click.option("--include-vendored", is_flag=True,
              help="Also read vendored trees (node_modules, vendor, .terraform...).")
@click.option("--no-inline-waivers", is_flag=True,
              help="Ignore 'cryptocheck: allow' comments.")
@click.option("--skip-unknown", is_flag=True,
              help="Skip files named explicitly that are not configuration cryptocheck reads "
                   "(for pre-commit) instead of reporting each as an error.")
@scan_options
def config(common: CommonOptions, paths: tuple[str, ...], changed_since: str | None,
           baseline: str | None, write_baseline: bool, max_file_size: str, no_gitignore: bool,
           include_vendored: bool, no_inline_waivers: bool, skip_unknown: bool) -> None:
    """Judge TLS, SSH and key settings in configuration files and infrastructure code
    (nginx, Apache httpd, HAProxy, OpenSSL, Java, Postfix, Terraform, Kubernetes,
    sshd/ssh), each finding at its file, line and column."""
    if write_baseline and not baseline:
        raise click.UsageError("--write-baseline needs --baseline FILE (where to write it)")
    # The inline waivers' date is the run's (the source binds it).
    options = ConfigOptions(
        max_file_size=_size(max_file_size), gitignore=not no_gitignore,
        vendored=include_vendored, changed_since=changed_since,
        baseline=None if write_baseline else baseline, inline_waivers=not no_inline_waivers,
        skip_unknown=skip_unknown)
    try:
        if write_baseline:
            assert baseline is not None
            _write_baseline(common, paths, options, baseline)
        run_and_exit(common, "config", paths, options)
    except GitError as exc:
        fail(f"--changed-since: {exc}")
    except BaselineError as exc:
        fail(str(exc))


def _write_baseline(common: CommonOptions, paths: Sequence[str], options: ConfigOptions,
                    target: str) -> NoReturn:
    from cryptocheck.policy import PolicyError
    from cryptocheck.run import scan

    writer = _BaselineWriter()
    # Findings a waiver already covers stay out: when the waiver expires they must fail.
    try:
        scan("config", paths, options, policy=common.policy_name, as_of=common.day(),
             waivers=load_waiver_file(common), reporters=[writer], collect=False)
    except PolicyError as exc:
        fail(str(exc))
    document = baseline_document(writer.pairs)
    try:
        with open(target, "w", encoding="utf-8", newline="\n") as f:
            json.dump(document, f, indent=1, sort_keys=True)
            f.write("\n")
    except OSError as exc:
        fail(f"cannot write {target}: {exc.strerror}")
    click.echo(f"cryptocheck: baseline of {len(document['findings'])} finding(s) written to "
               f"{target}", err=True)
    sys.exit(EXIT_OK)
