"""The one place that composes the flow: source -> asset -> usages -> policy -> findings -> reporters.

The CLI, the library API and (later) the service all call :func:`scan`; nothing composes the
pipeline a second time.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime
from pathlib import Path

from cryptocheck import __version__
from cryptocheck.model import (
    Asset,
    CertificateAsset,
    ConfigAsset,
    Finding,
    PolicyInfo,
    Report,
    RunError,
    Status,
    Summary,
    Waiver,
)
from cryptocheck.policy import Policy, judge, load_policy
from cryptocheck.policy.engine import judge_templates
from cryptocheck.report import Reporter, RunHeader, failing_findings
from cryptocheck.sources.files import SourceOptions, SourceStats, iter_assets
from cryptocheck.sources.files.chains import build_chains
from cryptocheck.sources.files.usages import usages_of


def policy_info(policy: Policy) -> PolicyInfo:
    """The identity of a policy as reports carry it (id, version, title, content hash)."""
    return PolicyInfo(policy.id, policy.version, policy.title, policy.sha256, policy.files)


def findings_for(asset: Asset, policy: Policy, as_of: date,
                 waivers: Sequence[Waiver] = ()) -> list[Finding]:
    """Judge every usage of one asset: one finding per usage."""
    facts: dict[str, str | None] = {}
    if isinstance(asset, CertificateAsset):
        facts = {"sha256": asset.sha256, "subject": asset.subject}
    elif isinstance(asset, ConfigAsset):
        # Configuration repeats identical settings: usages made and judged once, then stamped.
        from cryptocheck.sources.config.usages import usage_templates

        templates = usage_templates(asset)
        if templates is not None:
            return judge_templates(templates, asset.id, asset.location, policy, as_of, waivers,
                                   facts)
    return [judge(usage, policy, as_of, waivers, facts) for usage in usages_of(asset)]


def scan(
    targets: Iterable[str],
    policy: Policy | str | Path | None = None,
    as_of: date | None = None,
    *,
    waivers: Sequence[Waiver] = (),
    passwords: Sequence[str] = (),
    source_options: SourceOptions | None = None,
    reporters: Sequence[Reporter] = (),
    command: str = "certs",
    collect: bool = True,
    items: Iterable[Asset | RunError] | None = None,
    stats: SourceStats | None = None,
) -> Report:
    """Read certificates and keys from ``targets`` and judge them against ``policy``.

    Why: this is the whole of a ``cryptocheck certs`` run as a function, so that scripts get
    the same answers as the CLI. Unreadable inputs become ``RunError`` records and the run
    goes on; counts add up (``summary.inputs == summary.assets + summary.errors``).

    Parameters: ``targets`` files, directories or ``-`` (standard input); ``policy`` a loaded
    policy, a shipped id or a file (default: the NHS default policy); ``as_of`` the date to
    judge at (default: today, UTC); ``waivers`` accepted exceptions; ``passwords`` tried on
    PKCS#12, JKS and encrypted keys (never written anywhere); ``reporters`` receive records
    as they are produced; ``collect=False`` keeps assets and findings out of the returned
    report (its summary, chains and errors are still complete), so that a streaming run's
    memory does not grow with its findings. ``items``, when given, replaces reading files
    from ``targets`` (which then only name what was scanned in the report): the TLS, SSH and
    configuration sources pass their stream of assets and errors here, and ``stats`` their
    counts of files read and skipped.

    >>> report = scan(["/etc/ssl/certs/ca-certificates.crt"])  # doctest: +SKIP
    >>> report.summary.worst_status  # doctest: +SKIP
    <Status.LEGACY: 'legacy'>
    """
    targets = tuple(targets)
    resolved = policy if isinstance(policy, Policy) else load_policy(policy)
    day = as_of or datetime.now(UTC).date()
    options = source_options or SourceOptions()
    if passwords:
        options = dataclasses.replace(options, passwords=tuple(passwords))
    started = datetime.now(UTC)
    info = policy_info(resolved)
    header = RunHeader(__version__, command, targets, info, day, started)
    for reporter in reporters:
        reporter.begin(header)

    stats = stats if stats is not None else SourceStats()
    tally = _Tally()
    assets: list[Asset] = []
    findings: list[Finding] = []
    errors: list[RunError] = []
    stream = items if items is not None else iter_assets(targets, options, stats)
    for item in stream:
        if isinstance(item, RunError):
            errors.append(item)
            for reporter in reporters:
                reporter.error(item)
            continue
        asset_findings = findings_for(item, resolved, day, waivers)
        tally.add(item, asset_findings)
        if collect:
            assets.append(item)
            findings.extend(asset_findings)
        for reporter in reporters:
            reporter.item(item, asset_findings)

    report = Report(
        tool_version=__version__,
        command=command,
        targets=targets,
        policy=info,
        as_of=day,
        started=started,
        finished=datetime.now(UTC),
        assets=tuple(assets),
        findings=tuple(findings),
        errors=tuple(errors),
        chains=build_chains(tally.certificates, tally.worst_by_certificate),
        summary=tally.summary(len(errors), stats),
        waivers=tuple(waivers),
    )
    for reporter in reporters:
        reporter.end(report)
    return report


_STATUS_RANK = {status: status.rank for status in Status}


class _Tally:
    """Running counts of a scan, so that the summary and chains need no list of findings.

    Keeps, per certificate, only the certificate record and its worst finding not waived
    (what a chain's weakest link needs).
    """

    def __init__(self) -> None:
        self.assets = 0
        self.by_status: Counter[Status] = Counter()
        self.waived = 0
        self.worst: Status | None = None
        self.certificates: list[CertificateAsset] = []
        self.worst_by_certificate: dict[str, list[Finding]] = {}

    def add(self, asset: Asset, findings: Sequence[Finding]) -> None:
        self.assets += 1
        self.by_status.update([finding.status for finding in findings])
        worst: Finding | None = None
        worst_rank = -1
        for finding in findings:  # the first not waived of the worst status
            if finding.waiver is not None:
                self.waived += 1
                continue
            rank = _STATUS_RANK[finding.status]
            if rank > worst_rank:
                worst, worst_rank = finding, rank
        if worst is not None and (self.worst is None or worst_rank > self.worst.rank):
            self.worst = worst.status
        if isinstance(asset, CertificateAsset):
            self.certificates.append(asset)
            self.worst_by_certificate[asset.id] = [worst] if worst else []

    def summary(self, errors: int, stats: SourceStats) -> Summary:
        return Summary(
            inputs=self.assets + errors,
            assets=self.assets,
            errors=errors,
            findings_by_status=tuple((s.value, self.by_status.get(s, 0)) for s in Status),
            waived=self.waived,
            files_read=stats.files_read,
            files_skipped=stats.files_skipped,
            worst_status=self.worst,
        )


# The findings at or worse than ``fail_on`` that no waiver covers: what fails a run.
failing = failing_findings
