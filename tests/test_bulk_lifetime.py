"""A certificate's lifetime is defined once (sources/files/usages.py) and the C bulk path uses
that definition: it measures only the span notAfter - notBefore, and buckets spans by
breakpoints derived from the one function. Edge cases: exactly N days, N days + 1 s, a day
with a leap second, notAfter before notBefore; bucketed and exact (``multiple_of``) policies."""

from __future__ import annotations

import base64
import io
import json
from bisect import bisect_right
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from hypothesis import given, settings
from hypothesis import strategies as st

from cryptocheck import scan
from cryptocheck.bulk.compiled import least_span, span_points
from cryptocheck.bulk.pyscan import have_extension
from cryptocheck.bulk.run import BulkOptions, bulk_scan
from cryptocheck.policy import load_policy
from cryptocheck.sources.files.validity import DAY_SECONDS, lifetime_days, lifetime_days_of_span

DAY = 86_400
START = datetime(2021, 3, 1, tzinfo=UTC)
# 2016-12-31 had a leap second (23:59:60 UTC); POSIX time, and so a lifetime, ignores it.
LEAP_DAY = datetime(2016, 12, 31, tzinfo=UTC)


def test_the_definition_on_its_edges() -> None:
    assert DAY_SECONDS == DAY
    for days in (1, 90, 397, 398):
        assert lifetime_days_of_span(days * DAY - 1) == days  # exactly N days, inclusive
        assert lifetime_days_of_span(days * DAY) == days + 1  # N days + 1 s
    assert lifetime_days_of_span(0) == 1  # notAfter == notBefore: one (partial) day
    assert lifetime_days_of_span(-1) == lifetime_days_of_span(-10 * DAY) == 0  # before
    assert lifetime_days(LEAP_DAY, LEAP_DAY + timedelta(days=1, seconds=-1)) == 1
    assert lifetime_days(START, START - timedelta(seconds=1)) == 0
    # A fraction of a second counts as the second it begins (never as less).
    assert lifetime_days(START, START + timedelta(days=1, microseconds=-500_000)) == 2


@settings(max_examples=300, deadline=None)
@given(points=st.lists(st.integers(-5, 4000), max_size=6),
       span=st.integers(-3 * DAY, 4000 * DAY))
def test_span_breakpoints_bucket_as_the_lifetime_does(points: list[int], span: int) -> None:
    days = lifetime_days_of_span(span)
    assert bisect_right(span_points(points), span) == bisect_right(sorted(set(points)), days)


def test_least_span_is_the_first_second_of_a_lifetime() -> None:
    for days in (1, 2, 398, 399):
        first = least_span(days)
        assert lifetime_days_of_span(first) == days
        assert lifetime_days_of_span(first - 1) == days - 1


POLICY = """
[policy]
id = "lifetime-test"
title = "Lifetime test policy"
version = "1"
description = "Lifetime rules on their edges, for the bulk path's agreement test."

[[changelog]]
version = "1"
date = 2026-11-22
changes = "First version."

[[rule]]
id = "LIFE-OVER-398"
summary = "More than 398 days is too long"
status = "disallowed"
contexts = ["certificate.validity"]
[rule.match]
lifetime_days = { gt = 398 }
[[rule.citation]]
document = "CA/Browser Forum Baseline Requirements"
section = "6.3.2"

[[rule]]
id = "LIFE-398"
summary = "Exactly 398 days is deprecated here"
status = "deprecated"
contexts = ["certificate.validity"]
[rule.match]
lifetime_days = { eq = 398 }
[[rule.citation]]
document = "cryptocheck tests"
section = "lifetime"

[[rule]]
id = "LIFE-NONE"
summary = "A validity period that ends before it starts"
status = "disallowed"
contexts = ["certificate.validity"]
[rule.match]
lifetime_days = { le = 0 }
[[rule.citation]]
document = "cryptocheck tests"
section = "lifetime"

[[rule]]
id = "LIFE-OK"
summary = "Other lifetimes are approved"
status = "approved"
contexts = ["certificate.*"]
[[rule.citation]]
document = "cryptocheck tests"
section = "lifetime"
"""

EXACT_RULE = """
[[rule]]
id = "LIFE-WEEKS"
summary = "Whole weeks are deprecated here"
status = "deprecated"
contexts = ["certificate.validity"]
[rule.match]
lifetime_days = { multiple_of = 7 }
[[rule.citation]]
document = "cryptocheck tests"
section = "lifetime"
"""


def _certificates(folder: Path) -> list[tuple[datetime, datetime]]:
    """One PEM file of certificates on the edges; their (notBefore, notAfter)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "lifetime edge")])
    periods = []
    for days in (1, 7, 397, 398, 399):
        for extra in (-1, 0, 1):
            periods.append((START, START + timedelta(days=days, seconds=extra)))
    periods += [(START, START), (START, START - timedelta(seconds=1)),
                (START, START - timedelta(days=3)),
                (LEAP_DAY, LEAP_DAY + timedelta(days=1, seconds=-1)),
                (LEAP_DAY, LEAP_DAY + timedelta(days=1)),
                (LEAP_DAY + timedelta(hours=12), LEAP_DAY + timedelta(days=398, hours=12))]
    pem = b""
    for serial, (not_before, not_after) in enumerate(periods, 1):
        # cryptography refuses to sign a notAfter before notBefore: sign a placeholder and
        # write the real UTCTime over it (nothing here verifies the signature).
        placeholder = max(not_after, not_before + timedelta(days=1))
        cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
                .public_key(key.public_key()).serial_number(serial)
                .not_valid_before(not_before).not_valid_after(placeholder)
                .sign(key, hashes.SHA256()))
        der = cert.public_bytes(serialization.Encoding.DER)
        if placeholder != not_after:
            old, new = (b"\x17\x0d" + t.strftime("%y%m%d%H%M%SZ").encode()
                        for t in (placeholder, not_after))
            assert der.count(old) == 1
            der = der.replace(old, new)
        assert x509.load_der_x509_certificate(der).not_valid_after_utc == not_after
        pem += b"-----BEGIN CERTIFICATE-----\n" + base64.encodebytes(der) \
            + b"-----END CERTIFICATE-----\n"
    (folder / "edges.pem").write_bytes(pem)
    return periods


def _bulk(folder: Path, policy: Path, force_python: bool) -> tuple[dict[str, Any], Any]:
    out = io.BytesIO()
    result = bulk_scan([str(folder)], load_policy(str(policy)), date(2026, 11, 22), out,
                       BulkOptions(jobs=1, force_python=force_python))
    classes: dict[str, list[tuple[str, str, str]]] = {}
    found: dict[str, list[tuple[str, str, str]]] = {}
    for line in out.getvalue().decode().splitlines():
        record = json.loads(line)
        if record["record"] == "class":
            classes[record["class"]] = sorted((f["context"], f["rule"], f["status"])
                                              for f in record["findings"])
        elif record["record"] == "certificate":
            found[record["id"]] = classes[record["class"]]
    return found, result


@pytest.mark.parametrize("exact", [False, True], ids=["bucketed", "exact"])
def test_c_path_and_normal_path_agree_on_the_edges(tmp_path: Path, exact: bool) -> None:
    assert have_extension(), "C scanner not built (python3 setup.py build_ext --inplace)"
    policy = tmp_path / "policy.toml"
    policy.write_text(POLICY + (EXACT_RULE if exact else ""), "utf-8")
    certs = tmp_path / "certs"
    certs.mkdir()
    periods = _certificates(certs)
    report = scan([str(certs)], load_policy(str(policy)), date(2026, 11, 22))
    normal = {a.id: sorted((f.usage.context, f.rule, f.status.value) for f in report.findings
                           if f.asset_id == a.id) for a in report.assets}
    assert len(normal) == len(periods)
    c_path, result = _bulk(certs, policy, force_python=False)
    assert c_path == normal
    assert result.engine == "c" and result.tally.fallbacks == 0  # the C key was believed
    # and the verdicts really do change on the edges (the test can tell the paths apart)
    lifetimes = {lifetime_days(nb, na) for nb, na in periods}
    assert {0, 1, 398, 399} <= lifetimes
    rules = {rule for found in normal.values() for _, rule, _ in found}
    assert {"LIFE-OVER-398", "LIFE-398", "LIFE-NONE", "LIFE-OK"} <= rules
    assert ("LIFE-WEEKS" in rules) == exact


def test_validity_breakpoints_are_where_the_definitions_change() -> None:
    from cryptocheck.bulk.compiled import breakpoints
    from cryptocheck.sources.files.validity import days_to_expiry, expired, not_yet_valid

    as_of = date(2026, 11, 22)
    points = breakpoints(load_policy("nhs-acagpg"), as_of)  # expired, not_yet_valid

    def at(second: int) -> datetime:
        return datetime.fromtimestamp(second, UTC)

    assert any(expired(at(p - 1), as_of) and not expired(at(p), as_of)
               for p in points.not_after)
    assert any(not not_yet_valid(at(p - 1), as_of) and not_yet_valid(at(p), as_of)
               for p in points.not_before)
    # every breakpoint is a place where some definition changes, not an approximation of one
    for p in points.not_after:
        changes = (expired(at(p - 1), as_of) != expired(at(p), as_of)
                   or days_to_expiry(at(p - 1), as_of) != days_to_expiry(at(p), as_of))
        assert changes, p
