"""Golden tests: the exact findings of every shipped policy on the test corpus.

Each ``tests/golden/<policy>.json`` lists every finding of ``cryptocheck.scan`` over
``tests/corpus/`` as of 2026-11-22 - asset (file relative to the corpus, ``#index`` within
it), context, deciding rule and status - and the test reports missing and unexpected findings
separately.

The golden files are the assertion: a wrong verdict in them is a defect. To regenerate after a
deliberate change to a policy or the corpus::

    CRYPTOCHECK_UPDATE_GOLDEN=1 python -m pytest tests/test_golden.py

then review ``git diff tests/golden/`` line by line against
``shared/reference/crypto-guidance-facts.md`` before committing.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from datetime import date
from pathlib import Path

import pytest

import cryptocheck
from cryptocheck.model import Report, Status

HERE = Path(__file__).resolve().parent
CORPUS = HERE / "corpus"
GOLDEN = HERE / "golden"
AS_OF = date(2026, 11, 22)
SHIPPED = ("nhs-acagpg", "nist-sp800-131a-r2", "nist-ir8547", "cnsa-2.0", "cabf-br")
UPDATE = os.environ.get("CRYPTOCHECK_UPDATE_GOLDEN") == "1"

Row = tuple[str, str, str, str]  # asset, context, rule, status

pytestmark = pytest.mark.skipif(not (CORPUS / "certs").is_dir(),
                                reason="test corpus not generated (tests/corpus/make_corpus.sh)")


def passwords() -> list[str]:
    path = CORPUS / "passwords.txt"
    return path.read_text("utf-8").splitlines() if path.is_file() else []


def run(policy: str, as_of: date = AS_OF, targets: list[Path] | None = None) -> Report:
    return cryptocheck.scan([str(t) for t in (targets or [CORPUS])], policy=policy,
                            as_of=as_of, passwords=passwords())


def asset_name(finding: cryptocheck.Finding) -> str:
    path = Path(finding.location.path or "-")
    name = path.relative_to(CORPUS).as_posix() if path.is_absolute() else path.as_posix()
    return f"{name}#{finding.location.index if finding.location.index is not None else 0}"


def rows(report: Report) -> list[Row]:
    return sorted((asset_name(f), f.usage.context, f.rule, f.status.value)
                  for f in report.findings)


def as_json(policy: str, found: list[Row]) -> str:
    body = {
        "policy": policy,
        "as_of": AS_OF.isoformat(),
        "corpus": "tests/corpus",
        "regenerate": "CRYPTOCHECK_UPDATE_GOLDEN=1 python -m pytest tests/test_golden.py; "
                      "then review every changed line against the reference",
        "findings": [dict(zip(("asset", "context", "rule", "status"), row)) for row in found],
    }
    return json.dumps(body, indent=1, ensure_ascii=False) + "\n"


def load_golden(policy: str) -> list[Row]:
    data = json.loads((GOLDEN / f"{policy}.json").read_text("utf-8"))
    assert data["policy"] == policy and data["as_of"] == AS_OF.isoformat()
    return [(f["asset"], f["context"], f["rule"], f["status"]) for f in data["findings"]]


@pytest.mark.parametrize("policy", SHIPPED)
def test_golden_findings(policy: str) -> None:
    report = run(policy)
    assert not report.errors, [f"{e.location}: {e.reason}" for e in report.errors]
    found = rows(report)
    golden_file = GOLDEN / f"{policy}.json"
    if UPDATE:
        GOLDEN.mkdir(exist_ok=True)
        golden_file.write_text(as_json(policy, found), "utf-8")
    assert golden_file.is_file(), f"no {golden_file}: run with CRYPTOCHECK_UPDATE_GOLDEN=1"
    expected = Counter(load_golden(policy))
    actual = Counter(found)
    missing = sorted((expected - actual).elements())
    unexpected = sorted((actual - expected).elements())
    message = [f"{policy} as of {AS_OF}:"]
    if missing:
        message.append(f"{len(missing)} missing (in the golden file, not found):")
        message += [f"  - {' | '.join(r)}" for r in missing]
    if unexpected:
        message.append(f"{len(unexpected)} unexpected (found, not in the golden file):")
        message += [f"  + {' | '.join(r)}" for r in unexpected]
    assert not missing and not unexpected, "\n".join(message)


@pytest.mark.parametrize("policy", SHIPPED)
def test_golden_has_no_unknown_verdicts(policy: str) -> None:
    # Everything in the corpus is a well-known algorithm: nothing may fall to unknown.
    unknown = [r for r in load_golden(policy) if r[3] == Status.UNKNOWN.value]
    assert not unknown


def test_golden_covers_every_rule_kind() -> None:
    # Each policy's golden file exercises approved and disallowed verdicts at least.
    for policy in SHIPPED:
        statuses = {r[3] for r in load_golden(policy)}
        assert {"approved", "disallowed"} <= statuses, policy


# ---- the acceptance test, at corpus level ---------------------------------------------


def key_status(report: Report, name: str) -> str:
    [finding] = [f for f in report.findings if asset_name(f) == f"certs/{name}.pem#0"
                 and f.usage.context == "certificate.public-key"]
    return finding.status.value


def test_ir8547_transition_on_the_corpus() -> None:
    targets = [CORPUS / "certs" / "leaf-rsa-2048.pem", CORPUS / "certs" / "leaf-ec-p256.pem"]
    before = run("nist-ir8547", date(2030, 12, 31), targets)
    assert (key_status(before, "leaf-rsa-2048"), key_status(before, "leaf-ec-p256")) == \
        ("approved", "approved")
    at_2031 = run("nist-ir8547", date(2031, 1, 1), targets)
    assert (key_status(at_2031, "leaf-rsa-2048"), key_status(at_2031, "leaf-ec-p256")) == \
        ("deprecated", "approved")
    at_2036 = run("nist-ir8547", date(2036, 1, 1), targets)
    assert (key_status(at_2036, "leaf-rsa-2048"), key_status(at_2036, "leaf-ec-p256")) == \
        ("disallowed", "disallowed")
