"""The shipped policies: complete records, catalogue names, coverage of every usage the
catalogue can produce, rules that trigger and rules that do not, broken files refused with
file and line, extends/disable/cycles, waivers, and the NIST IR 8547 transition.

The probe table below is built from the catalogue itself (every key algorithm, every curve,
every signature scheme with every hash it can carry, every key-protection cipher), so a new
catalogue entry that no shipped policy judges shows up here as an ``unknown`` verdict.
"""

from __future__ import annotations

import hashlib
import importlib
import re
import subprocess
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from cryptocheck import catalog
from cryptocheck.model import CryptoUsage, Location, Status, Waiver
from cryptocheck.policy import (
    PolicyError,
    evaluate,
    judge,
    load_policy,
    load_waivers,
    shipped_policy_ids,
)
from cryptocheck.sources.files.usages import CONTEXTS

CORPUS = Path(__file__).resolve().parent / "corpus"

REPO = Path(__file__).resolve().parents[1]
POLICY_DIR = REPO / "policies"
SHIPPED = ("nhs-acagpg", "nist-sp800-131a-r2", "nist-ir8547", "cnsa-2.0", "cabf-br")
ID_PREFIX = {
    "nhs-acagpg": ("NHS-",),
    "nist-sp800-131a-r2": ("NIST-",),
    "nist-ir8547": ("IR8547-",),
    "cnsa-2.0": ("CNSA2-", "CNSA1-"),
    "cabf-br": ("BR-",),
}
AS_OF = date(2026, 11, 22)
# Dates at which date-bounded rules are in force, for the trigger test and coverage.
DATES = (date(2015, 6, 1), date(2020, 6, 1), date(2023, 6, 1), AS_OF, date(2031, 1, 1),
         date(2033, 1, 1), date(2036, 1, 1))
KEY_CONTEXTS = ("certificate.public-key", "public-key", "private-key")
SIG_CONTEXTS = ("certificate.signature", "certificate.self-signature")
LOC = Location(path="probe.pem", index=0)


# ---- probe usages ---------------------------------------------------------------------------


def key_usage(algorithm: str, key_size: int | None = None, curve: str | None = None,
              context: str = "certificate.public-key", **attrs: object) -> CryptoUsage:
    """A key usage with strength and quantum vulnerability as usages.py derives them."""
    if context == "certificate.public-key":
        base = {"is_ca": False, "self_signed": False}
    else:
        base = {"encrypted": False if context == "private-key" else None, "format": "PKCS#8"}
    base.update(attrs)
    return CryptoUsage(
        asset_id="probe", context=context, algorithm=algorithm, location=LOC,
        key_size=key_size, curve=curve,
        strength=catalog.key_strength(algorithm, key_size, curve),
        quantum_vulnerable=catalog.quantum_vulnerable(algorithm),
        attributes=tuple(sorted(base.items())),  # type: ignore[arg-type]
    )


def signature_usage(scheme: str, hash_name: str | None,
                    context: str = "certificate.signature", is_ca: bool = False) -> CryptoUsage:
    """A signature usage as usages.py builds it from a certificate."""
    strength = (catalog.hash_collision_strength(hash_name) if hash_name
                else catalog.key_strength(scheme))
    attrs = {"is_ca": is_ca, "self_signed": context == "certificate.self-signature",
             "signature_algorithm": f"{scheme}-{hash_name}"}
    return CryptoUsage(
        asset_id="probe", context=context, algorithm=scheme, location=LOC, hash=hash_name,
        strength=strength, quantum_vulnerable=catalog.quantum_vulnerable(scheme),
        attributes=tuple(sorted(attrs.items())),
    )


def validity_usage(not_before: datetime, not_after: datetime, is_ca: bool = False,
                   self_signed: bool = False) -> CryptoUsage:
    from cryptocheck.sources.files.usages import lifetime_days

    attrs = {"is_ca": is_ca, "self_signed": self_signed, "not_before": not_before,
             "not_after": not_after, "lifetime_days": lifetime_days(not_before, not_after)}
    return CryptoUsage(asset_id="probe", context="certificate.validity",
                       algorithm="validity-period", location=LOC,
                       attributes=tuple(sorted(attrs.items())))  # type: ignore[arg-type]


def protection_usage(cipher: str) -> CryptoUsage:
    found = catalog.cipher(cipher)
    strength = 0 if cipher == "none" else (found.strength if found else None)
    attrs = {"encrypted": cipher != "none", "format": "PKCS#8",
             "protection": None if cipher == "none" else f"PBES2 PBKDF2 {cipher}"}
    return CryptoUsage(asset_id="probe", context="private-key.protection", algorithm=cipher,
                       location=LOC, strength=strength, attributes=tuple(sorted(attrs.items())))


def _key_probes() -> list[CryptoUsage]:
    shapes: list[tuple[str, int | None, str | None]] = []
    for name in ("RSA", "RSA-PSS", "RSA-OAEP"):
        shapes += [(name, size, None) for size in (512, 1024, 1536, 2047, 2048, 2052, 2056, 3072,
                                                    3080, 4096, 7680, 8192, 15360)]
    for name in ("DSA", "DH"):
        shapes += [(name, size, None) for size in (1024, 2048, 3072, 4096, 8192)]
    for curve in catalog.all_curves():
        if curve.order_bits is not None:  # Weierstrass curves; the EdDSA/XDH ones follow
            shapes.append(("EC", curve.order_bits, curve.name))
    for name in ("Ed25519", "Ed448", "X25519", "X448"):
        shapes.append((name, None, name.lower()))
    for name, info in sorted(_algorithms().items()):
        if info.pq_category is not None:
            shapes.append((name, None, None))
    return [key_usage(a, s, c, context) for a, s, c in shapes for context in KEY_CONTEXTS]


def _algorithms() -> dict[str, catalog.AlgorithmInfo]:
    names = catalog.known_names()["algorithm"]
    return {n: i for n in names if (i := catalog.algorithm_info(n)) is not None}


def _signature_probes() -> list[CryptoUsage]:
    pairs: set[tuple[str, str | None]] = set()
    for sig in catalog.all_signature_algorithms():
        if sig.hash == "params":  # RSASSA-PSS: the hash comes from its parameters
            pairs.update(("RSA-PSS", h) for h in ("SHA-1", "SHA-224", "SHA-256", "SHA-384",
                                                  "SHA-512", "MD5"))
        else:
            pairs.add((sig.scheme, sig.hash))
    return [signature_usage(scheme, hash_name, context, is_ca)
            for scheme, hash_name in sorted(pairs, key=str)
            for context in SIG_CONTEXTS for is_ca in (False, True)]


def _validity_probes() -> list[CryptoUsage]:
    def at(text: str) -> datetime:
        return datetime.fromisoformat(text).replace(tzinfo=UTC)

    def span(start: str, days: int) -> tuple[datetime, datetime]:
        # lifetime_days counts notBefore..notAfter inclusive: notAfter = start + days - 1 s.
        return at(start), at(start) + timedelta(days=days) - timedelta(seconds=1)

    probes = []
    for start, days in (("2015-01-01", 365 * 5), ("2018-06-01", 825), ("2018-06-01", 826),
                        ("2020-10-01", 398), ("2020-10-01", 399), ("2025-12-01", 398),
                        ("2025-12-01", 399), ("2026-04-01", 200), ("2026-04-01", 201),
                        ("2026-10-01", 200), ("2026-10-01", 201), ("2027-04-01", 100),
                        ("2027-04-01", 101), ("2029-04-01", 47), ("2029-04-01", 48),
                        ("2010-01-01", 365 * 30)):
        for is_ca in (False, True):
            probes.append(validity_usage(*span(start, days), is_ca=is_ca, self_signed=is_ca))
    return probes


def _protection_probes() -> list[CryptoUsage]:
    # The TLS and SSH catalogues' names (suites, groups, kex...) are not key-protection ciphers.
    protocol_names: set[str] = set()
    for module in catalog.PROTOCOL_CATALOGUES:
        try:
            protocol_names |= importlib.import_module(module).known_names()["algorithm"]
        except ModuleNotFoundError:
            continue
    names = sorted(catalog.known_names()["algorithm"] - set(_algorithms()) - protocol_names)
    return [protection_usage(n) for n in names + ["none"]]


KEY_PROBES = _key_probes()
SIGNATURE_PROBES = _signature_probes()
VALIDITY_PROBES = _validity_probes()
PROTECTION_PROBES = _protection_probes()
PROBES = KEY_PROBES + SIGNATURE_PROBES + VALIDITY_PROBES + PROTECTION_PROBES
# What the catalogue does not know: must never be matched by any rule.
UNKNOWN_PROBES = (
    [key_usage("unknown", None, None, context) for context in KEY_CONTEXTS]
    + [signature_usage("unknown", None, context) for context in SIG_CONTEXTS]
    + [protection_usage("unknown")]
)
# A known algorithm whose parameters could not be read: never approved (nothing is guessed),
# though a rule that holds whatever the parameters (IR 8547's "any strength") may judge it.
UNREAD_PARAMETER_PROBES = (
    [key_usage("EC", None, None, context) for context in KEY_CONTEXTS]  # curve not named
    + [key_usage("RSA", None, None, "private-key", encrypted=True)]  # size not readable
    + [key_usage("DSA", None, None, "public-key")]
)


# Rules that restate, with their own guidance's citation, an approval a parent already gives:
# on a tie the parent's rule is named first, the child's is listed in the verdict's ``also``.
# (None today: nist-ir8547 disables the parent's post-quantum approvals it restates.)
RESTATEMENTS: set[str] = set()


@pytest.fixture(scope="module", params=SHIPPED)
def policy(request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    return load_policy(request.param)


# ---- the records are complete ---------------------------------------------------------------


def test_every_policy_ships() -> None:
    assert set(SHIPPED) <= set(shipped_policy_ids())
    assert load_policy(None).id == "nhs-acagpg"  # the default


def test_policy_header_and_changelog(policy) -> None:  # type: ignore[no-untyped-def]
    assert policy.title and policy.version and len(policy.description) > 100
    assert policy.changelog, "every policy has a [[changelog]]"
    for entry in policy.changelog:
        assert {"version", "date", "changes"} <= set(entry)
    assert any(e["version"] == policy.version for e in policy.changelog)


def test_every_rule_is_a_complete_record(policy) -> None:  # type: ignore[no-untyped-def]
    text = (POLICY_DIR / f"{policy.id}.toml").read_text("utf-8")
    raw_rules = text.count("\n[[rule]]")
    own = [r for r in policy.rules if r.policy_id == policy.id]
    assert len(own) == raw_rules
    for rule in own:
        assert rule.id.startswith(ID_PREFIX[policy.id]), rule.id
        assert rule.summary and "\n" not in rule.summary, rule.id
        assert rule.contexts and rule.citations, rule.id
        # severity is written out in every shipped rule, not left to the default
        block = text[text.index(f'id = "{rule.id}"'):]
        block = block[:block.find("\n[[rule]]")] if "\n[[rule]]" in block else block
        assert re.search(r"^severity = ", block, re.MULTILINE), f"{rule.id}: severity not written"
        assert re.search(r"^\[rule\.match\]", block, re.MULTILINE), f"{rule.id}: no [rule.match]"
        for citation in rule.citations:
            assert citation.document and (citation.section or citation.url), rule.id
            assert citation.confirmation in ("C", "R", "U", "I"), rule.id
        # what is unconfirmed or inferred says so, and says why, in the rationale
        if any(c.confirmation in ("U", "I") for c in rule.citations):
            assert rule.rationale, f"{rule.id}: U/I citation without a rationale"
        for context in rule.contexts:
            # tls.* / ssh.* contexts are checked by their packages' tests (test_tls_policies...)
            assert context in CONTEXTS or context.startswith(("tls.", "ssh.")), \
                f"{rule.id}: context {context} not in usages.CONTEXTS"


def test_rule_ids_unique_across_shipped_files() -> None:
    owner: dict[str, str] = {}
    for policy_id in SHIPPED:
        for rule in load_policy(policy_id).rules:
            if rule.policy_id != policy_id:
                continue  # inherited through extends: the same rule, not a reuse
            assert rule.id not in owner, f"{rule.id} in {policy_id} and {owner[rule.id]}"
            owner[rule.id] = policy_id


def test_extends_inherits_the_parent_unchanged_but_for_what_it_disables() -> None:
    parent = load_policy("nist-sp800-131a-r2")
    child = load_policy("nist-ir8547")
    assert child.extends == ("nist-sp800-131a-r2",)
    disabled = {"NIST-KEY-PQC-001", "NIST-KEY-PQC-002", "NIST-SIG-PQC-001"}
    kept = tuple(r for r in parent.rules if r.id not in disabled)
    assert child.rules[:len(kept)] == kept
    assert not disabled & {r.id for r in child.rules}
    assert child.files == ("policies/nist-sp800-131a-r2.toml", "policies/nist-ir8547.toml")


# ---- coverage: every well-known usage is judged, every unknown one is not ---------------------


@pytest.mark.parametrize("as_of", DATES[2:], ids=str)
def test_no_known_usage_falls_to_unknown(policy, as_of: date) -> None:  # type: ignore[no-untyped-def]
    unjudged = [f"{u.context} {u.describe()}" for u in PROBES
                if evaluate(u, policy, as_of).status is Status.UNKNOWN]
    assert not unjudged, f"{policy.id} as of {as_of}: no rule for {unjudged}"


@pytest.mark.parametrize("as_of", DATES, ids=str)
def test_unknown_algorithms_stay_unmatched(policy, as_of: date) -> None:  # type: ignore[no-untyped-def]
    for usage in UNKNOWN_PROBES:
        verdict = evaluate(usage, policy, as_of)
        assert verdict.status is Status.UNKNOWN, (usage, verdict.rule_id)
    for usage in UNREAD_PARAMETER_PROBES:
        verdict = evaluate(usage, policy, as_of)
        assert verdict.status is not Status.APPROVED, (usage, verdict.rule_id)


def test_every_rule_triggers_and_is_specific(policy) -> None:  # type: ignore[no-untyped-def]
    # Rules for tls.* / ssh.* contexts are held to this by their packages' tests, with probes
    # of their own (tests/test_tls_policies.py); the probes here are certificates and keys.
    for rule in (r for r in policy.rules if any(r.covers(c) for c in CONTEXTS)):
        days = [d for d in DATES if rule.in_force(d)]
        assert days, f"{rule.id} is never in force at the probe dates"
        hits = [u for u in PROBES if any(rule.applies_to(u, d) for d in days)]
        assert hits, f"{rule.id} triggers on no probe usage"
        assert len(hits) < len(PROBES), f"{rule.id} triggers on every probe usage"
        # and it decides at least one of them (is not always masked by a worse rule)
        decided = [u for u in hits for d in days if evaluate(u, policy, d).rule_id == rule.id]
        assert decided or rule.id in RESTATEMENTS, f"{rule.id} never decides a verdict"


# ---- the verdicts the guidance gives (spot checks against the reference) ---------------------


def status(policy_id: str, usage: CryptoUsage, as_of: date = AS_OF) -> str:
    return evaluate(usage, load_policy(policy_id), as_of).status.value


@pytest.mark.parametrize("policy_id", ["nhs-acagpg", "nist-sp800-131a-r2"])
def test_sp800_131a_floor(policy_id: str) -> None:
    assert status(policy_id, key_usage("RSA", 1024)) == "disallowed"
    assert status(policy_id, key_usage("RSA", 2048)) == "approved"
    assert status(policy_id, key_usage("DSA", 1024)) == "disallowed"
    assert status(policy_id, key_usage("DSA", 2048)) == "approved"
    assert status(policy_id, key_usage("EC", 192, "secp192r1")) == "disallowed"
    assert status(policy_id, key_usage("EC", 224, "secp224r1")) == "approved"
    assert status(policy_id, key_usage("EC", 256, "brainpoolP256r1")) == "approved"
    assert status(policy_id, key_usage("EC", 256, "SM2")) == "disallowed"
    assert status(policy_id, key_usage("Ed25519", None, "ed25519")) == "approved"
    assert status(policy_id, key_usage("ML-DSA-65")) == "approved"
    assert status(policy_id, signature_usage("RSA", "SHA-1")) == "disallowed"
    assert status(policy_id, signature_usage("RSA", "SHA-1",
                                             "certificate.self-signature")) == "legacy"
    assert status(policy_id, signature_usage("RSA", "MD5")) == "disallowed"
    assert status(policy_id, signature_usage("RSA", "MD2",
                                             "certificate.self-signature")) == "deprecated"
    assert status(policy_id, signature_usage("ECDSA", "SHA-256")) == "approved"
    assert status(policy_id, protection_usage("none")) == "disallowed"
    assert status(policy_id, protection_usage("DES")) == "disallowed"
    assert status(policy_id, protection_usage("AES-256")) == "approved"


@pytest.mark.parametrize("policy_id", ["nhs-acagpg", "nist-sp800-131a-r2"])
def test_3tdea_key_protection_by_date(policy_id: str) -> None:
    tdea = protection_usage("3TDEA")
    assert status(policy_id, tdea, date(2023, 12, 31)) == "deprecated"
    assert status(policy_id, tdea, date(2024, 1, 1)) == "disallowed"


def test_nhs_validity() -> None:
    now = datetime(2026, 11, 22, tzinfo=UTC)
    expired = validity_usage(now - timedelta(days=400), now - timedelta(days=1))
    future = validity_usage(now + timedelta(days=2), now + timedelta(days=90))
    current = validity_usage(now - timedelta(days=10), now + timedelta(days=80))
    assert status("nhs-acagpg", expired) == "disallowed"
    assert status("nhs-acagpg", future) == "deprecated"
    assert status("nhs-acagpg", current) == "approved"


def test_chacha20_key_protection_differs_by_policy() -> None:
    chacha = protection_usage("ChaCha20")
    assert status("nhs-acagpg", chacha) == "approved"  # project decision
    assert status("nist-sp800-131a-r2", chacha) == "disallowed"  # not a NIST cipher


def test_cnsa() -> None:
    assert status("cnsa-2.0", key_usage("ML-DSA-87")) == "approved"
    assert status("cnsa-2.0", key_usage("ML-KEM-1024")) == "approved"
    assert status("cnsa-2.0", key_usage("ML-DSA-65")) == "disallowed"
    assert status("cnsa-2.0", key_usage("SLH-DSA-SHA2-256s")) == "disallowed"
    assert status("cnsa-2.0", key_usage("RSA", 3072)) == "deprecated"
    assert status("cnsa-2.0", key_usage("RSA", 3072), date(2033, 1, 1)) == "disallowed"
    assert status("cnsa-2.0", key_usage("RSA", 2048)) == "disallowed"
    assert status("cnsa-2.0", key_usage("EC", 384, "secp384r1")) == "deprecated"
    assert status("cnsa-2.0", key_usage("EC", 256, "secp256r1")) == "disallowed"
    assert status("cnsa-2.0", signature_usage("ECDSA", "SHA-384")) == "deprecated"
    assert status("cnsa-2.0", signature_usage("ECDSA", "SHA-256")) == "disallowed"
    assert status("cnsa-2.0", signature_usage("ML-DSA-87", None)) == "approved"
    assert status("cnsa-2.0", protection_usage("AES-128")) == "disallowed"
    assert status("cnsa-2.0", protection_usage("AES-256")) == "approved"


def test_cabf_keys_and_signatures() -> None:
    assert status("cabf-br", key_usage("RSA", 2048)) == "approved"
    assert status("cabf-br", key_usage("RSA", 2049)) == "disallowed"
    assert evaluate(key_usage("RSA", 2052), load_policy("cabf-br"),
                    AS_OF).rule_id == "BR-6.1.5-RSA-MOD8"
    assert status("cabf-br", key_usage("RSA", 1024)) == "disallowed"
    assert status("cabf-br", key_usage("RSA-PSS", 2048)) == "disallowed"
    assert status("cabf-br", key_usage("EC", 256, "secp256r1")) == "approved"
    assert status("cabf-br", key_usage("EC", 256, "secp256k1")) == "disallowed"
    assert status("cabf-br", key_usage("EC", 256, "brainpoolP256r1")) == "disallowed"
    assert status("cabf-br", key_usage("Ed25519", None, "ed25519")) == "disallowed"
    assert status("cabf-br", key_usage("DSA", 2048)) == "disallowed"
    assert status("cabf-br", signature_usage("RSA-PSS", "SHA-256")) == "approved"
    assert status("cabf-br", signature_usage("RSA", "SHA-224")) == "disallowed"
    assert status("cabf-br", signature_usage("RSA", "SHA-1"), date(2015, 6, 1)) == "deprecated"
    assert status("cabf-br", signature_usage("RSA", "SHA-1")) == "disallowed"


@pytest.mark.parametrize(("issued", "days", "expected", "rule"), [
    ("2018-03-01", 825, "approved", "BR-CERT-VALID"),
    ("2018-03-01", 826, "disallowed", "BR-6.3.2-LIFETIME-825"),
    ("2020-09-01", 398, "approved", "BR-CERT-VALID"),
    ("2020-09-01", 399, "disallowed", "BR-6.3.2-LIFETIME-398"),
    ("2026-03-14", 398, "approved", "BR-CERT-VALID"),
    ("2026-03-15", 200, "approved", "BR-CERT-VALID"),
    ("2026-03-15", 201, "disallowed", "BR-6.3.2-LIFETIME-200"),
    ("2027-03-15", 100, "approved", "BR-CERT-VALID"),
    ("2027-03-15", 101, "disallowed", "BR-6.3.2-LIFETIME-100"),
    ("2029-03-15", 47, "approved", "BR-CERT-VALID"),
    ("2029-03-15", 48, "disallowed", "BR-6.3.2-LIFETIME-47"),
])
def test_cabf_subscriber_lifetime_by_issuance_date(issued: str, days: int, expected: str,
                                                    rule: str) -> None:
    start = datetime.fromisoformat(issued).replace(tzinfo=UTC)
    usage = validity_usage(start, start + timedelta(days=days) - timedelta(seconds=1))
    verdict = evaluate(usage, load_policy("cabf-br"), start.date() + timedelta(days=1))
    assert (verdict.status.value, verdict.rule_id) == (expected, rule)
    # CA certificates have no §6.3.2 limit
    ca = validity_usage(start, start + timedelta(days=days + 3650), is_ca=True)
    assert evaluate(ca, load_policy("cabf-br"), start.date() + timedelta(days=1)).status \
        is Status.APPROVED


def test_cabf_lifetime_counts_a_partial_day_as_a_day() -> None:
    # BR §6.3.2: 398 days and one second is 399 days.
    start = datetime(2021, 1, 1, tzinfo=UTC)
    usage = validity_usage(start, start + timedelta(days=398))
    assert usage.attribute("lifetime_days") == 399
    assert status("cabf-br", usage, date(2021, 2, 1)) == "disallowed"


# ---- the NIST IR 8547 transition (the acceptance test, engine level) ----------------


def test_ir8547_2031_deprecates_rsa2048_not_p256() -> None:
    rsa = key_usage("RSA", 2048)
    p256 = key_usage("EC", 256, "secp256r1")
    policy = load_policy("nist-ir8547")
    assert evaluate(rsa, policy, date(2030, 12, 31)).status is Status.APPROVED
    verdict = evaluate(rsa, policy, date(2031, 1, 1))
    assert (verdict.status, verdict.rule_id) == (Status.DEPRECATED, "IR8547-QV-112-2031")
    assert evaluate(p256, policy, date(2031, 1, 1)).status is Status.APPROVED


def test_ir8547_2036_disallows_every_quantum_vulnerable_key() -> None:
    policy = load_policy("nist-ir8547")
    day = date(2036, 1, 1)
    for usage in (key_usage("RSA", 2048), key_usage("EC", 256, "secp256r1"),
                  key_usage("RSA", 4096), key_usage("EC", 521, "secp521r1"),
                  key_usage("Ed25519", None, "ed25519"), key_usage("Ed448", None, "ed448"),
                  key_usage("X25519", None, "x25519"), key_usage("DSA", 3072),
                  key_usage("DH", 4096)):
        assert evaluate(usage, policy, date(2035, 12, 31)).status is not Status.DISALLOWED
        verdict = evaluate(usage, policy, day)
        assert (verdict.status, verdict.rule_id) == (Status.DISALLOWED, "IR8547-QV-2036"), usage
    for name in ("ML-DSA-44", "ML-DSA-87", "SLH-DSA-SHAKE-256f", "ML-KEM-768"):
        assert evaluate(key_usage(name), policy, day).status is Status.APPROVED
    assert evaluate(signature_usage("ECDSA", "SHA-256"), policy, day).status \
        is Status.DISALLOWED
    assert evaluate(signature_usage("ML-DSA-65", None), policy, day).status is Status.APPROVED


def test_ir8547_leaves_the_parent_verdict_before_2031() -> None:
    parent, child = load_policy("nist-sp800-131a-r2"), load_policy("nist-ir8547")
    for usage in PROBES:
        assert evaluate(usage, child, AS_OF).status is evaluate(usage, parent, AS_OF).status


# ---- broken policy files are refused with file and line --------------------------------------

GOOD_RULE = '''
[[rule]]
id = "T-1"
summary = "RSA of 2048 bits or more is approved"
status = "approved"
severity = "none"
contexts = ["certificate.public-key"]
[rule.match]
algorithm = "RSA"
key_size = { ge = 2048 }
[[rule.citation]]
document = "NIST SP 800-131A Rev. 2"
section = "§3, Table 2"
confirmation = "R"
'''


def head(policy_id: str = "t", extra: str = "") -> str:
    return f'[policy]\nid = "{policy_id}"\ntitle = "test"\nversion = "1"\n{extra}\n'


def refused(tmp_path: Path, text: str, name: str = "broken.toml") -> PolicyError:
    path = tmp_path / name
    path.write_text(text, "utf-8")
    with pytest.raises(PolicyError) as caught:
        load_policy(path)
    return caught.value


def line_of(text: str, needle: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), 1) if needle in line)


@pytest.mark.parametrize(("broken", "needle", "message"), [
    ('algorithm = "RSA"', 'algorithm = "RSA-4096"', "not in the algorithm catalogue"),
    ('status = "approved"', 'status = "acceptable"', "unknown status"),
    ('key_size = { ge = 2048 }', 'key_size = { atleast = 2048 }', "unknown operator"),
    ('key_size = { ge = 2048 }', 'keysize = 2048', "cannot match on"),
    ('confirmation = "R"', 'confirmation = "X"', "confirmation must be"),
    ('severity = "none"', 'severity = "urgent"', "severity"),
])
def test_broken_rule_refused_with_file_and_line(tmp_path: Path, broken: str, needle: str,
                                                message: str) -> None:
    text = head() + GOOD_RULE + GOOD_RULE.replace("T-1", "T-2").replace(broken, needle)
    error = refused(tmp_path, text)
    assert error.file.endswith("broken.toml")
    # the line is the offending key inside the second rule
    second = text.index('id = "T-2"')
    expected = text[:second].count("\n") + text[second:].splitlines().index(needle) + 1
    assert error.line == expected, (error, expected)
    assert message in error.message


def test_rule_without_citation_refused(tmp_path: Path) -> None:
    rule = GOOD_RULE.split("[[rule.citation]]")[0]
    text = head() + GOOD_RULE + rule.replace("T-1", "T-2")
    error = refused(tmp_path, text)
    assert error.line == line_of(text, 'id = "T-2"') - 1  # the [[rule]] header
    assert "citation" in error.message


def test_toml_syntax_error_has_a_line(tmp_path: Path) -> None:
    text = head() + GOOD_RULE + '\n[[rule]]\nid = "T-2\n'
    error = refused(tmp_path, text)
    assert error.line is not None and error.line >= line_of(text, 'id = "T-2')


def test_duplicate_rule_id_refused(tmp_path: Path) -> None:
    text = head() + GOOD_RULE + GOOD_RULE
    error = refused(tmp_path, text)
    assert "duplicate rule id" in error.message
    second_id = [n for n, line in enumerate(text.splitlines(), 1) if line == 'id = "T-1"'][1]
    assert error.line == second_id


def test_reusing_a_shipped_rule_id_in_a_child_refused(tmp_path: Path) -> None:
    text = head(extra='extends = ["nist-sp800-131a-r2"]') + GOOD_RULE.replace(
        "T-1", "NIST-KEY-RSA-001")
    error = refused(tmp_path, text)
    assert "duplicate rule id" in error.message


def test_extends_and_disable(tmp_path: Path) -> None:
    child = tmp_path / "child.toml"
    child.write_text(head("child", 'extends = ["nhs-acagpg"]\ndisable = ["NHS-KEY-RSA-001"]')
                     + GOOD_RULE.replace("ge = 2048", "lt = 2048").replace(
                         '"approved"', '"deprecated"', 1).replace(
                         'severity = "none"', 'severity = "medium"'), "utf-8")
    policy = load_policy(child)
    assert policy.rule("NHS-KEY-RSA-001") is None
    assert policy.rule("NHS-KEY-RSA-002") is not None
    verdict = evaluate(key_usage("RSA", 1024), policy, AS_OF)
    assert (verdict.status, verdict.rule_id) == (Status.DEPRECATED, "T-1")


def test_disable_of_unknown_rule_refused(tmp_path: Path) -> None:
    text = head(extra='extends = ["nhs-acagpg"]\ndisable = ["NHS-NO-SUCH-RULE"]') + GOOD_RULE
    error = refused(tmp_path, text)
    assert error.line == line_of(text, "disable =")
    assert "NHS-NO-SUCH-RULE" in error.message


def test_extends_cycle_refused(tmp_path: Path) -> None:
    (tmp_path / "a.toml").write_text(head("a", 'extends = ["b.toml"]') + GOOD_RULE, "utf-8")
    (tmp_path / "b.toml").write_text(head("b", 'extends = ["a.toml"]')
                                     + GOOD_RULE.replace("T-1", "T-9"), "utf-8")
    with pytest.raises(PolicyError) as caught:
        load_policy(tmp_path / "a.toml")
    assert "cycle" in caught.value.message


def test_extends_of_missing_policy_refused(tmp_path: Path) -> None:
    text = head(extra='extends = ["no-such-policy"]') + GOOD_RULE
    error = refused(tmp_path, text)
    assert error.file.endswith("broken.toml") and error.line == line_of(text, "extends =")


# ---- waivers ----------------------------------------------------------------------------------


def write_waivers(tmp_path: Path, expires: str, rule: str = "NHS-PRIVKEY-PLAINTEXT-001") -> Path:
    path = tmp_path / "waivers.toml"
    path.write_text(f'''
[[waiver]]
id = "W-1"
owner = "web-team@example.org"
reason = "nginx needs the key in clear; file is 0600 root"
expires = {expires}
[waiver.match]
rule = "{rule}"
path = "probe.*"
''', "utf-8")
    return path


def test_waiver_applied(tmp_path: Path) -> None:
    waivers = load_waivers(write_waivers(tmp_path, "2027-06-30"))
    finding = judge(protection_usage("none"), load_policy("nhs-acagpg"), AS_OF, waivers)
    assert finding.status is Status.DISALLOWED  # keeps its status
    assert finding.waived and finding.waiver == waivers[0]
    assert finding.waiver_note is None


def test_expired_waiver_not_applied_and_says_so(tmp_path: Path) -> None:
    waivers = load_waivers(write_waivers(tmp_path, "2026-01-31"))
    finding = judge(protection_usage("none"), load_policy("nhs-acagpg"), AS_OF, waivers)
    assert not finding.waived
    assert finding.waiver_note and "W-1" in finding.waiver_note and "2026-01-31" in \
        finding.waiver_note


def test_waiver_for_another_rule_does_not_apply(tmp_path: Path) -> None:
    waivers = load_waivers(write_waivers(tmp_path, "2027-06-30", rule="NHS-KEY-*"))
    finding = judge(protection_usage("none"), load_policy("nhs-acagpg"), AS_OF, waivers)
    assert not finding.waived and finding.waiver_note is None


def test_broken_waiver_refused_with_line(tmp_path: Path) -> None:
    path = tmp_path / "waivers.toml"
    path.write_text('[[waiver]]\nid = "W-1"\nowner = "x"\nreason = "y"\nexpires = 2027-01-01\n'
                    '[waiver.match]\nrule = "NHS-*"\n\n[[waiver]]\nid = "W-2"\nowner = "x"\nreason = "y"\nexpires = "soon"\n'
                    '[waiver.match]\nrule = "NHS-*"\n', "utf-8")
    with pytest.raises(PolicyError) as caught:
        load_waivers(path)
    assert caught.value.line == 9  # the second [[waiver]] header
    assert "expires" in caught.value.message


def test_waiver_type_is_the_model_record(tmp_path: Path) -> None:
    waivers = load_waivers(write_waivers(tmp_path, "2027-06-30"))
    assert isinstance(waivers[0], Waiver) and waivers[0].owner == "web-team@example.org"


@pytest.mark.tools
def test_waiver_sha256_as_openssl_prints_it(tmp_path: Path) -> None:
    """`openssl x509 -fingerprint -sha256` gives colons and capitals: kept as plain lower-case
    hex (what certificates' sha256 facts and the report schema hold); not hex is refused."""
    certificate = CORPUS / "certs" / "leaf-ec-p256.pem"
    printed = subprocess.run(["openssl", "x509", "-in", str(certificate), "-noout",
                              "-fingerprint", "-sha256"], capture_output=True, text=True,
                             check=True).stdout.strip().split("=", 1)[1]
    assert ":" in printed
    path = tmp_path / "waivers.toml"
    body = ('[[waiver]]\nid = "W-1"\nowner = "x"\nreason = "y"\nexpires = 2027-01-01\n'
            '[waiver.match]\nsha256 = "{}"\n')
    path.write_text(body.format(printed), "utf-8")
    (waiver,) = load_waivers(path)
    der = x509.load_pem_x509_certificate(certificate.read_bytes()).public_bytes(
        serialization.Encoding.DER)
    assert waiver.sha256 == hashlib.sha256(der).hexdigest()
    path.write_text(body.format("not-a-digest"), "utf-8")
    with pytest.raises(PolicyError, match="64 hex"):
        load_waivers(path)
