"""A policy compiled once for the bulk path: certificate classes and date breakpoints.

Why: judging a certificate through the engine costs microseconds of Python per usage; a
million certificates fall into a few hundred *classes* that the policy cannot tell apart.
The subject key and signature usages depend only on facts that are the same for every
certificate of a class (algorithm, size, curve, OIDs, ``is_ca``, ``self_signed``), and the
validity usage depends on the dates only through the conditions of the validity rules in
force on the as-of date. Every such condition (``not_after < 2030-01-01``,
``days_to_expiry le 30``, ``expired``, ``lifetime_days gt 398``...) is a step function of
an integer (seconds since the epoch, or days), so the breakpoints where any of them can
change split the time line into buckets in which every condition, hence the verdict, is
constant. A certificate's class is then (static facts, bucket of not_after, bucket of
not_before, bucket of the lifetime), and its findings are those the real engine
(:func:`cryptocheck.run.findings_for`) gave the first certificate of that class.

Conditions that are not step functions (``multiple_of`` on the lifetime) make the span
exact rather than bucketed; nothing is ever guessed. The scanner measures the span
``not_after - not_before`` in seconds; the lifetime in days is defined once, in
:mod:`cryptocheck.sources.files.validity`, and the span breakpoints are derived from it.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, NamedTuple

from cryptocheck.bulk.lines import certificate_record, class_middle
from cryptocheck.model import CertificateAsset, Finding, Status
from cryptocheck.policy import Policy
from cryptocheck.policy.rules import USAGE_FIELDS
from cryptocheck.report.wire import dumps_line, utc_timestamp
from cryptocheck.sources.files.usages import CONTEXTS
from cryptocheck.sources.files.validity import (
    DAY_SECONDS,
    days_to_expiry,
    expired,
    lifetime_days_of_span,
    not_yet_valid,
)

_EPOCH = date(1970, 1, 1)


class JudgedFinding(NamedTuple):
    """One finding of a class, as its ``class`` line gives it."""

    context: str
    rule: str
    status: str
    severity: str
    waiver: str | None  # the id of the waiver that covers it
    waiver_note: str | None  # why a waiver that matched was not applied (expired)

    def record(self) -> dict[str, Any]:
        """The finding's object in the ``class`` line (``waiver`` and ``waiver_note`` only
        when set)."""
        record: dict[str, Any] = {"context": self.context, "rule": self.rule,
                                  "status": self.status, "severity": self.severity}
        if self.waiver is not None:
            record["waiver"] = self.waiver
        if self.waiver_note is not None:
            record["waiver_note"] = self.waiver_note
        return record


@dataclass(frozen=True, slots=True)
class ClassInfo:
    """One class of certificates: the facts the policy looks at and the findings it gives.

    ``name`` is derived from the content (the same class has the same name in every process
    and every run with the same policy and date), so worker processes need not agree on ids.
    ``findings`` holds (context, rule, status, severity, waiver, waiver note) for each usage,
    in the normal path's order; the waiver is the id of the waiver that covers the finding
    and the note says why one that matched was not applied (expired), else None. ``worst`` is
    the worst status, waived or not.
    """

    name: str
    key_algorithm: str
    key_size: int | None
    curve: str | None
    key_oid: str
    signature_algorithm: str
    signature_scheme: str
    signature_hash: str | None
    signature_oid: str
    is_ca: bool
    self_signed: bool
    findings: tuple[JudgedFinding, ...]
    worst: str

    @property
    def key_label(self) -> str:
        """``RSA-2048``, ``EC-secp256r1``, ``Ed25519``: the key as the summary counts it."""
        if self.curve and self.curve.lower() != self.key_algorithm.lower():
            return f"{self.key_algorithm}-{self.curve}"
        if self.key_size is not None and not self.curve:
            return f"{self.key_algorithm}-{self.key_size}"
        return self.key_algorithm

    def record(self) -> dict[str, Any]:
        """The ``class`` line of the bulk output."""
        return {
            "record": "class", "class": self.name,
            "key_algorithm": self.key_algorithm, "key_size": self.key_size,
            "curve": self.curve, "key_oid": self.key_oid,
            "signature_algorithm": self.signature_algorithm,
            "signature_scheme": self.signature_scheme,
            "signature_hash": self.signature_hash, "signature_oid": self.signature_oid,
            "is_ca": self.is_ca, "self_signed": self.self_signed, "status": self.worst,
            "findings": [finding.record() for finding in self.findings],
        }

    def mid(self) -> bytes:
        """The part of a certificate line that is the same for the whole class (between its
        offset and its notBefore)."""
        return class_middle(self.name, self.worst).encode()


def class_of(asset: CertificateAsset, findings: Sequence[Finding]) -> ClassInfo:
    """The class of a certificate judged by the normal path."""
    judged = tuple(JudgedFinding(f.usage.context, f.rule, f.status.value, f.severity,
                                 f.waiver.id if f.waiver is not None else None, f.waiver_note)
                   for f in findings)
    worst = max((f.status for f in findings), key=lambda s: s.rank, default=Status.UNKNOWN)
    # The name hashes what the class line says (a finding's waiver only when it has one, so
    # that names without waivers are what they always were).
    said = tuple(tuple(j[:4]) if j.waiver is None and j.waiver_note is None else tuple(j)
                 for j in judged)
    content = (asset.key_algorithm, asset.key_size, asset.curve, asset.key_oid,
               asset.signature_algorithm, asset.signature_scheme, asset.signature_hash,
               asset.signature_oid, asset.is_ca, asset.self_signed, said)
    name = "c" + hashlib.sha256(json.dumps(content).encode()).hexdigest()[:12]
    return ClassInfo(name, asset.key_algorithm, asset.key_size, asset.curve, asset.key_oid,
                     asset.signature_algorithm, asset.signature_scheme, asset.signature_hash,
                     asset.signature_oid, asset.is_ca, asset.self_signed, judged, worst.value)


def month_index(moment: datetime) -> int:
    """Months since January 1900 (what the C scanner counts expiry months in)."""
    return (moment.year - 1900) * 12 + moment.month - 1


def month_label(index: int) -> str:
    """``YYYY-MM`` of a :func:`month_index`."""
    return f"{1900 + index // 12:04d}-{index % 12 + 1:02d}"


def certificate_line(asset: CertificateAsset, info: ClassInfo, offset: int | None) -> bytes:
    """The bulk output line of one certificate (byte for byte what the C scanner writes:
    both come from :func:`cryptocheck.bulk.lines.certificate_record`)."""
    loc = asset.location
    return (dumps_line(certificate_record(
        asset.id, asset.sha256, loc.path, loc.index, loc.line, offset, info.name, info.worst,
        utc_timestamp(asset.not_before), utc_timestamp(asset.not_after))) + "\n").encode()


@dataclass(frozen=True)
class Breakpoints:
    """Where any validity condition can change: on not_after and not_before (seconds since
    the epoch) and on the span ``not_after - not_before`` in seconds (``span`` None: use the
    exact span). Lifetime conditions are in days; the scanner measures only the span, and
    :func:`span_points` turns the days into spans through the one definition of a lifetime,
    :func:`~cryptocheck.sources.files.validity.lifetime_days_of_span`."""

    not_after: tuple[int, ...]
    not_before: tuple[int, ...]
    span: tuple[int, ...] | None


# Spans are int64 in the scanner; a lifetime condition any span meets sits below them all.
_SPAN_MIN, _SPAN_MAX = -(2**62), 2**62
# The instants a certificate time can name (years 1 to 9999), in seconds since the epoch.
_INSTANT_MIN = int(datetime(1, 1, 2, tzinfo=UTC).timestamp())
_INSTANT_MAX = int(datetime(9999, 12, 30, tzinfo=UTC).timestamp())


def _least(holds: Callable[[int], bool], low: int, high: int) -> int:
    """The smallest integer in ``low .. high + 1`` where ``holds`` (False, then True as the
    integer grows) is True: ``low`` if it holds there, ``high + 1`` if it never does."""
    if holds(low):
        return low
    if not holds(high):
        return high + 1
    while high - low > 1:  # holds(low) is False, holds(high) is True
        middle = (low + high) // 2
        if holds(middle):
            high = middle
        else:
            low = middle
    return high


def least_span(days: int) -> int:
    """The smallest span (seconds) whose lifetime is at least ``days``, found by bisection
    on :func:`lifetime_days_of_span` (non-decreasing in the span), so that no day arithmetic
    is written here a second time."""
    return _least(lambda span: lifetime_days_of_span(span) >= days, _SPAN_MIN, _SPAN_MAX)


def _first_instant(holds: Callable[[datetime], bool]) -> int:
    """The first second since the epoch from which ``holds`` (False, then True) is True."""
    return _least(lambda second: holds(datetime.fromtimestamp(second, UTC)),
                  _INSTANT_MIN, _INSTANT_MAX)


def span_points(lifetime_points: Iterable[int]) -> tuple[int, ...]:
    """The span breakpoints equivalent to lifetime breakpoints (days): for every span ``s``,
    ``bisect_right(span_points(p), s) == bisect_right(sorted(p), lifetime_days_of_span(s))``."""
    # One span per distinct day count, duplicates kept (every count <= 0 is the lowest span),
    # so that the bucket numbers, not only the buckets, are the same.
    return tuple(sorted(least_span(days) for days in set(lifetime_points)))


def _numbers(value: Any) -> Iterable[Any]:
    if isinstance(value, (list, tuple, set, frozenset)):
        for item in value:
            yield from _numbers(item)
    else:
        yield value


def _instant_points(value: Any) -> list[int]:
    """Seconds at which ``x op value`` can change, for x a whole-second UTC datetime."""
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
        seconds = moment.timestamp()
        return [math.floor(seconds), math.floor(seconds) + 1, math.ceil(seconds)]
    if isinstance(value, date):
        days = (value - _EPOCH).days
        return [days * DAY_SECONDS, (days + 1) * DAY_SECONDS]
    return []


def _integer_points(value: Any) -> list[int]:
    """Integers at which ``n op value`` can change, for n an integer."""
    if isinstance(value, (int, float)) and math.isfinite(value):
        return [math.floor(value), math.floor(value) + 1, math.ceil(value)]
    return []


# What a certificate's class key holds: the key and signature AlgorithmIdentifiers and the key
# size fix every usage field (algorithm, size, curve, hash, strength, OID...); ``is_ca`` and
# ``self_signed`` are in it; the validity fields are bucketed by :func:`breakpoints`. A rule
# on a certificate context testing anything else could tell two certificates of one class
# apart, and the class's verdict would be wrong for one of them.
CLASS_KEY_FIELDS = frozenset(USAGE_FIELDS) | frozenset((
    "is_ca", "self_signed", "signature_algorithm",
    "not_after", "not_before", "lifetime_days", "expired", "not_yet_valid", "days_to_expiry"))
CERTIFICATE_CONTEXTS = tuple(c for c in CONTEXTS if c.startswith("certificate."))


def class_key_gaps(policy: Policy, as_of: date) -> tuple[str, ...]:
    """``RULE tests FIELD`` for every rule in force on ``as_of`` that tests, on a certificate
    context, a field the class key does not capture (:data:`CLASS_KEY_FIELDS`). Not empty:
    the bulk path must judge every certificate through the normal path.

    >>> # class_key_gaps(load_policy("cabf-br"), date(2026, 11, 22))
    >>> # ()
    """
    gaps: dict[str, None] = {}
    for context in CERTIFICATE_CONTEXTS:
        for rule in policy.rules_for(context):
            if rule.in_force(as_of):
                for condition in rule.conditions:
                    if condition.field not in CLASS_KEY_FIELDS:
                        gaps[f"{rule.id} tests {condition.field}"] = None
    return tuple(gaps)


def breakpoints(policy: Policy, as_of: date) -> Breakpoints:
    """The breakpoints of the validity rules of ``policy`` in force on ``as_of``."""
    after: set[int] = set()
    before: set[int] = set()
    lifetime: set[int] = set()
    exact_lifetime = False
    for rule in policy.rules_for("certificate.validity"):
        if not rule.in_force(as_of):
            continue
        for condition in rule.conditions:
            field, op = condition.field, condition.op
            values = list(_numbers(condition.value))
            if field == "not_after":
                after.update(p for v in values for p in _instant_points(v))
            elif field == "not_before":
                before.update(p for v in values for p in _instant_points(v))
            # The date-relative fields change where their one definition says: found by
            # bisection on it (sources/files/validity.py), not worked out again here.
            elif field == "expired":
                after.add(_first_instant(lambda moment: not expired(moment, as_of)))
            elif field == "not_yet_valid":
                before.add(_first_instant(lambda moment: not_yet_valid(moment, as_of)))
            elif field == "days_to_expiry":
                after.update(_first_instant(
                    lambda moment, k=k: days_to_expiry(moment, as_of) >= k)  # type: ignore[misc]
                    for v in values for k in _integer_points(v))
            elif field == "lifetime_days":
                if op in ("multiple_of", "not_multiple_of"):
                    exact_lifetime = True
                lifetime.update(p for v in values for p in _integer_points(v))
    return Breakpoints(tuple(sorted(after)), tuple(sorted(before)),
                       None if exact_lifetime else span_points(lifetime))
