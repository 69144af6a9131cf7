"""The pure evaluation engine: (usage, policy, as_of) -> verdict.

Of the rules in force on ``as_of`` whose contexts and conditions hold for a usage, the one
with the worst status decides (on a tie, the first in policy order, parents before children).
Worst-wins makes layering safe: a policy that extends another can add a stricter rule without
editing its parent, and a rule that approves never masks one that forbids. When no rule
applies the status is ``unknown`` - never a silent approval.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from cryptocheck.model import Citation, CryptoUsage, Finding, Location, Status, Waiver
from cryptocheck.policy.rules import DEFAULT_SEVERITY, Policy, Rule

UNMATCHED_RULE = "unmatched"
UNMATCHED_SUMMARY = "no rule of the policy applies"
UNMATCHED_CITATION = Citation(
    document="cryptocheck DESIGN: statuses",
    section="'unknown' for what the catalogue or the policy does not recognise (never silently approved)",
)


@dataclass(frozen=True, slots=True)
class Verdict:
    """The deciding rule's status, severity and citations (rule None: nothing applied)."""

    status: Status
    severity: str
    rule: Rule | None
    also: tuple[str, ...] = ()  # ids of other applicable rules with the same status

    @property
    def rule_id(self) -> str:
        return self.rule.id if self.rule else UNMATCHED_RULE

    @property
    def citations(self) -> tuple[Citation, ...]:
        return self.rule.citations if self.rule else (UNMATCHED_CITATION,)

    @property
    def summary(self) -> str:
        """The deciding rule's one-line summary (what a finding carries to SARIF and the
        other reporters), or :data:`UNMATCHED_SUMMARY`."""
        return self.rule.summary if self.rule else UNMATCHED_SUMMARY


def evaluate(usage: CryptoUsage, policy: Policy, as_of: date) -> Verdict:
    """Judge one usage against ``policy`` as of ``as_of``; a pure function.

    Why: the same (usage, policy, date) must always give the same verdict, so that
    ``--as-of 2031-01-01`` shows what a transition will do before it happens.

    >>> # evaluate(usage, load_policy("nist-ir8547"), date(2031, 1, 1)).status
    """
    # Being pure, verdicts are memoised per policy on what the rules can test (never the
    # asset id or location): configuration repeats the same suites thousands of times.
    key = (usage.context, usage.algorithm, usage.key_size, usage.curve, usage.hash,
           usage.strength, usage.quantum_vulnerable, usage.oid, usage.attributes, as_of)
    cache: dict[object, Verdict] | None = policy.__dict__.get("_verdicts")
    if cache is None:
        cache = {}
        object.__setattr__(policy, "_verdicts", cache)
    verdict = cache.get(key)
    if verdict is None:
        verdict = _evaluate(usage, policy, as_of)
        if len(cache) < 16384:  # bounded: certificate usages are mostly unique
            cache[key] = verdict
    return verdict


def _evaluate(usage: CryptoUsage, policy: Policy, as_of: date) -> Verdict:
    best: Rule | None = None
    ties: list[str] = []
    for rule in policy.rules_for(usage.context):
        if not rule.in_force(as_of) or not rule.conditions_hold(usage, as_of):
            continue
        if best is None or rule.status.rank > best.status.rank:
            best, ties = rule, []
        elif rule.status is best.status:
            ties.append(rule.id)
    if best is None:
        return Verdict(Status.UNKNOWN, DEFAULT_SEVERITY[Status.UNKNOWN], None)
    return Verdict(best.status, best.severity, best, tuple(ties))


def message_for(usage: CryptoUsage, verdict: Verdict) -> str:
    """One line for people: what was found and what the deciding rule says of it."""
    return f"{usage.describe()} ({usage.context}): {verdict.summary}"


def judge(usage: CryptoUsage, policy: Policy, as_of: date,
          waivers: Iterable[Waiver] = (), facts: dict[str, str | None] | None = None) -> Finding:
    """The finding for one usage: the verdict, with a waiver applied if one in force covers it.

    ``facts`` gives what waivers may match besides the rule and asset id (``sha256``, ``path``,
    ``subject`` of the asset). A matching waiver past its expiry date is not applied, and the
    finding says so in ``waiver_note``.
    """
    verdict = evaluate(usage, policy, as_of)
    applied: Waiver | None = None
    note: str | None = None
    if verdict.status is not Status.APPROVED:
        applied, note = _apply_waivers(waivers, verdict.rule_id, usage, as_of, facts or {})
    return Finding(
        asset_id=usage.asset_id,
        rule=verdict.rule_id,
        status=verdict.status,
        severity=verdict.severity,
        message=message_for(usage, verdict),
        citations=verdict.citations,
        location=usage.location,
        usage=usage,
        waiver=applied,
        waiver_note=note,
        summary=verdict.summary,
    )


def _apply_waivers(waivers: Iterable[Waiver], rule_id: str, usage: CryptoUsage, as_of: date,
                   facts: dict[str, str | None]) -> tuple[Waiver | None, str | None]:
    """The first matching waiver in force, else None and a note on a matching expired one."""
    note: str | None = None
    for waiver in waivers:
        if not waiver_matches(waiver, rule_id, usage, facts):
            continue
        if waiver.expires < as_of:
            note = f"waiver {waiver.id} (owner {waiver.owner}) expired on {waiver.expires.isoformat()}"
            continue
        return waiver, None
    return None, note


_TEMPLATE_MEMO = 65536


def judge_templates(templates: Sequence[CryptoUsage], asset_id: str, location: Location,
                    policy: Policy, as_of: date, waivers: Sequence[Waiver] = (),
                    facts: dict[str, str | None] | None = None) -> list[Finding]:
    """The findings of one asset whose usages are given without its id and location
    (``templates``: usages with an empty id and location, long-lived objects such as
    :func:`cryptocheck.sources.config.usages.usage_templates` returns): exactly the findings
    :func:`judge` gives each template stamped with ``asset_id`` and ``location``, in order.

    Why: configuration repeats the same settings in thousands of files. Each template's
    verdict, rule id, citations and message are worked out once per policy and date
    (memoised on the template object), so a finding costs only its own two records and the
    waivers that can cover this asset.
    """
    memo: dict[int, tuple[CryptoUsage, date, Verdict, str, tuple[Citation, ...], str]] | None
    memo = policy.__dict__.get("_templates")
    if memo is None:
        memo = {}
        object.__setattr__(policy, "_templates", memo)
    # A waiver naming another asset never matches: the rest are tried per finding.
    candidates = [w for w in waivers if w.asset is None or w.asset == asset_id]
    facts = facts or {}
    findings: list[Finding] = []
    append = findings.append
    approved = Status.APPROVED
    for t in templates:
        entry = memo.get(id(t))
        if entry is None or entry[0] is not t or entry[1] != as_of:
            verdict = evaluate(t, policy, as_of)
            # The entry holds the template, so its id cannot be reused while it is memoised.
            entry = (t, as_of, verdict, verdict.rule_id, verdict.citations,
                     message_for(t, verdict))
            if len(memo) < _TEMPLATE_MEMO:
                memo[id(t)] = entry
        verdict = entry[2]
        usage = CryptoUsage(asset_id, t.context, t.algorithm, location, t.key_size, t.curve,
                            t.hash, t.strength, t.quantum_vulnerable, t.oid, t.attributes)
        applied: Waiver | None = None
        note: str | None = None
        if candidates and verdict.status is not approved:
            applied, note = _apply_waivers(candidates, entry[3], usage, as_of, facts)
        append(Finding(asset_id, entry[3], verdict.status, verdict.severity, entry[5], entry[4],
                       location, usage, applied, note, verdict.summary))
    return findings


def waiver_matches(waiver: Waiver, rule_id: str, usage: CryptoUsage,
                   facts: dict[str, str | None]) -> bool:
    """All of the waiver's given selectors must hold (rule, asset id, sha256, path, subject)."""
    if waiver.rule is not None and not fnmatch.fnmatchcase(rule_id, waiver.rule):
        return False
    if waiver.asset is not None and waiver.asset != usage.asset_id:
        return False
    if waiver.sha256 is not None and waiver.sha256.lower() != (facts.get("sha256") or "").lower():
        return False
    if waiver.path is not None and not fnmatch.fnmatchcase(usage.location.path or "", waiver.path):
        return False
    return not (waiver.subject is not None and not fnmatch.fnmatchcase(facts.get("subject") or "", waiver.subject))
