"""Every rule of every shipped policy decides at least one finding of the real corpus.

Why: STYLE.md asks that every rule have a fixture that triggers it and one that does not, and
that fixtures be real. tests/test_policies.py reaches rules with hand-built usages; this test
holds the recorded goldens (tests/golden/, made from tests/corpus/ by tests/test_golden.py) to
the same standard, so a rule no real certificate or key reaches - or a corpus that stops
reaching one - is seen here. It reads only the golden files (no scan), which test_golden.py
proves equal to what cryptocheck finds.

Only rules for the contexts of certificate and key files (``cryptocheck.sources.files.usages.CONTEXTS``)
are held to the corpus; rules for TLS, SSH and configuration contexts are covered by the
tests of the packages that produce those usages.

- trigger: the rule is the deciding rule of at least one finding, on some recorded date;
- does not trigger: some finding in one of the rule's contexts is decided by another rule.

Rules no real file can make decide are listed in UNREACHABLE with the reason; an entry whose
rule starts deciding fails the test, so the list cannot go stale.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date

import pytest
from test_golden import AS_OF, CASES, EXTRA_DATES, SHIPPED, Row, golden_path, load_golden

from cryptocheck.policy import load_policy
from cryptocheck.sources.files.usages import CONTEXTS

# policy -> rule id -> why no corpus finding can have it as the deciding rule.
UNREACHABLE: dict[str, dict[str, str]] = {}


def golden_rows(policy: str) -> dict[date, list[Row]]:
    dates = (AS_OF, *EXTRA_DATES.get(policy, ()))
    return {when: load_golden(policy, when) for when in dates}


def decided_by(policy: str) -> dict[str, set[date]]:
    """rule id -> the recorded as-of dates on which it decides at least one finding."""
    found: dict[str, set[date]] = defaultdict(set)
    for when, rows in golden_rows(policy).items():
        for _asset, _context, rule, _status in rows:
            found[rule].add(when)
    return found


def test_goldens_recorded_for_every_case() -> None:
    for case in CASES:
        assert golden_path(*case).is_file(), golden_path(*case)


@pytest.mark.parametrize("policy", SHIPPED)
def test_every_rule_decides_a_corpus_finding(policy: str) -> None:
    # Rules for endpoint and configuration contexts (tls.*, ssh.*) are held to the same
    # standard by their own packages' tests; here, those a certificate or key file can reach.
    rules = [rule.id for rule in load_policy(policy).rules
             if any(rule.covers(context) for context in CONTEXTS)]
    decided = decided_by(policy)
    unreachable = UNREACHABLE.get(policy, {})
    assert set(unreachable) <= set(rules), "UNREACHABLE names rules the policy does not have"
    never = [rule for rule in rules if rule not in decided and rule not in unreachable]
    assert not never, (f"{policy}: rules that decide no finding of the corpus on any recorded "
                       f"date (add a real fixture, or a date in test_golden.EXTRA_DATES): {never}")
    stale = [rule for rule in unreachable if rule in decided]
    assert not stale, f"{policy}: listed as unreachable but decide findings: {stale}"


@pytest.mark.parametrize("policy", SHIPPED)
def test_every_rule_has_a_corpus_finding_it_does_not_decide(policy: str) -> None:
    # The "does not trigger" side: a usage the rule is about (one of its contexts) that another
    # rule decides, e.g. a 2048-bit DSA key beside the 4096-bit one NIST-KEY-DSA-003 rejects.
    rows = [row for rows in golden_rows(policy).values() for row in rows]
    missing = []
    for rule in load_policy(policy).rules:
        if not any(rule.covers(context) for context in CONTEXTS):
            continue  # tls.* / ssh.* rules: covered by their packages' tests
        if not any(rule.covers(context) and decider != rule.id
                   for _asset, context, decider, _status in rows):
            missing.append(rule.id)
    assert not missing, (f"{policy}: no finding in these rules' contexts is decided by "
                         f"another rule: {missing}")


@pytest.mark.parametrize(("policy", "as_of"),
                         [(p, d) for p in SHIPPED for d in EXTRA_DATES.get(p, ())])
def test_every_extra_date_is_needed(policy: str, as_of: date) -> None:
    # An extra as-of date earns its golden file only if some rule decides on it and on no
    # other recorded date of the policy.
    decided = decided_by(policy)
    only_then = sorted(rule for rule, dates in decided.items() if dates == {as_of})
    assert only_then, f"{policy} as of {as_of}: no rule decides only on this date"
