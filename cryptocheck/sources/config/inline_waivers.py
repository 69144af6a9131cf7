"""Inline waivers: ``cryptocheck: allow RULE_ID until YYYY-MM-DD -- reason`` in a comment.

A waiver written on a directive's line, or in the comment lines directly above it, covers
the findings of that rule on that directive until the date (inclusive). It becomes an
ordinary :class:`~cryptocheck.model.Waiver` scoped to the directive's asset, so reports show
who waived what and why. A waiver past its date, without a reason, or that cannot be read is
not applied and is itself reported (a ``config.waiver`` usage at the comment's line): an
exception nobody renews must not stay silent.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from cryptocheck.model import Waiver

#: The ``kind`` of the asset a waiver comment that cannot be applied becomes.
WAIVER_KIND = "waiver"

_MARK = re.compile(r"cryptocheck:\s*allow\b(?P<rest>.*)$", re.IGNORECASE)
_FULL = re.compile(
    r"^\s+(?P<rule>[A-Za-z0-9_.*?\[\]-]+)\s+until\s+(?P<date>\d{4}-\d{2}-\d{2})"
    r"(?:\s*--\s*(?P<reason>.*?))?\s*(?:\*/|-->)?\s*$")
_COMMENT_START = re.compile(r"^\s*(#|//|;|--|/\*|\*|<!--)")


@dataclass(frozen=True)
class InlineWaiver:
    """One waiver comment: where, for which rule, until when, why; ``problem`` names what is
    wrong with it (``expired-waiver``, ``waiver-without-reason``, ``malformed-waiver``)."""

    line: int
    column: int
    rule: str | None
    until: date | None
    reason: str | None
    target_line: int | None
    problem: str | None = None


def parse_waivers(text: str, as_of: date) -> list[InlineWaiver]:
    """Every waiver comment in ``text``, each tied to the line of the directive it covers."""
    lines = text.splitlines()
    out: list[InlineWaiver] = []
    for index, line in enumerate(lines):
        mark = _MARK.search(line)
        if mark is None:
            continue
        number = index + 1
        column = mark.start() + 1
        target: int | None = number
        if _COMMENT_START.match(line):
            # A comment line of its own: it covers the next line that is not a comment.
            target = None
            for ahead in range(index + 1, len(lines)):
                following = lines[ahead]
                if not following.strip() or _COMMENT_START.match(following):
                    continue
                target = ahead + 1
                break
        full = _FULL.match(mark.group("rest"))
        if full is None:
            out.append(InlineWaiver(number, column, None, None, None, target, "malformed-waiver"))
            continue
        try:
            until = date.fromisoformat(full.group("date"))
        except ValueError:
            out.append(InlineWaiver(number, column, full.group("rule"), None, None, target,
                                    "malformed-waiver"))
            continue
        reason = (full.group("reason") or "").strip() or None
        problem = None
        if reason is None:
            problem = "waiver-without-reason"
        elif until < as_of:
            problem = "expired-waiver"
        out.append(InlineWaiver(number, column, full.group("rule"), until, reason, target, problem))
    return out


def as_waiver(waiver: InlineWaiver, path: str, asset_id: str) -> Waiver:
    """The policy-engine waiver an inline comment gives for one asset."""
    assert waiver.rule is not None and waiver.until is not None
    return Waiver(id=f"inline:{path}:{waiver.line}", owner=f"{path}:{waiver.line}",
                  reason=waiver.reason or "", expires=waiver.until, rule=waiver.rule,
                  asset=asset_id)
