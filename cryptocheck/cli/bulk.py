"""``cryptocheck certs --bulk``: the command-line side of the bulk path.

``certs`` calls :func:`wants_bulk` to decide (``--bulk`` forces it; inputs of 64 MiB or more
switch to it by themselves, since the normal path reads each file whole) and then
:func:`run_bulk`, which ends the process with the exit codes of DESIGN.md.
"""

from __future__ import annotations

import os
import sys
from typing import NoReturn, TextIO

import click

from cryptocheck.bulk.compiled import class_key_gaps, month_label
from cryptocheck.bulk.run import BulkOptions, BulkResult, bulk_scan
from cryptocheck.cli.common import CommonOptions, fail, finish
from cryptocheck.model import Status
from cryptocheck.policy import PolicyError, load_policy, load_waivers
from cryptocheck.sources.files import SourceOptions
from cryptocheck.sources.registry import get_source

AUTO_BULK_BYTES = 64 * 1024 * 1024
BULK_FORMATS = ("jsonl", "text")


def input_size(targets: list[str], stop_at: int) -> int:
    """Bytes of the files named or under the directories named, counted up to ``stop_at``."""
    total = 0
    for target in targets:
        if target == "-":
            continue
        if os.path.isdir(target):
            for dirpath, _, filenames in os.walk(target):
                for name in filenames:
                    try:
                        total += os.lstat(os.path.join(dirpath, name)).st_size
                    except OSError:
                        continue
                    if total >= stop_at:
                        return total
        else:
            try:
                total += os.stat(target).st_size
            except OSError:
                continue
        if total >= stop_at:
            return total
    return total


def wants_bulk(forced: bool, targets: list[str], fmt: str) -> bool:
    """Whether ``certs`` takes the bulk path: forced, or large inputs in a format it writes."""
    if forced:
        if fmt not in BULK_FORMATS:
            raise click.UsageError(f"--bulk writes jsonl or a text summary, not {fmt}")
        return True
    return fmt in BULK_FORMATS and input_size(targets, AUTO_BULK_BYTES) >= AUTO_BULK_BYTES


def run_bulk(common: CommonOptions, targets: list[str], source_options: SourceOptions,
             jobs: int, dedup: bool, field: str | None, progress: bool | None) -> NoReturn:
    """Run the bulk path and exit with the one exit decision
    (:func:`cryptocheck.cli.common.exit_code`): 0 nothing at or above --fail-on, 1 findings
    at or above it, 2 nothing could be read."""
    try:
        policy = load_policy(common.policy_name)
        waivers = load_waivers(common.waiver_file) if common.waiver_file else ()
    except PolicyError as exc:
        fail(str(exc))
    day = common.day()
    gaps = class_key_gaps(policy, day)
    if gaps:
        click.echo(f"cryptocheck: note: the bulk path's certificate classes do not capture "
                   f"what this policy tests ({'; '.join(gaps)}): every certificate is judged "
                   "by the normal path (same findings, slower)", err=True)
    options = BulkOptions(jobs=jobs, dedup=dedup, field=field, progress=progress,
                          source_options=source_options)
    to_file = common.output not in (None, "-")
    if common.fmt == "jsonl":
        if to_file:
            assert common.output is not None
            try:
                handle = open(common.output, "wb")  # noqa: SIM115 - closed below
            except OSError as exc:
                fail(f"cannot write {common.output}: {exc.strerror}")
            with handle:
                result = bulk_scan(targets, policy, day, handle, options, waivers)
        else:
            result = bulk_scan(targets, policy, day, sys.stdout.buffer, options, waivers)
    else:
        with open(os.devnull, "wb") as sink:
            result = bulk_scan(targets, policy, day, sink, options, waivers)
        if to_file:
            assert common.output is not None
            with open(common.output, "w", encoding="utf-8") as text_out:
                write_text_summary(result, text_out)
        else:
            write_text_summary(result, sys.stdout)
    finish(assets=result.unique + result.tally.other_assets, errors=result.errors,
           inputs=result.inputs, failing=result.failing(Status(common.fail_on)),
           fail_on=common.fail_on, nothing_found=get_source("certs").nothing_found,
           failing_noun="certificate(s) or finding(s)")


def write_text_summary(result: BulkResult, out: TextIO) -> None:
    """The bulk summary for people (the records are in ``--format jsonl``)."""
    record = result.bulk_record()
    out.write(f"cryptocheck bulk scan: {record['inputs']:,} inputs = {record['certificates']:,} "
              f"certificates + {record['duplicates']:,} duplicates + "
              f"{record['other_assets']:,} other assets + {record['errors']:,} errors "
              f"in {record['seconds']}s ({record['certificates_per_second']:,}/s, "
              f"{record['jobs']} job(s), {record['engine']} scanner)\n")
    out.write(f"policy {result.policy.id} {result.policy.version} as of {result.as_of}\n")
    waived = result.waived()
    if waived:
        out.write(f"waived findings: {waived:,} (they do not fail the run; the worst status "
                  f"no waiver covers is {getattr(result.worst_status(), 'value', 'none')})\n")
    for title, key in (("certificates by worst status", "by_status"),
                       ("by key", "by_key"), ("by signature hash", "by_signature_hash"),
                       ("errors by reason", "errors_by_reason")):
        counts = record[key]
        if counts:
            out.write(f"{title}:\n")
            out.writelines(f"  {name:<24} {count:>12,}\n" for name, count in counts.items())
    months = sorted(result.month_counts.items())
    if months:
        out.write("expiry by month (first and last 6):\n")
        shown = months if len(months) <= 12 else months[:6] + months[-6:]
        out.writelines(f"  {month_label(month):<24} {count:>12,}\n" for month, count in shown)
