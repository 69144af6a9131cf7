"""--mode compliance reaches the same verdict as the full inventory, in fewer connections."""

from __future__ import annotations

from datetime import date

import pytest
from servers.tls import FIXTURES, RC4_3DES, gnutls_serv, s_server

from cryptocheck.model import Asset, Status
from cryptocheck.policy import load_policy
from cryptocheck.run import bind, findings_for
from cryptocheck.sources.tls import TlsOptions, TlsStats, iter_tls_items

pytestmark = pytest.mark.tls_server
DAY = date(2026, 11, 22)
SERVERS = {
    "modern": (["-no_tls1", "-no_tls1_1", "-cipher",
                "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-AES128-GCM-SHA256",
                "-ciphersuites", "TLS_AES_256_GCM_SHA384:TLS_AES_128_GCM_SHA256",
                "-groups", "X25519:P-256"], "rsa"),
    "legacy": (["-min_protocol", "TLSv1", "-no_tls1_3", "-cipher",
                "AES128-SHA:ECDHE-RSA-AES256-SHA:@SECLEVEL=0"], "rsa"),
    "dhe1024": (["-no_tls1_3", "-dhparam", str(FIXTURES / "dh1024.pem"), "-cipher",
                 "DHE-RSA-AES256-GCM-SHA384:@SECLEVEL=0"], "rsa"),
    "tls13": (["-tls1_3", "-groups", "X25519:P-384:ffdhe2048"], "ecdsa"),
    "rc4-3des": ([RC4_3DES], "gnutls"),  # gnutls-serv: Debian's OpenSSL has neither
}
POLICIES = ("nhs-acagpg", "mozilla-intermediate", "mozilla-modern", "bsi-tr-02102-2")


def verdict(items: list[Asset], policy_id: str) -> tuple[Status | None, set[tuple[str, str]]]:
    """The worst status, and what is at least deprecated (context, algorithm)."""
    policy = load_policy(policy_id)
    worst: Status | None = None
    bad: set[tuple[str, str]] = set()
    for asset in items:
        for finding in findings_for(asset, policy, DAY):
            if worst is None or finding.status.rank > worst.rank:
                worst = finding.status
            if finding.status in (Status.DEPRECATED, Status.DISALLOWED):
                bad.add((finding.usage.context, finding.usage.algorithm))
    return worst, bad


@pytest.mark.parametrize("server", list(SERVERS))
def test_compliance_mode_gives_the_full_verdict(server: str) -> None:
    args, cert = SERVERS[server]
    with (gnutls_serv(args[0]) if cert == "gnutls" else s_server(*args, cert=cert)) as port:
        target = [f"127.0.0.1:{port}"]
        full_stats = TlsStats()
        full = list(iter_tls_items(target, TlsOptions(), full_stats))
        for policy_id in POLICIES:
            stats = TlsStats()
            options = bind("tls", TlsOptions(mode="compliance"), load_policy(policy_id), DAY)
            quick = list(iter_tls_items(target, options, stats))
            assert all(isinstance(i, Asset) for i in quick), quick  # type: ignore[arg-type]
            full_worst, full_bad = verdict(full, policy_id)  # type: ignore[arg-type]
            quick_worst, quick_bad = verdict(quick, policy_id)  # type: ignore[arg-type]
            failing = {Status.DISALLOWED}
            assert (full_worst in failing) == (quick_worst in failing), (policy_id, full_bad,
                                                                         quick_bad)
            # What compliance mode finds wrong, the full scan found too; and it finds every
            # failing suite and protocol version.
            assert quick_bad <= full_bad, (policy_id, quick_bad - full_bad)
            # (In a protocol version the policy rejects, one suite is enough to show it is
            # accepted: the version itself fails.)
            rejected = {b[1] for b in full_bad if b[0] == "tls.protocol"}
            wanted = {b for b in full_bad if b[0] == "tls.protocol"} | {
                (f.usage.context, f.usage.algorithm) for a in full
                for f in findings_for(a, load_policy(policy_id), DAY)  # type: ignore[arg-type]
                if f.usage.context == "tls.cipher-suite"
                and f.status in (Status.DEPRECATED, Status.DISALLOWED)
                and f.usage.attribute("protocol") not in rejected}
            assert wanted <= quick_bad, (policy_id, wanted - quick_bad)
            assert stats.connections < full_stats.connections, (policy_id, stats.connections)
