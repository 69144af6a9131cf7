"""The one place that composes the flow: source -> asset -> usages -> policy -> findings -> reporters.

The command line, the service, the library API (:func:`cryptocheck.scan`) and the tests all
call :func:`scan` with a source record from :mod:`cryptocheck.sources.registry`; nothing
composes the pipeline a second time.

Light to import on purpose: the policy engine, the catalogue and the chain builder are
imported inside :func:`scan` after the source's stream has started, so that a network scan
is under way while they load.
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cryptocheck.model import (
    Asset,
    CertificateAsset,
    Finding,
    PolicyInfo,
    Report,
    RunError,
    Status,
    Summary,
    Waiver,
)
from cryptocheck.sources.files import SourceStats
from cryptocheck.sources.registry import Item, Source, Verdict, get_source, source_of
from cryptocheck.version import __version__

if TYPE_CHECKING:
    from cryptocheck.policy import Policy
    from cryptocheck.report import Reporter

#: Reporters, or a function that opens them once the stream has started.
Reporters = Sequence["Reporter"] | Callable[[], Sequence["Reporter"]]


def policy_info(policy: Policy) -> PolicyInfo:
    """The identity of a policy as reports carry it (id, version, title, content hash)."""
    return PolicyInfo(policy.id, policy.version, policy.title, policy.sha256, policy.files)


def findings_for(asset: Asset, policy: Policy, as_of: date,
                 waivers: Sequence[Waiver] = ()) -> list[Finding]:
    """Judge every usage of one asset: one finding per usage, in the usages' order.

    The asset's source (found in the registry by the asset's type) makes its usages; a
    source with usage templates (configuration repeats identical settings) has them made and
    judged once, then stamped with the asset's id and place.
    """
    from cryptocheck.policy.engine import judge, judge_templates

    facts: dict[str, str | None] = {}
    if isinstance(asset, CertificateAsset):
        facts = {"sha256": asset.sha256, "subject": asset.subject}
    source = source_of(asset)
    if source.templates is not None:
        templates = source.templates(asset)
        if templates is not None:
            return judge_templates(templates, asset.id, asset.location, policy, as_of, waivers,
                                   facts)
    return [judge(usage, policy, as_of, waivers, facts) for usage in source.usages(asset)]


def _policy_loader(policy: Policy | str | Path | None) -> Callable[[], Policy]:
    @functools.cache
    def load() -> Policy:
        from cryptocheck.policy import Policy, load_policy

        return policy if isinstance(policy, Policy) else load_policy(policy)
    return load


def bind(source: Source | str, options: Any, policy: Policy | str | Path | None | Callable[[], Policy],
         as_of: date) -> Any:
    """``options`` of ``source`` with what it needs of the run set (its record's ``bind``):
    the policy's verdict on one usage (loaded only if the source asks for it before its
    stream starts: TLS compliance mode) and the date.

    Why: the source gets a verdict, never the policy, so no source imports the engine; the
    run and the service bind through this one function.

    >>> bind("tls", TlsOptions(mode="compliance"), "mozilla-modern", date.today())  # doctest: +SKIP
    """
    record = get_source(source) if isinstance(source, str) else source
    load = policy if callable(policy) else _policy_loader(policy)

    def verdict() -> Verdict:
        from cryptocheck.policy import evaluate

        resolved = load()
        return lambda usage: evaluate(usage, resolved, as_of).status
    return record.bind(options if options is not None else record.default_options(),
                       verdict, as_of)


def scan(
    source: Source | str,
    targets: Iterable[str],
    options: Any = None,
    *,
    policy: Policy | str | Path | None = None,
    as_of: date | None = None,
    waivers: Sequence[Waiver] = (),
    reporters: Reporters = (),
    collect: bool = True,
    items: Iterable[Item] | None = None,
    stats: SourceStats | None = None,
    command: str | None = None,
) -> Report:
    """Run one source over ``targets`` and judge what it finds against ``policy``.

    Why: this is the whole of a scan as a function, so that the command line, the service
    and scripts get the same answers. Unreadable inputs become ``RunError`` records and the
    run goes on; counts add up (``summary.inputs == summary.assets + summary.errors``).
    Waivers found in the input travel in the stream, ahead of the assets they cover, and
    apply from there on like those given here.

    Parameters: ``source`` a record of :mod:`cryptocheck.sources.registry` or its name;
    ``targets`` what to read (files, directories, hosts); ``options`` an instance of the
    source's options class (default: its defaults); ``policy`` a loaded policy, a shipped id
    or a file (default: the NHS default policy); ``as_of`` the date to judge at (default:
    today, UTC); ``waivers`` accepted exceptions; ``reporters`` receive records as they are
    produced (or a function returning them, called once the stream has started);
    ``collect=False`` keeps assets and findings out of the returned report (summary, chains,
    errors and waivers stay complete) so that a streaming run's memory stays flat.
    ``items`` replaces the source's own enumeration when the caller already has the stream
    (uploaded files, relabelled paths), with ``stats`` its counters of files read and
    skipped; ``command`` names the run in the report (default: the source's name).

    Order: the source binds the policy and date it needs (TLS compliance mode loads the
    policy here), its stream starts (a network scan starts connecting), then the policy is
    loaded and the reporters opened while the servers answer.

    >>> report = scan("certs", ["/etc/ssl/certs/ca-certificates.crt"])  # doctest: +SKIP
    >>> report.summary.worst_status  # doctest: +SKIP
    <Status.LEGACY: 'legacy'>
    """
    record = get_source(source) if isinstance(source, str) else source
    targets = tuple(targets)
    day = as_of or datetime.now(UTC).date()
    load_policy = _policy_loader(policy)
    stats = stats if stats is not None else SourceStats()
    if items is None:
        bound = bind(record, options, load_policy, day)
        items = record.items(targets, bound, stats)
    stream = iter(items)

    from cryptocheck.report import RunHeader
    from cryptocheck.sources.files.chains import build_chains

    resolved = load_policy()
    opened = reporters() if callable(reporters) else reporters
    started = datetime.now(UTC)
    info = policy_info(resolved)
    name = command or record.name
    header = RunHeader(__version__, name, targets, info, day, started)
    for reporter in opened:
        reporter.begin(header)

    in_force = list(waivers)  # grows with the waivers the stream brings
    tally = _Tally()
    assets: list[Asset] = []
    findings: list[Finding] = []
    errors: list[RunError] = []
    for item in stream:
        if isinstance(item, Waiver):
            in_force.append(item)
            continue
        if isinstance(item, RunError):
            errors.append(item)
            for reporter in opened:
                reporter.error(item)
            continue
        asset_findings = findings_for(item, resolved, day, in_force)
        tally.add(item, asset_findings)
        if collect:
            assets.append(item)
            findings.extend(asset_findings)
        for reporter in opened:
            reporter.item(item, asset_findings)

    report = Report(
        tool_version=__version__,
        command=name,
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
        waivers=tuple(in_force),
    )
    for reporter in opened:
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
