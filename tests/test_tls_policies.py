"""The TLS policies (and the TLS rules of the shared ones): complete records, every rule
triggers on and decides a TLS usage the catalogue can produce, and spot checks against the
reference (shared/reference/crypto-guidance-facts.md §1.2, §5, §6, §7)."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest

from cryptocheck.catalog import tls as tls_catalog
from cryptocheck.model import CryptoUsage, Status
from cryptocheck.policy import evaluate, load_policy, shipped_policy_ids
from cryptocheck.sources.files.usages import CONTEXTS as KEY_CONTEXTS
from cryptocheck.sources.tls import usages

POLICY_DIR = Path(__file__).resolve().parents[1] / "policies"
TLS_POLICIES: dict[str, str | tuple[str, ...]] = {"mozilla-modern": "MOZ-MOD-", "mozilla-intermediate": "MOZ-INT-",
                "mozilla-old": "MOZ-OLD-", "ncsc-tls": "NCSC-TLS-", "bsi-tr-02102-2": "BSI-TLS-"}
SHARED: dict[str, str | tuple[str, ...]] = {"nhs-acagpg": "NHS-TLS-", "nist-sp800-131a-r2": "NIST-TLS-",
          "cnsa-2.0": ("CNSA2-TLS-", "CNSA1-TLS-")}
TLS_CONTEXTS = ("tls.protocol", "tls.cipher-suite", "tls.key-exchange", "tls.group",
                "tls.dh-parameters", "tls.signature-scheme")
DATES = (date(2023, 6, 1), date(2025, 6, 1), date(2026, 11, 22), date(2030, 6, 1), date(2033, 1, 1))


def _probes() -> list[CryptoUsage]:
    probes = [usages.protocol_usage(p) for p in tls_catalog.PROTOCOLS]
    for suite in tls_catalog.cipher_suites():
        for protocol in suite.protocols():
            probes.extend(usages.cipher_suite_usages(suite, protocol))
    probes.extend(usages.group_usage(g.name) for g in tls_catalog.groups())
    probes.extend(usages.dh_usage(bits, None) for bits in (512, 1024, 2048, 3072, 4096))
    for scheme in tls_catalog.signature_schemes():
        probes.extend(usages.signature_scheme_usage(scheme.name, p) for p in ("TLSv1.2", "TLSv1.3"))
    return probes


PROBES = _probes()


def status(policy: str, usage: CryptoUsage, as_of: date = date(2026, 11, 22)) -> str:
    return evaluate(usage, load_policy(policy), as_of).status.value


def suite(name: str, protocol: str = "TLSv1.2") -> CryptoUsage:
    found = tls_catalog.suite(name)
    assert found is not None, name
    return usages.cipher_suite_usages(found, protocol)[0]


def test_policies_ship() -> None:
    assert set(TLS_POLICIES) <= set(shipped_policy_ids())


@pytest.mark.parametrize("policy_id", [*TLS_POLICIES, *SHARED])
def test_tls_rules_are_complete_records(policy_id: str) -> None:
    prefix = {**TLS_POLICIES, **SHARED}[policy_id]
    policy = load_policy(policy_id)
    text = (POLICY_DIR / f"{policy_id}.toml").read_text("utf-8")
    rules = [r for r in policy.rules if any(c.startswith("tls.") for c in r.contexts)
             or policy_id in TLS_POLICIES]
    assert rules
    for rule in rules:
        assert rule.id.startswith(prefix), rule.id
        assert rule.summary and "\n" not in rule.summary
        block = text[text.index(f'id = "{rule.id}"'):]
        block = block[:block.find("\n[[rule]]")] if "\n[[rule]]" in block else block
        assert re.search(r"^severity = ", block, re.MULTILINE), rule.id
        assert re.search(r"^\[rule\.match\]", block, re.MULTILINE), rule.id
        for citation in rule.citations:
            assert citation.document and (citation.section or citation.url), rule.id
            assert citation.confirmation in ("C", "R", "U", "I"), rule.id
        if any(c.confirmation in ("U", "I") for c in rule.citations):
            assert rule.rationale, f"{rule.id}: U/I citation without a rationale"
        for context in rule.contexts:
            assert context in TLS_CONTEXTS or context in KEY_CONTEXTS, (rule.id, context)


@pytest.mark.parametrize("policy_id", [*TLS_POLICIES, *SHARED])
def test_every_tls_rule_triggers_is_specific_and_decides(policy_id: str) -> None:
    policy = load_policy(policy_id)
    for rule in policy.rules:
        if not any(rule.covers(c) for c in TLS_CONTEXTS):
            continue
        days = [d for d in DATES if rule.in_force(d)]
        assert days, rule.id
        hits = [u for u in PROBES if any(rule.applies_to(u, d) for d in days)]
        assert hits, f"{rule.id} triggers on no TLS usage"
        assert len(hits) < len(PROBES), f"{rule.id} triggers on every TLS usage"
        decided = [u for u in hits for d in days if evaluate(u, policy, d).rule_id == rule.id]
        assert decided, f"{rule.id} never decides a verdict"


# Where the guidance says nothing (reference: Mozilla lists no signature schemes; BSI's scheme
# list is U), usages stay unknown; everything else the catalogue can produce is judged.
SILENT = {"nhs-acagpg": (), "ncsc-tls": (), "bsi-tr-02102-2": ("tls.signature-scheme",),
          "mozilla-intermediate": ("tls.signature-scheme",)}


@pytest.mark.parametrize("policy_id", list(SILENT))
def test_default_and_profiles_judge_every_tls_usage(policy_id: str) -> None:
    # The default policy judges protocol versions, kx, au, cipher, MAC, groups and DH sizes of
    # everything the catalogue can produce; only what has no strength (GOST signature schemes)
    # may stay unknown.
    policy = load_policy(policy_id)
    unknown = [f"{u.context} {u.algorithm}" for u in PROBES
               if evaluate(u, policy, date(2026, 11, 22)).status is Status.UNKNOWN
               and u.context not in SILENT[policy_id]
               and not (u.context == "tls.signature-scheme" and u.strength is None)]
    assert not unknown, unknown[:20]


def test_nhs_spot_checks() -> None:
    assert status("nhs-acagpg", usages.protocol_usage("TLSv1.0")) == "disallowed"
    assert status("nhs-acagpg", usages.protocol_usage("TLSv1.2")) == "approved"
    assert status("nhs-acagpg", suite("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256")) == "approved"
    assert status("nhs-acagpg", suite("TLS_DHE_RSA_WITH_AES_256_CBC_SHA")) == "approved"
    assert status("nhs-acagpg", suite("TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256")) == "disallowed"
    assert status("nhs-acagpg", suite("TLS_RSA_WITH_AES_256_GCM_SHA384")) == "disallowed"
    assert status("nhs-acagpg", suite("TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA", "TLSv1.0")) == "disallowed"
    assert status("nhs-acagpg", suite("TLS_AES_128_GCM_SHA256", "TLSv1.3")) == "approved"
    assert status("nhs-acagpg", usages.dh_usage(1024, None)) == "disallowed"
    assert status("nhs-acagpg", usages.group_usage("X25519MLKEM768")) == "approved"
    assert status("nhs-acagpg", usages.signature_scheme_usage("rsa_pkcs1_sha1", "TLSv1.2")) == "disallowed"


def test_mozilla_spot_checks() -> None:
    assert status("mozilla-modern", usages.protocol_usage("TLSv1.2")) == "disallowed"
    assert status("mozilla-modern", suite("TLS_CHACHA20_POLY1305_SHA256", "TLSv1.3")) == "approved"
    assert status("mozilla-intermediate", suite("TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384")) == "approved"
    # v6.0 removed the DHE suites from Intermediate (reference §6.3).
    assert status("mozilla-intermediate", suite("TLS_DHE_RSA_WITH_AES_128_GCM_SHA256")) == "disallowed"
    assert status("mozilla-old", suite("TLS_RSA_WITH_3DES_EDE_CBC_SHA", "TLSv1.0")) == "approved"
    assert status("mozilla-old", usages.protocol_usage("SSLv3")) == "disallowed"
    assert status("mozilla-old", usages.dh_usage(1024, None)) == "disallowed"  # 5.8: 2048
    assert status("mozilla-intermediate", usages.group_usage("secp521r1")) == "disallowed"


def test_bsi_spot_checks_and_dates() -> None:
    tls12 = usages.protocol_usage("TLSv1.2")
    assert status("bsi-tr-02102-2", tls12) == "approved"
    assert status("bsi-tr-02102-2", tls12, date(2032, 1, 1)) == "deprecated"
    assert status("bsi-tr-02102-2", suite("TLS_CHACHA20_POLY1305_SHA256", "TLSv1.3")) == "disallowed"
    assert status("bsi-tr-02102-2", suite("TLS_AES_128_CCM_SHA256", "TLSv1.3")) == "approved"
    dhe = suite("TLS_DHE_RSA_WITH_AES_128_GCM_SHA256")
    assert status("bsi-tr-02102-2", dhe) == "approved"
    assert status("bsi-tr-02102-2", dhe, date(2030, 1, 1)) == "deprecated"
    assert status("bsi-tr-02102-2", usages.group_usage("ffdhe2048")) == "disallowed"
    assert status("bsi-tr-02102-2", usages.dh_usage(2048, None)) == "disallowed"
    assert status("bsi-tr-02102-2", usages.group_usage("SecP384r1MLKEM1024")) == "approved"


def test_ncsc_spot_checks() -> None:
    assert status("ncsc-tls", usages.protocol_usage("SSLv3")) == "disallowed"
    assert status("ncsc-tls", suite("TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256")) == "disallowed"
    assert status("ncsc-tls", suite("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256")) == "approved"


def test_nist_and_cnsa_spot_checks() -> None:
    triple_des = suite("TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA")
    assert status("nist-sp800-131a-r2", triple_des, date(2023, 6, 1)) == "deprecated"
    assert status("nist-sp800-131a-r2", triple_des) == "disallowed"
    rsa_kx = usages.cipher_suite_usages(tls_catalog.suite("TLS_RSA_WITH_AES_128_GCM_SHA256"),  # type: ignore[arg-type]
                                        "TLSv1.2")[1]
    assert rsa_kx.context == "tls.key-exchange"
    assert status("nist-sp800-131a-r2", rsa_kx) == "disallowed"
    assert status("nist-ir8547", usages.dh_usage(1024, None)) == "disallowed"  # inherited
    assert status("cnsa-2.0", usages.group_usage("MLKEM1024")) == "approved"
    assert status("cnsa-2.0", usages.group_usage("secp384r1")) == "deprecated"
    assert status("cnsa-2.0", usages.group_usage("secp384r1"), date(2033, 1, 1)) == "disallowed"
    assert status("cnsa-2.0", usages.group_usage("x25519")) == "disallowed"
    assert status("cnsa-2.0", suite("TLS_AES_256_GCM_SHA384", "TLSv1.3")) == "approved"
    assert status("cnsa-2.0", suite("TLS_AES_128_GCM_SHA256", "TLSv1.3")) == "disallowed"
