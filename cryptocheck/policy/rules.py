"""Policy records: a policy is an ordered tuple of complete rules, each with its citation."""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from cryptocheck.model import Citation, CryptoUsage, Status
from cryptocheck.sources.files.validity import days_to_expiry, expired, not_yet_valid

# Fields of a usage a rule may match on, and the computed, date-relative ones.
USAGE_FIELDS = ("algorithm", "key_size", "curve", "hash", "strength", "quantum_vulnerable", "oid")
ATTRIBUTE_FIELDS = (
    "is_ca", "self_signed", "lifetime_days", "not_before", "not_after", "encrypted", "format",
    "protection",
    # TLS and SSH usages (docs/contexts.md): the parts a cipher suite or SSH algorithm
    # decomposes into, and where it was offered.
    "protocol", "kx", "au", "cipher", "mode", "mac", "aead", "export", "group", "direction",
    "service", "kind",
)
COMPUTED_FIELDS = ("expired", "not_yet_valid", "days_to_expiry")
MATCH_FIELDS = USAGE_FIELDS + ATTRIBUTE_FIELDS + COMPUTED_FIELDS
OPERATORS = ("eq", "ne", "lt", "le", "gt", "ge", "in", "not_in", "multiple_of",
             "not_multiple_of", "present")

DEFAULT_SEVERITY = {
    Status.APPROVED: "none",
    Status.LEGACY: "low",
    Status.DEPRECATED: "medium",
    Status.UNKNOWN: "medium",
    Status.DISALLOWED: "high",
}


@dataclass(frozen=True, slots=True)
class Condition:
    """One field test: ``field op value``. A missing (None) field fails every test but
    ``present = false``: what cannot be determined is never taken to satisfy a rule."""

    field: str
    op: str
    value: Any

    def holds(self, actual: Any) -> bool:
        if self.op == "present":
            return (actual is not None) == bool(self.value)
        if actual is None:
            return False
        if isinstance(actual, datetime) and isinstance(self.value, date) and not isinstance(
                self.value, datetime):
            actual = actual.date()
        value = self.value
        op = self.op
        if op == "eq":
            return bool(actual == value)
        if op == "ne":
            return bool(actual != value)
        if op == "in":
            return actual in value
        if op == "not_in":
            return actual not in value
        if op == "multiple_of":
            return isinstance(actual, int) and actual % value == 0
        if op == "not_multiple_of":
            return isinstance(actual, int) and actual % value != 0
        try:
            if op == "lt":
                return bool(actual < value)
            if op == "le":
                return bool(actual <= value)
            if op == "gt":
                return bool(actual > value)
            if op == "ge":
                return bool(actual >= value)
        except TypeError:
            return False
        raise ValueError(f"unknown operator {op!r}")


@dataclass(frozen=True, slots=True)
class Rule:
    """A complete policy rule (see docs/policy-format.md)."""

    id: str
    summary: str
    status: Status
    severity: str
    contexts: tuple[str, ...]
    conditions: tuple[Condition, ...]
    citations: tuple[Citation, ...]
    effective_from: date | None = None
    effective_until: date | None = None
    rationale: str | None = None
    policy_id: str = ""
    source_file: str | None = None
    source_line: int | None = None

    def in_force(self, as_of: date) -> bool:
        """Whether the rule applies on ``as_of`` (from inclusive, until exclusive)."""
        if self.effective_from is not None and as_of < self.effective_from:
            return False
        return not (self.effective_until is not None and as_of >= self.effective_until)

    def covers(self, context: str) -> bool:
        """Whether one of the rule's context patterns matches ``context``."""
        return any(fnmatch.fnmatchcase(context, pattern) for pattern in self.contexts)

    def applies_to(self, usage: CryptoUsage, as_of: date) -> bool:
        """Whether the rule's context and every condition hold for ``usage`` on ``as_of``."""
        return self.covers(usage.context) and self.conditions_hold(usage, as_of)

    def conditions_hold(self, usage: CryptoUsage, as_of: date) -> bool:
        """Whether every ``match`` condition holds (the context is not looked at)."""
        return all(c.holds(field_value(usage, c.field, as_of)) for c in self.conditions)


def field_value(usage: CryptoUsage, name: str, as_of: date) -> Any:
    """The value a rule condition tests: a usage field, an attribute or a computed field."""
    if name in USAGE_FIELDS:
        return getattr(usage, name)
    if name in COMPUTED_FIELDS:
        # Defined once, for the bulk path too (sources/files/validity.py).
        not_after = usage.attribute("not_after")
        not_before = usage.attribute("not_before")
        if name == "expired":
            return None if not isinstance(not_after, datetime) else expired(not_after, as_of)
        if name == "not_yet_valid":
            return (None if not isinstance(not_before, datetime)
                    else not_yet_valid(not_before, as_of))
        if name == "days_to_expiry":
            return (None if not isinstance(not_after, datetime)
                    else days_to_expiry(not_after, as_of))
    return usage.attribute(name)


@dataclass(frozen=True)
class Policy:
    """An ordered set of rules after ``extends`` has been resolved (parents' rules first)."""

    id: str
    title: str
    version: str
    description: str
    rules: tuple[Rule, ...]
    files: tuple[str, ...]
    sha256: str
    extends: tuple[str, ...] = ()
    changelog: tuple[dict[str, Any], ...] = field(default=())
    status_labels: tuple[tuple[str, str], ...] = ()

    _by_context: dict[str, tuple[Rule, ...]] = field(
        default_factory=dict, init=False, repr=False, compare=False)

    def rules_for(self, context: str) -> tuple[Rule, ...]:
        """The rules whose contexts cover ``context``, in policy order (computed once per
        context: a run meets a handful of contexts and millions of usages)."""
        found = self._by_context.get(context)
        if found is None:
            found = tuple(rule for rule in self.rules if rule.covers(context))
            self._by_context[context] = found
        return found

    def rule(self, rule_id: str) -> Rule | None:
        """The rule with ``rule_id``, or None."""
        for rule in self.rules:
            if rule.id == rule_id:
                return rule
        return None


def rule_to_dict(rule: Rule) -> dict[str, Any]:
    """The rule record as data (for ``--format json`` and other generated views)."""
    return {
        "id": rule.id,
        "policy": rule.policy_id,
        "summary": rule.summary,
        "status": rule.status.value,
        "severity": rule.severity,
        "contexts": list(rule.contexts),
        "match": [{"field": c.field, "op": c.op, "value": plain_value(c.value)} for c in rule.conditions],
        "effective_from": rule.effective_from.isoformat() if rule.effective_from else None,
        "effective_until": rule.effective_until.isoformat() if rule.effective_until else None,
        "rationale": rule.rationale,
        "citations": [{"document": c.document, "section": c.section, "url": c.url,
                       "confirmation": c.confirmation, "note": c.note} for c in rule.citations],
        "source": f"{rule.source_file}:{rule.source_line}" if rule.source_file else None,
    }


def plain_value(value: Any) -> Any:
    """A condition value as JSON takes it (dates as ISO 8601 text)."""
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, list):
        return [plain_value(v) for v in value]
    return value
