"""``cryptocheck certs PATH...``: certificates and keys in files, directories and archives.

Thin: options -> the ``certs`` source's options -> the shared run
(:func:`cryptocheck.cli.common.run_and_exit`). Large inputs go to the bulk path
(:mod:`cryptocheck.cli.bulk`), a faster road to the same findings.
"""

from __future__ import annotations

import os
from pathlib import Path

import click

from cryptocheck.cli.common import CommonOptions, run_and_exit, scan_options
from cryptocheck.sources.files import SourceOptions


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


@click.command("certs")
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
        from cryptocheck.sources.files.system_store import system_store_paths

        targets.extend(system_store_paths())
    if not targets:
        raise click.UsageError("give at least one PATH (or --system-store)")
    options = SourceOptions(passwords=_passwords(password_file, password_env),
                            max_file_size=max_file_size)
    from cryptocheck.cli.bulk import run_bulk, wants_bulk

    if wants_bulk(bulk or field is not None, targets, common.fmt):
        run_bulk(common, targets, options, jobs, not no_dedup, field, progress)
    run_and_exit(common, "certs", targets, options)
