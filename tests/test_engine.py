"""The evaluation engine: worst status wins, effective dates, unknown when nothing applies,
waivers and their expiry; and the refusal of broken policy files with file and line."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from cryptocheck.model import CryptoUsage, Location, Status, Waiver
from cryptocheck.policy import PolicyError, evaluate, judge, load_policy
from cryptocheck.policy.rules import Condition

HEAD = '''
[policy]
id = "t"
title = "test"
version = "1"
'''

RULES = HEAD + '''
[[rule]]
id = "RSA-OK"
summary = "RSA of 2048 bits or more is approved"
status = "approved"
contexts = ["*public-key"]
[rule.match]
algorithm = "RSA"
key_size = { ge = 2048 }
[[rule.citation]]
document = "NIST SP 800-131A Rev. 2"
section = "§3"

[[rule]]
id = "RSA-SMALL"
summary = "RSA under 2048 bits is disallowed"
status = "disallowed"
contexts = ["*public-key"]
[rule.match]
algorithm = ["RSA", "RSA-PSS"]
key_size = { lt = 2048 }
[[rule.citation]]
document = "NIST SP 800-131A Rev. 2"
section = "§3"

[[rule]]
id = "RSA-2031"
summary = "112-bit RSA is deprecated after 2030"
status = "deprecated"
contexts = ["*public-key"]
effective_from = 2031-01-01
[rule.match]
algorithm = "RSA"
strength = { lt = 128 }
[[rule.citation]]
document = "NIST IR 8547 ipd"
section = "§4.1.1"

[[rule]]
id = "EXPIRED"
summary = "expired"
status = "disallowed"
contexts = ["certificate.validity"]
[rule.match]
expired = true
[[rule.citation]]
document = "RFC 5280"
section = "§4.1.2.5"
'''


def usage(algorithm: str = "RSA", key_size: int | None = 2048, strength: int | None = 112,
          context: str = "public-key", **attrs: object) -> CryptoUsage:
    return CryptoUsage(asset_id="a1", context=context, algorithm=algorithm, key_size=key_size,
                       strength=strength, location=Location(path="x.pem", index=0),
                       attributes=tuple(sorted(attrs.items())))  # type: ignore[arg-type]


@pytest.fixture()
def policy(tmp_path: Path):
    path = tmp_path / "p.toml"
    path.write_text(RULES)
    return load_policy(str(path))


def test_worst_status_wins_and_dates_apply(policy) -> None:
    assert evaluate(usage(), policy, date(2026, 1, 1)).rule_id == "RSA-OK"
    later = evaluate(usage(), policy, date(2031, 1, 1))
    assert (later.status, later.rule_id) == (Status.DEPRECATED, "RSA-2031")
    assert evaluate(usage(), policy, date(2030, 12, 31)).status is Status.APPROVED
    small = evaluate(usage(key_size=1024, strength=80), policy, date(2031, 1, 1))
    assert (small.status, small.rule_id) == (Status.DISALLOWED, "RSA-SMALL")


def test_nothing_applies_is_unknown_never_approved(policy) -> None:
    verdict = evaluate(usage(algorithm="unknown", key_size=None, strength=None), policy, date(2026, 1, 1))
    assert verdict.status is Status.UNKNOWN and verdict.rule_id == "unmatched"
    # An RSA key whose size could not be read matches neither size rule.
    assert evaluate(usage(key_size=None, strength=None), policy, date(2026, 1, 1)).status is Status.UNKNOWN


def test_computed_expiry_is_relative_to_as_of(policy) -> None:
    end = datetime(2027, 6, 1, tzinfo=UTC)
    cert = usage(algorithm="validity-period", key_size=None, strength=None,
                 context="certificate.validity", not_after=end)
    assert evaluate(cert, policy, date(2027, 5, 31)).status is Status.UNKNOWN
    assert evaluate(cert, policy, date(2027, 6, 2)).status is Status.DISALLOWED


def test_condition_none_fails_everything_but_present_false() -> None:
    assert not Condition("key_size", "lt", 2048).holds(None)
    assert not Condition("key_size", "ne", 2048).holds(None)
    assert Condition("key_size", "present", False).holds(None)
    assert Condition("key_size", "not_multiple_of", 8).holds(2047)
    assert not Condition("key_size", "not_multiple_of", 8).holds(2048)


def test_waiver_applies_until_it_expires(policy) -> None:
    small = usage(key_size=1024, strength=80)
    waiver = Waiver(id="W1", owner="pki", reason="HSM", expires=date(2027, 1, 1), rule="RSA-*")
    in_force = judge(small, policy, date(2026, 6, 1), [waiver])
    assert in_force.waived and in_force.status is Status.DISALLOWED
    expired = judge(small, policy, date(2027, 1, 2), [waiver])
    assert not expired.waived and "expired on 2027-01-01" in (expired.waiver_note or "")
    other = Waiver(id="W2", owner="pki", reason="x", expires=date(2030, 1, 1), path="other/*")
    assert not judge(small, policy, date(2026, 6, 1), [other]).waived


@pytest.mark.parametrize("body,line,fragment", [
    (("[[rule]]\nid = \"X\"\nsummary = \"s\"\nstatus = \"fine\"\ncontexts=[\"public-key\"]\n"
     "[[rule.citation]]\ndocument=\"d\"\nsection=\"1\"\n"), 9, "unknown status"),
    ("[[rule]]\nid = \"X\"\nsummary = \"s\"\nstatus = \"approved\"\ncontexts=[\"public-key\"]\n", 6,
     "citation"),
    (("[[rule]]\nid = \"X\"\nsummary = \"s\"\nstatus = \"approved\"\ncontexts=[\"public-key\"]\n"
     "[rule.match]\ncurve = \"P-999\"\n[[rule.citation]]\ndocument=\"d\"\nsection=\"1\"\n"), 12, "catalogue"),
    (("[[rule]]\nid = \"X\"\nsummary = \"s\"\nstatus = \"approved\"\ncontexts=[\"public-key\"]\n"
     "colour = \"red\"\n[[rule.citation]]\ndocument=\"d\"\nsection=\"1\"\n"), 11, "unknown rule key"),
    ("[[rule]\nid = 1\n", 6, "TOML syntax"),
])
def test_broken_policy_is_refused_with_file_and_line(tmp_path: Path, body: str, line: int, fragment: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(HEAD + body)
    with pytest.raises(PolicyError) as info:
        load_policy(str(path))
    assert info.value.file == str(path)
    assert info.value.line == line, str(info.value)
    assert fragment in str(info.value)


def test_extends_disable_and_cycles(tmp_path: Path) -> None:
    (tmp_path / "base.toml").write_text(RULES)
    child = tmp_path / "child.toml"
    child.write_text('[policy]\nid="c"\ntitle="c"\nversion="1"\nextends=["base.toml"]\ndisable=["RSA-2031"]\n')
    loaded = load_policy(str(child))
    assert [r.id for r in loaded.rules] == ["RSA-OK", "RSA-SMALL", "EXPIRED"]
    assert evaluate(usage(), loaded, date(2031, 1, 1)).status is Status.APPROVED
    (tmp_path / "a.toml").write_text('[policy]\nid="a"\ntitle="a"\nversion="1"\nextends=["b.toml"]\n')
    (tmp_path / "b.toml").write_text('[policy]\nid="b"\ntitle="b"\nversion="1"\nextends=["a.toml"]\n')
    with pytest.raises(PolicyError, match="cycle"):
        load_policy(str(tmp_path / "a.toml"))
    dup = tmp_path / "dup.toml"
    dup.write_text(RULES + "[[rule]]" + RULES.split("[[rule]]")[1])
    with pytest.raises(PolicyError, match="duplicate rule id"):
        load_policy(str(dup))
