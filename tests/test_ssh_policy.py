"""ssh-hardening judges every SSH usage the catalogue can produce: each rule triggers and
decides, and spot verdicts follow reference §8 (RFC 9142, ssh-audit)."""

from __future__ import annotations

from datetime import date

import pytest

from cryptocheck import catalog
from cryptocheck.catalog import ssh as ssh_catalog
from cryptocheck.model import CryptoUsage, Location, Status
from cryptocheck.policy import load_policy
from cryptocheck.policy.engine import evaluate
from cryptocheck.sources.ssh.usages import algorithm_usages, gex_usage

AS_OF = date(2026, 11, 22)


def _probes() -> list[CryptoUsage]:
    usages: list[CryptoUsage] = []
    for kind in ssh_catalog.KINDS:
        for name in ssh_catalog.algorithms(kind):
            usages += algorithm_usages(kind, name)
            if kind == "host-key" and ssh_catalog.algorithm(kind, name).family == "RSA":  # type: ignore[union-attr]
                for bits in (1024, 2048, 3072, 4096):
                    usages += algorithm_usages(kind, name, key_size=bits)
    usages += [gex_usage(bits) for bits in (1024, 1536, 2048, 3072, 4096, 8192)]
    for algorithm, size, curve in (("RSA", 1024, None), ("RSA", 2048, None), ("RSA", 4096, None),
                                   ("DSA", 1024, None), ("EC", 256, "secp256r1"),
                                   ("Ed25519", None, "ed25519"), ("Ed448", None, "ed448")):
        usages.append(CryptoUsage(asset_id="k", context="public-key", algorithm=algorithm,
                                  location=Location(), key_size=size, curve=curve,
                                  strength=catalog.key_strength(algorithm, size, curve)))
    return usages


PROBES = _probes()


def status(usage: CryptoUsage) -> Status:
    return evaluate(usage, load_policy("ssh-hardening"), AS_OF).status


def test_every_rule_triggers_and_decides() -> None:
    policy = load_policy("ssh-hardening")
    for rule in policy.rules:
        assert rule.citations and rule.summary
        decided = [u for u in PROBES if evaluate(u, policy, AS_OF).rule_id == rule.id]
        assert decided, f"{rule.id} decides no SSH usage"


@pytest.mark.parametrize(("kind", "name", "key_size", "expected"), [
    ("kex", "diffie-hellman-group1-sha1", None, "disallowed"),
    ("kex", "diffie-hellman-group14-sha1", None, "disallowed"),
    ("kex", "diffie-hellman-group-exchange-sha1", None, "disallowed"),
    ("kex", "diffie-hellman-group14-sha256", None, "deprecated"),
    ("kex", "ecdh-sha2-nistp256", None, "deprecated"),
    ("kex", "mlkem768nistp256-sha256", None, "deprecated"),
    ("kex", "curve25519-sha256", None, "approved"),
    ("kex", "mlkem768x25519-sha256", None, "approved"),
    ("kex", "sntrup761x25519-sha512@openssh.com", None, "approved"),
    ("host-key", "ssh-rsa", 4096, "disallowed"),
    ("host-key", "ssh-dss", None, "disallowed"),
    ("host-key", "rsa-sha2-512", 1024, "disallowed"),
    ("host-key", "rsa-sha2-512", 2048, "deprecated"),
    ("host-key", "rsa-sha2-256", 3072, "approved"),
    ("host-key", "rsa-sha2-256", None, "deprecated"),
    ("host-key", "ecdsa-sha2-nistp384", None, "deprecated"),
    ("host-key", "ssh-ed25519", None, "approved"),
    ("cipher", "3des-cbc", None, "disallowed"),
    ("cipher", "arcfour256", None, "disallowed"),
    ("cipher", "aes128-cbc", None, "deprecated"),
    ("cipher", "aes256-gcm@openssh.com", None, "approved"),
    ("cipher", "chacha20-poly1305@openssh.com", None, "approved"),
    ("mac", "hmac-sha1-etm@openssh.com", None, "disallowed"),
    ("mac", "hmac-md5", None, "disallowed"),
    ("mac", "umac-64-etm@openssh.com", None, "deprecated"),
    ("mac", "hmac-sha2-256", None, "deprecated"),
    ("mac", "hmac-sha2-512-etm@openssh.com", None, "approved"),
])
def test_verdicts(kind: str, name: str, key_size: int | None, expected: str) -> None:
    (usage,) = algorithm_usages(kind, name, key_size=key_size)
    assert status(usage).value == expected


def test_gex_and_unknown() -> None:
    assert [status(gex_usage(b)).value for b in (1024, 2048, 4096)] == [
        "disallowed", "deprecated", "approved"]
    (unknown,) = algorithm_usages("cipher", "made-up-cipher@example.org")
    assert status(unknown) is Status.UNKNOWN


def test_catalogue_decomposition_and_known_names() -> None:
    group1 = ssh_catalog.algorithm("kex", "diffie-hellman-group1-sha1")
    assert group1 is not None
    assert (group1.family, group1.key_size, group1.hash, group1.strength) == ("DH", 1024, "SHA-1", 80)
    for name in ("mlkem768x25519-sha256", "sntrup761x25519-sha512"):
        hybrid = ssh_catalog.algorithm("kex", name)
        assert hybrid is not None and hybrid.family == "PQ-hybrid"
        assert hybrid.quantum_vulnerable is False
    assert ssh_catalog.algorithm("kex", "gss-group14-sha256-toWM5Slw5Ew8Mqkay+al2g==") is not None
    names = catalog.known_names()
    assert "diffie-hellman-group1-sha1" in names["algorithm"]
    # every curve and hash the SSH table names resolves in the core catalogue
    for kind in ssh_catalog.KINDS:
        for alg in ssh_catalog.algorithms(kind).values():
            if alg.curve:
                assert catalog.curve(alg.curve) is not None, alg.name
            if alg.hash:
                assert catalog.hash_algorithm(alg.hash) is not None, alg.name


@pytest.mark.parametrize(("kind", "name", "key_size", "expected"), [
    ("kex", "diffie-hellman-group1-sha1", None, "disallowed"),
    ("kex", "rsa1024-sha1", None, "disallowed"),
    ("kex", "diffie-hellman-group14-sha1", None, "disallowed"),
    ("kex", "diffie-hellman-group14-sha256", None, "approved"),
    ("kex", "curve25519-sha256", None, "approved"),
    ("kex", "mlkem768x25519-sha256", None, "approved"),
    ("host-key", "ssh-rsa", 4096, "disallowed"),
    ("host-key", "rsa-sha2-256", 1024, "disallowed"),
    ("host-key", "rsa-sha2-256", 2048, "approved"),
    ("host-key", "rsa-sha2-256", None, "unknown"),
    ("host-key", "ssh-ed25519", None, "approved"),
    ("cipher", "3des-cbc", None, "disallowed"),
    ("cipher", "aes128-ctr", None, "approved"),
    ("mac", "hmac-md5-etm@openssh.com", None, "disallowed"),
    ("mac", "hmac-sha1", None, "approved"),
])
def test_nhs_default_judges_ssh(kind: str, name: str, key_size: int | None,
                                expected: str) -> None:
    (usage,) = algorithm_usages(kind, name, key_size=key_size)
    assert evaluate(usage, load_policy("nhs-acagpg"), AS_OF).status.value == expected
    assert evaluate(gex_usage(1024), load_policy("nhs-acagpg"), AS_OF).status.value == "disallowed"


@pytest.mark.parametrize("policy_id", ["ssh-hardening", "nhs-acagpg", "nist-sp800-131a-r2",
                                       "nist-ir8547", "cnsa-2.0"])
def test_every_ssh_rule_of_every_policy_decides(policy_id: str) -> None:
    policy = load_policy(policy_id)
    ssh_rules = [r for r in policy.rules if any(c.startswith("ssh.") for c in r.contexts)]
    assert ssh_rules
    for rule in ssh_rules:
        days = [d for d in (AS_OF, date(2034, 1, 1)) if rule.in_force(d)]
        decided = [u for u in PROBES for d in days if evaluate(u, policy, d).rule_id == rule.id]
        assert decided, f"{policy_id}: {rule.id} decides no SSH usage"


@pytest.mark.parametrize(("policy_id", "kind", "name", "key_size", "expected"), [
    ("nist-sp800-131a-r2", "cipher", "chacha20-poly1305@openssh.com", None, "disallowed"),
    ("nist-sp800-131a-r2", "cipher", "aes128-gcm@openssh.com", None, "approved"),
    ("nist-sp800-131a-r2", "mac", "umac-128-etm@openssh.com", None, "disallowed"),
    ("nist-sp800-131a-r2", "mac", "hmac-sha2-256-etm@openssh.com", None, "approved"),
    ("nist-sp800-131a-r2", "kex", "diffie-hellman-group-exchange-sha1", None, "disallowed"),
    ("nist-sp800-131a-r2", "kex", "ecdh-sha2-nistp256", None, "approved"),
    ("nist-sp800-131a-r2", "host-key", "rsa-sha2-512", 2048, "approved"),
    ("cnsa-2.0", "kex", "mlkem1024nistp384-sha384", None, "approved"),
    ("cnsa-2.0", "kex", "ecdh-sha2-nistp384", None, "deprecated"),
    ("cnsa-2.0", "kex", "diffie-hellman-group16-sha512", None, "deprecated"),
    ("cnsa-2.0", "kex", "curve25519-sha256", None, "disallowed"),
    ("cnsa-2.0", "kex", "mlkem768x25519-sha256", None, "disallowed"),
    ("cnsa-2.0", "host-key", "ecdsa-sha2-nistp384", None, "deprecated"),
    ("cnsa-2.0", "host-key", "rsa-sha2-512", 3072, "deprecated"),
    ("cnsa-2.0", "host-key", "rsa-sha2-512", 2048, "disallowed"),
    ("cnsa-2.0", "host-key", "ssh-ed25519", None, "disallowed"),
    ("cnsa-2.0", "cipher", "aes256-gcm@openssh.com", None, "approved"),
    ("cnsa-2.0", "cipher", "aes128-ctr", None, "disallowed"),
    ("cnsa-2.0", "cipher", "chacha20-poly1305@openssh.com", None, "disallowed"),
    ("cnsa-2.0", "mac", "hmac-sha2-512-etm@openssh.com", None, "approved"),
    ("cnsa-2.0", "mac", "hmac-sha2-256", None, "disallowed"),
])
def test_shipped_policies_judge_ssh(policy_id: str, kind: str, name: str,
                                    key_size: int | None, expected: str) -> None:
    (usage,) = algorithm_usages(kind, name, key_size=key_size)
    assert evaluate(usage, load_policy(policy_id), AS_OF).status.value == expected


def test_cnsa_2033_disallows_cnsa1_ssh() -> None:
    (usage,) = algorithm_usages("kex", "ecdh-sha2-nistp384")
    assert evaluate(usage, load_policy("cnsa-2.0"), date(2033, 1, 1)).status is Status.DISALLOWED
    (hybrid,) = algorithm_usages("kex", "mlkem1024nistp384-sha384")
    assert evaluate(hybrid, load_policy("cnsa-2.0"), date(2033, 1, 1)).status is Status.APPROVED
    assert evaluate(gex_usage(4096), load_policy("cnsa-2.0"), AS_OF).status is Status.DEPRECATED
