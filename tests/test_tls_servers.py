"""cryptocheck tls against real servers on 127.0.0.1: what it reports equals what each
server was configured to offer."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from servers.relays import concurrency_relay, hostile, starttls_front, tampering_relay
from servers.tls import (
    FIXTURES,
    NULL_CAMELLIA_CCM8,
    RC4_3DES,
    bundled_openssl_server,
    gnutls_serv,
    gnutls_suites,
    nginx,
    postgres_available,
    postgres_ssl,
    s_server,
)

from cryptocheck.catalog import tls as tls_catalog
from cryptocheck.model import CertificateAsset, EndpointAsset, RunError, Status
from cryptocheck.policy import load_policy
from cryptocheck.run import findings_for
from cryptocheck.sources.tls import TlsOptions, TlsStats, iter_tls_items

pytestmark = pytest.mark.tls_server  # every test but the last of the machine's PostgreSQL
OPTIONS = TlsOptions(read_timeout=3.0, connect_timeout=3.0, ca_files=(str(FIXTURES / "ca.pem"),))


def iana(*openssl_names: str) -> list[str]:
    """IANA names of OpenSSL suite names, in the order given."""
    out = []
    for name in openssl_names:
        suite = tls_catalog.suite_by_openssl_name(name)
        assert suite is not None, name
        out.append(suite.name)
    return out


def scan(target: str, options: TlsOptions = OPTIONS) -> tuple[EndpointAsset, list[CertificateAsset], TlsStats]:
    stats = TlsStats()
    items = list(iter_tls_items([target], options, stats))
    assert not [i for i in items if isinstance(i, RunError)], items
    endpoint = items[0]
    assert isinstance(endpoint, EndpointAsset)
    certs = [i for i in items[1:] if isinstance(i, CertificateAsset)]
    return endpoint, certs, stats


def accepted(endpoint: EndpointAsset) -> dict[str, Any]:
    return {p: e for p, e in endpoint.details["protocols"].items() if e["accepted"]}


def test_tls13_only() -> None:
    with s_server("-tls1_3", "-ciphersuites", "TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256",
                  "-groups", "X25519:P-384") as port:
        endpoint, certs, stats = scan(f"localhost:{port}")
    protocols = accepted(endpoint)
    assert list(protocols) == ["TLSv1.3"]
    assert set(protocols["TLSv1.3"]["cipher_suites"]) == {
        "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256"}
    assert set(endpoint.details["groups"]) == {"x25519", "secp384r1"}
    # The chain of a TLS 1.3-only server comes from a full handshake (pyOpenSSL).
    assert [c.subject for c in certs] == ["CN=localhost"]
    assert endpoint.details["certificates"] == [certs[0].id]
    assert certs[0].location.host == "localhost" and certs[0].location.index == 0
    check = endpoint.details["certificate_checks"][0]
    assert check["hostname_match"] is True
    assert check["trust"]["ca_files"]["trusted"] is True
    assert check["trust"]["certifi"]["trusted"] is False
    assert endpoint.details["connections"] == stats.connections


MODERN = ("ECDHE-RSA-AES256-GCM-SHA384", "ECDHE-RSA-CHACHA20-POLY1305",
          "ECDHE-RSA-AES128-GCM-SHA256")


@pytest.mark.parametrize("serverpref", [True, False])
def test_modern_12_13_server_order(serverpref: bool) -> None:
    args = ["-no_tls1", "-no_tls1_1", "-cipher", ":".join(MODERN),
            "-ciphersuites", "TLS_AES_256_GCM_SHA384:TLS_AES_128_GCM_SHA256",
            "-groups", "P-256:X25519"]
    if serverpref:
        args.append("-serverpref")
    with s_server(*args) as port:
        endpoint, certs, stats = scan(f"127.0.0.1:{port}")
    protocols = accepted(endpoint)
    assert list(protocols) == ["TLSv1.2", "TLSv1.3"]
    tls12, tls13 = protocols["TLSv1.2"], protocols["TLSv1.3"]
    assert tls12["server_order"] is serverpref and tls13["server_order"] is serverpref
    if serverpref:  # the order of the server's choices is its configured order
        assert tls12["cipher_suites"] == iana(*MODERN)
        assert tls13["cipher_suites"] == ["TLS_AES_256_GCM_SHA384", "TLS_AES_128_GCM_SHA256"]
    else:
        assert set(tls12["cipher_suites"]) == set(iana(*MODERN))
    assert set(endpoint.details["groups_by_protocol"]["TLSv1.2"]) == {"secp256r1", "x25519"}
    assert set(endpoint.details["groups_by_protocol"]["TLSv1.3"]) == {"secp256r1", "x25519"}
    assert [c.key_size for c in certs] == [2048]
    # Iterative removal: about (accepted + 1) connections per version, far from one per suite.
    assert stats.connections < 40


LEGACY = ("AES128-SHA", "AES256-SHA", "DHE-RSA-AES128-SHA", "ECDHE-RSA-AES256-SHA",
          "CAMELLIA256-SHA")


def test_legacy_tls10_11_cbc_static_rsa() -> None:
    with s_server("-min_protocol", "TLSv1", "-no_tls1_3", "-legacy_renegotiation",
                  "-cipher", ":".join(LEGACY) + ":@SECLEVEL=0", "-serverpref") as port:
        endpoint, _, _ = scan(f"127.0.0.1:{port}")
    protocols = accepted(endpoint)
    assert list(protocols) == ["TLSv1.0", "TLSv1.1", "TLSv1.2"]
    for entry in protocols.values():
        assert entry["cipher_suites"] == iana(*LEGACY)
        assert entry["server_order"] is True
    kx = {tls_catalog.suite(n).kx for n in protocols["TLSv1.0"]["cipher_suites"]}  # type: ignore[union-attr]
    assert "RSA" in kx  # static RSA key transport


def test_rc4_and_3des_served_by_gnutls() -> None:
    """Debian's OpenSSL 3 can no longer serve RC4 or 3DES; GnuTLS still can. What
    cryptocheck reports is what GnuTLS says the priority string enables, in its order."""
    expected = [tls_catalog.suite(code).name for code in gnutls_suites(RC4_3DES)]  # type: ignore[union-attr]
    assert any("_RC4_" in n for n in expected) and any("_3DES_" in n for n in expected)
    with gnutls_serv(RC4_3DES) as port:
        endpoint, certs, _ = scan(f"127.0.0.1:{port}")
    protocols = accepted(endpoint)
    assert list(protocols) == ["TLSv1.0", "TLSv1.1", "TLSv1.2"]
    for entry in protocols.values():
        assert entry["cipher_suites"] == expected
        assert entry["server_order"] is True
    assert [c.key_algorithm for c in certs] == ["RSA"]
    # The default policy forbids both (NHS guideline: no RC4, no 3DES in TLS).
    weak = {(f.usage.algorithm, f.status) for f in findings_for(endpoint, load_policy(None),
                                                                 date(2026, 11, 22))
            if f.usage.context == "tls.cipher-suite"
            and ("_RC4_" in f.usage.algorithm or "_3DES_" in f.usage.algorithm)}
    assert {name for name, _ in weak} == {n for n in expected if "_RC4_" in n or "_3DES_" in n}
    assert {status for _, status in weak} == {Status.DISALLOWED}


def test_null_camellia_ccm8_and_ffdhe_served_by_gnutls() -> None:
    expected = [tls_catalog.suite(code).name for code in gnutls_suites(NULL_CAMELLIA_CCM8)]  # type: ignore[union-attr]
    assert {"TLS_RSA_WITH_NULL_SHA", "TLS_RSA_WITH_CAMELLIA_128_GCM_SHA256",
            "TLS_DHE_RSA_WITH_AES_128_CCM_8"} <= set(expected)
    with gnutls_serv(NULL_CAMELLIA_CCM8) as port:
        endpoint, _, _ = scan(f"127.0.0.1:{port}")
    protocols = accepted(endpoint)
    assert list(protocols) == ["TLSv1.2"]
    assert protocols["TLSv1.2"]["cipher_suites"] == expected
    assert protocols["TLSv1.2"]["server_order"] is True
    # GnuTLS negotiates DHE in an RFC 7919 group when the client names one.
    assert endpoint.details["dh_parameters"] == [{"key_size": 2048, "group": "ffdhe2048"}]


def test_dhe_1024_bit_prime() -> None:
    with s_server("-no_tls1_3", "-dhparam", str(FIXTURES / "dh1024.pem"),
                  "-cipher", "DHE-RSA-AES128-GCM-SHA256:@SECLEVEL=0") as port:
        endpoint, _, _ = scan(f"127.0.0.1:{port}")
    assert accepted(endpoint)["TLSv1.2"]["cipher_suites"] == ["TLS_DHE_RSA_WITH_AES_128_GCM_SHA256"]
    assert endpoint.details["dh_parameters"] == [{"key_size": 1024, "group": None}]


def test_ecdsa_only() -> None:
    configured = ("ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-ECDSA-AES256-SHA384",
                  "ECDHE-RSA-AES128-GCM-SHA256")
    with s_server("-no_tls1_3", "-cipher", ":".join(configured), "-serverpref",
                  cert="ecdsa") as port:
        endpoint, certs, _ = scan(f"127.0.0.1:{port}")
    # The RSA suite is configured but cannot be served with an ECDSA key.
    assert accepted(endpoint)["TLSv1.2"]["cipher_suites"] == iana(*configured[:2])
    schemes = endpoint.details["signature_schemes"]["TLSv1.2"]
    assert schemes and all(s.startswith("ecdsa_") for s in schemes)
    assert "ecdsa_secp256r1_sha256" in schemes
    assert certs[0].key_algorithm == "EC" and certs[0].curve == "secp256r1"


def test_rsa_1024_sha1_certificate() -> None:
    with s_server("-cipher", "DEFAULT:@SECLEVEL=0", cert="weak") as port:
        _, certs, _ = scan(f"127.0.0.1:{port}")
    assert [(c.key_algorithm, c.key_size, c.signature_hash) for c in certs] == [
        ("RSA", 1024, "SHA-1")]


def test_ipv6_target() -> None:
    with s_server("-no_tls1_3", "-cipher", ":".join(MODERN), host="::1") as port:
        endpoint, certs, _ = scan(f"[::1]:{port}")
    assert endpoint.id == f"tls:[::1]:{port}" and endpoint.address == "::1"
    assert set(accepted(endpoint)["TLSv1.2"]["cipher_suites"]) == set(iana(*MODERN))
    assert certs[0].location.host == "::1"


def test_sni_selects_the_certificate() -> None:
    with s_server("-servername", "other.test", "-cert2", str(FIXTURES / "other.pem"),
                  "-key2", str(FIXTURES / "other.key"), "-no_tls1_3") as port:
        _, default_certs, _ = scan(f"127.0.0.1:{port}")
        endpoint, other_certs, _ = scan(f"127.0.0.1:{port}", TlsOptions(
            sni="other.test", ca_files=OPTIONS.ca_files))
    assert [c.subject for c in default_certs] == ["CN=localhost"]
    assert [c.subject for c in other_certs] == ["CN=other.test"]
    assert endpoint.id.endswith("#other.test")
    assert endpoint.details["certificate_checks"][0]["hostname_match"] is True


@pytest.mark.parametrize("protocol", ["smtp", "imap", "pop3", "ftp", "ldap", "xmpp"])
def test_starttls_reports_what_the_backend_offers(protocol: str) -> None:
    with s_server("-no_tls1_1", "-no_tls1", "-cipher", ":".join(MODERN), "-serverpref",
                  "-ciphersuites", "TLS_AES_128_GCM_SHA256") as backend:
        direct, _, _ = scan(f"127.0.0.1:{backend}")
        with starttls_front(backend, protocol) as port:
            endpoint, certs, _ = scan(f"{protocol}://127.0.0.1:{port}")
    assert endpoint.service == protocol
    assert endpoint.details["protocols"] == direct.details["protocols"]
    assert accepted(endpoint)["TLSv1.2"]["cipher_suites"] == iana(*MODERN)
    assert certs


def test_nginx() -> None:
    block = """
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_ciphers ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384:DHE-RSA-AES256-GCM-SHA384;
    ssl_prefer_server_ciphers on;
    ssl_ecdh_curve X25519:secp384r1;
    ssl_dhparam %s;
    """ % (FIXTURES / "ffdhe2048.pem")
    with nginx(block) as port:
        endpoint, certs, _ = scan(f"https://localhost:{port}/")
    protocols = accepted(endpoint)
    assert list(protocols) == ["TLSv1.2", "TLSv1.3"]
    assert protocols["TLSv1.2"]["cipher_suites"] == iana(
        "ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-RSA-AES256-GCM-SHA384", "DHE-RSA-AES256-GCM-SHA384")
    assert protocols["TLSv1.2"]["server_order"] is True
    assert set(endpoint.details["groups_by_protocol"]["TLSv1.2"]) == {"x25519", "secp384r1"}
    assert set(endpoint.details["groups_by_protocol"]["TLSv1.3"]) == {"x25519", "secp384r1"}
    assert certs[0].subject == "CN=localhost"
    assert endpoint.details["dh_parameters"] == [{"key_size": 2048, "group": "ffdhe2048"}]


def test_hostile_and_unreachable_targets_are_one_error_each() -> None:
    options = TlsOptions(read_timeout=0.5, connect_timeout=0.5, retries=0, target_timeout=20)
    with hostile("garbage") as garbage, hostile("stall") as stall, hostile("reset") as reset, \
            s_server("-no_tls1_3") as good:
        from servers.process import free_port

        closed = free_port()
        targets = [f"127.0.0.1:{p}" for p in (garbage, stall, reset, closed, good)]
        items = list(iter_tls_items(targets + ["host.invalid:99999"], options))
    errors = {e.location.port: e.reason for e in items if isinstance(e, RunError)}
    assert errors == {garbage: "not-tls", stall: "timeout", reset: "not-tls",
                      closed: "refused", None: "bad-target"}
    assert [i.location.port for i in items if isinstance(i, EndpointAsset)] == [good]


@pytest.mark.skipif(not postgres_available(), reason="PostgreSQL 15 binaries not installed")
def test_postgres_starttls() -> None:
    # The machine's own PostgreSQL (127.0.0.1:5432) runs with ssl = off and answers the
    # SSLRequest with "N"; this test starts a real PostgreSQL of its own with ssl = on.
    with postgres_ssl() as port:
        endpoint, certs, _ = scan(f"postgres://127.0.0.1:{port}")
    assert endpoint.service == "postgres"
    protocols = accepted(endpoint)
    assert set(protocols) == {"TLSv1.2", "TLSv1.3"}  # ssl_min_protocol_version = TLSv1.2
    assert protocols["TLSv1.3"]["cipher_suites"]
    assert [c.subject for c in certs] == ["CN=localhost"]


@pytest.mark.database
def test_the_machines_postgres_without_ssl_is_one_error() -> None:
    # The machine's own PostgreSQL at 127.0.0.1:5432 runs with ssl = off: SSLRequest -> "N".
    import socket

    try:
        with socket.create_connection(("127.0.0.1", 5432), 2) as sock:
            sock.sendall(b"\x00\x00\x00\x08\x04\xd2\x16\x2f")
            answer = sock.recv(1)
    except OSError:
        pytest.skip("no PostgreSQL listening on 127.0.0.1:5432")
    items = list(iter_tls_items(["postgres://127.0.0.1:5432"], OPTIONS))
    if answer == b"S":
        assert isinstance(items[0], EndpointAsset)
        return
    assert [(type(i).__name__, getattr(i, "reason", None)) for i in items] == [
        ("RunError", "starttls-failed")]
    assert "does not offer SSL" in items[0].message  # type: ignore[union-attr]


def test_cli_json_report_and_exit_codes(tmp_path: Any) -> None:
    import json
    import subprocess
    import sys
    from importlib import resources

    import jsonschema

    schema = json.loads(resources.files("cryptocheck.schema").joinpath(
        "report.schema.json").read_text("utf-8"))
    with s_server("-cipher", "DEFAULT:@SECLEVEL=0") as port:
        codes = {}
        for mode in ("full", "compliance"):
            out = tmp_path / f"{mode}.json"
            done = subprocess.run(
                [sys.executable, "-m", "cryptocheck", "tls", f"127.0.0.1:{port}", "--mode", mode,
                 "--format", "json", "-o", str(out), "--no-progress"],
                capture_output=True, text=True, check=False)
            codes[mode] = done.returncode
            report = json.loads(out.read_text())
            jsonschema.validate(report, schema)
            rules = {f["rule"] for f in report["findings"]}
            # Static RSA key exchange is outside the NHS cipher strings (reference §1.2).
            assert "NHS-TLS-SUITE-003" in rules and "NHS-TLS-KX-002" in rules
    # A server configured as Mozilla Modern (TLS 1.3 only, its groups, a P-256 key valid for
    # 90 days) passes the compliance check: exit 0.
    key, cert = tmp_path / "m.key", tmp_path / "m.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-keyout", str(key), "-out", str(cert),
                    "-days", "90", "-subj", "/CN=localhost", "-sha256"],
                   check=True, capture_output=True)
    with s_server("-tls1_3", "-groups", "X25519:P-256:P-384",
                  cert=str(tmp_path / "m")) as good:
        done = subprocess.run(
            [sys.executable, "-m", "cryptocheck", "tls", f"127.0.0.1:{good}",
             "--policy", "mozilla-modern", "--mode", "compliance", "--no-progress"],
            capture_output=True, text=True, check=False)
    assert codes == {"full": 1, "compliance": 1}
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("per_host", [1, 2])
def test_per_host_limit_is_kept(per_host: int) -> None:
    # Never more than --per-host connections open at once (counted where they are opened and
    # closed; a relay in front of the server sees a close only some time after it was made,
    # so it checks the total), and every connection the scanner counted reached the server.
    with s_server("-cipher", "DEFAULT:@SECLEVEL=0") as backend, \
            concurrency_relay(backend) as relay:
        stats = TlsStats()
        items = list(iter_tls_items([f"127.0.0.1:{relay.port}"],
                                    TlsOptions(per_host=per_host), stats))
    assert isinstance(items[0], EndpointAsset)
    assert stats.peak_per_host == per_host  # the limit is used, and kept
    assert relay.total == stats.connections


def _ocsp_response(tmp_path: Any) -> str:
    """A real OCSP response for the fixture RSA leaf, signed by the test CA (openssl ocsp)."""
    import subprocess
    from datetime import UTC, datetime, timedelta

    from cryptography import x509

    leaf = x509.load_pem_x509_certificate((FIXTURES / "rsa.pem").read_bytes())
    expiry = (datetime.now(UTC) + timedelta(days=3650)).strftime("%y%m%d%H%M%SZ")
    (tmp_path / "index.txt").write_text(
        f"V\t{expiry}\t\t{leaf.serial_number:X}\tunknown\t/CN=localhost\n")
    subprocess.run(["openssl", "ocsp", "-issuer", str(FIXTURES / "ca.pem"), "-cert",
                    str(FIXTURES / "rsa.pem"), "-reqout", str(tmp_path / "req.der"),
                    "-no_nonce"], check=True, capture_output=True)
    subprocess.run(["openssl", "ocsp", "-index", str(tmp_path / "index.txt"), "-rsigner",
                    str(FIXTURES / "ca.pem"), "-rkey", str(FIXTURES / "ca.key"), "-CA",
                    str(FIXTURES / "ca.pem"), "-reqin", str(tmp_path / "req.der"), "-respout",
                    str(tmp_path / "resp.der"), "-ndays", "3650"], check=True,
                   capture_output=True)
    return str(tmp_path / "resp.der")


@pytest.mark.parametrize("version", ["-no_tls1_3", "-tls1_3"])
def test_ocsp_stapling_seen(tmp_path: Any, version: str) -> None:
    response = _ocsp_response(tmp_path)
    with s_server(version, "-status_file", response) as port:
        stapled, _, _ = scan(f"127.0.0.1:{port}")
    with s_server(version) as port:
        plain, _, _ = scan(f"127.0.0.1:{port}")
    assert stapled.details["ocsp_stapled"] is True
    assert plain.details["ocsp_stapled"] is False


@pytest.mark.parametrize("serverpref", [True, False])
def test_group_preference_order(serverpref: bool) -> None:
    """Groups are listed in the server's preference order where it enforces one: OpenSSL
    picks TLS 1.3 groups by its own list always, TLS 1.2 curves only with -serverpref."""
    flags = ["-serverpref"] if serverpref else []
    with s_server("-groups", "P-384:X25519", "-cipher", ":".join(MODERN), *flags) as port:
        endpoint, _, _ = scan(f"127.0.0.1:{port}")
    by_protocol = endpoint.details["groups_by_protocol"]
    order = endpoint.details["groups_server_order"]
    assert order["TLSv1.3"] is True
    assert by_protocol["TLSv1.3"] == ["secp384r1", "x25519"]
    assert order["TLSv1.2"] is serverpref
    assert set(by_protocol["TLSv1.2"]) == {"secp384r1", "x25519"}
    if serverpref:
        assert by_protocol["TLSv1.2"] == ["secp384r1", "x25519"]


def test_start_tls_scan_reports_what_iter_tls_items_does() -> None:
    """The command line's eager start (scan running before the first next()) yields the same
    endpoint, certificates and connection count as the lazy generator; a TLS 1.3-only
    server's chain (full handshake beside the enumeration) is read once."""
    from cryptocheck.sources.tls import start_tls_scan

    with s_server("-tls1_3", "-groups", "X25519:P-256") as port:
        target = f"localhost:{port}"
        lazy = list(iter_tls_items([target], OPTIONS))
        stats = TlsStats()
        eager = list(start_tls_scan([target], OPTIONS, stats))
    assert len(lazy) == len(eager) == 2
    first, second = lazy[0], eager[0]
    assert isinstance(first, EndpointAsset) and isinstance(second, EndpointAsset)
    assert first.details["protocols"] == second.details["protocols"]
    assert first.details["groups"] == second.details["groups"] == ["x25519", "secp256r1"]
    assert first.details["connections"] == second.details["connections"] == stats.connections
    assert "notes" not in second.details
    assert [c.sha256 for c in lazy[1:]] == [c.sha256 for c in eager[1:]]  # type: ignore[union-attr]


def _der_chain(*pem_files: str) -> list[str]:
    """SHA-256 (hex) of the fixture certificates, as the certificate assets give it."""
    import hashlib

    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import Encoding

    return [hashlib.sha256(x509.load_pem_x509_certificate((FIXTURES / f).read_bytes())
                           .public_bytes(Encoding.DER)).hexdigest() for f in pem_files]


def test_tls13_schemes_rsa_restricted_list_and_served_chain() -> None:
    # The schemes found in CertificateVerify (encrypted) are exactly those configured; the
    # first of those handshakes gives the chain, as served (leaf, then the CA).
    configured = ["rsa_pss_rsae_sha384", "rsa_pss_rsae_sha256"]
    with s_server("-tls1_3", "-sigalgs", ":".join(configured),
                  "-cert_chain", str(FIXTURES / "ca.pem")) as port:
        endpoint, certs, stats = scan(f"localhost:{port}")
    schemes = endpoint.details["signature_schemes"]
    assert list(schemes) == ["TLSv1.3"]
    assert sorted(schemes["TLSv1.3"]) == sorted(configured)
    assert [c.sha256 for c in certs] == _der_chain("rsa.pem", "ca.pem")
    assert endpoint.details["certificate_chains"] == [[c.id for c in certs]]
    assert "notes" not in endpoint.details
    assert endpoint.details["connections"] == stats.connections


def test_tls13_schemes_ecdsa_p256() -> None:
    with s_server("-tls1_3", cert="ecdsa") as port:
        endpoint, certs, _ = scan(f"localhost:{port}")
    assert endpoint.details["signature_schemes"] == {"TLSv1.3": ["ecdsa_secp256r1_sha256"]}
    assert [c.sha256 for c in certs] == _der_chain("ecdsa.pem")


def test_tls13_schemes_of_both_keys_rsa_and_ecdsa() -> None:
    # With both an RSA and an ECDSA certificate, removing the RSA schemes makes the server
    # switch keys: the schemes of both are found, and both chains.
    with s_server("-dcert", str(FIXTURES / "ecdsa.pem"), "-dkey", str(FIXTURES / "ecdsa.key"),
                  "-tls1_3") as port:
        endpoint, certs, _ = scan(f"localhost:{port}")
    assert sorted(endpoint.details["signature_schemes"]["TLSv1.3"]) == [
        "ecdsa_secp256r1_sha256", "rsa_pss_rsae_sha256", "rsa_pss_rsae_sha384",
        "rsa_pss_rsae_sha512"]
    assert sorted(c.sha256 for c in certs) == sorted(_der_chain("rsa.pem", "ecdsa.pem"))
    assert len(endpoint.details["certificate_chains"]) == 2


def test_tls12_and_tls13_schemes_are_reported_apart() -> None:
    with s_server("-cipher", ":".join(MODERN), "-sigalgs",
                  "rsa_pss_rsae_sha256:rsa_pkcs1_sha256") as port:
        endpoint, _, _ = scan(f"localhost:{port}")
    schemes = endpoint.details["signature_schemes"]
    # rsa_pkcs1_* signs TLS 1.2 key exchanges only (RFC 8446 §4.2.3).
    assert sorted(schemes["TLSv1.2"]) == ["rsa_pkcs1_sha256", "rsa_pss_rsae_sha256"]
    assert schemes["TLSv1.3"] == ["rsa_pss_rsae_sha256"]


@pytest.mark.parametrize("behaviour", ["bad-tag", "garbage"])
def test_tls13_hostile_flight_is_a_note(behaviour: str) -> None:
    # The encrypted flight is tampered with (every handshake, pyOpenSSL's too): the endpoint
    # is still reported, with notes, and nothing crashes.
    with s_server("-tls1_3") as backend, tampering_relay(backend, behaviour) as port:
        endpoint, certs, _ = scan(f"localhost:{port}")
    assert accepted(endpoint)["TLSv1.3"]["cipher_suites"]
    assert "TLSv1.3" not in endpoint.details["signature_schemes"]
    notes = endpoint.details["notes"]
    assert any(n.startswith("TLS 1.3 signature schemes not read:") for n in notes), notes
    assert any(n.startswith("certificate chain not read:") for n in notes), notes
    assert certs == []


@pytest.mark.parametrize("groups", ["X25519MLKEM768", "SecP256r1MLKEM768",
                                    "SecP384r1MLKEM1024", "MLKEM768", "MLKEM1024",
                                    "X25519MLKEM768:SecP384r1MLKEM1024:x25519",
                                    "brainpoolP256r1tls13",
                                    "brainpoolP384r1tls13:brainpoolP512r1tls13"])
def test_tls13_ml_kem_and_brainpool_groups_found_and_used(groups: str) -> None:
    """Against OpenSSL 4 (cryptography's own, through pyOpenSSL): the ML-KEM hybrids, pure
    ML-KEM and the RFC 8734 brainpool groups configured are the groups reported, and
    cryptocheck's own handshake in them
    (its key share, the server's ciphertext) reads the signature schemes, verifies the
    CertificateVerify and gets the chain, with no note."""
    with bundled_openssl_server(groups) as port:
        endpoint, certs, _ = scan(f"127.0.0.1:{port}")
    assert set(endpoint.details["groups_by_protocol"]["TLSv1.3"]) == set(groups.split(":"))
    assert sorted(endpoint.details["signature_schemes"]["TLSv1.3"]) == [
        "rsa_pss_rsae_sha256", "rsa_pss_rsae_sha384", "rsa_pss_rsae_sha512"]
    assert not endpoint.details.get("notes")
    assert [c.sha256 for c in certs] == _der_chain("rsa.pem")


def test_tls13_chain_from_pyopenssl_where_no_key_share_can_be_made(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # As for a server whose TLS 1.3 groups are all ones cryptocheck makes no key share for
    # (brainpool, ML-KEM; local OpenSSL serves neither in TLS 1.3): ffdhe is taken off the
    # groups it shares, so its own handshake is refused, which is said in a note, and the
    # chain comes from pyOpenSSL's handshake instead.
    from cryptocheck.sources.tls import key_share

    monkeypatch.setattr(key_share, "KEY_SHARE_GROUPS",
                        tuple(g for g in key_share.KEY_SHARE_GROUPS if g < 0x0100))
    with s_server("-tls1_3", "-groups", "ffdhe2048") as port:
        endpoint, certs, _ = scan(f"localhost:{port}")
    assert endpoint.details["groups"] == ["ffdhe2048"]
    assert endpoint.details["signature_schemes"] == {}
    assert endpoint.details["notes"] == [
        "TLS 1.3 signature schemes not read: refused (handshake_failure)"]
    assert [c.sha256 for c in certs] == _der_chain("rsa.pem")


def test_tls13_compliance_mode_reads_the_chain_itself() -> None:
    from cryptocheck.policy import load_policy
    from cryptocheck.run import bind

    options = bind("tls", TlsOptions(mode="compliance", ca_files=OPTIONS.ca_files),
                   load_policy("nhs-acagpg"), date.today())
    with s_server("-tls1_3") as port:
        endpoint, certs, _ = scan(f"localhost:{port}", options)
    # The SHA-1/MD5 schemes the policy flags are refused; the handshake that shows that the
    # refusal means something gives the chain and the server's preferred scheme.
    assert [c.sha256 for c in certs] == _der_chain("rsa.pem")
    assert endpoint.details["signature_schemes"] == {"TLSv1.3": ["rsa_pss_rsae_sha256"]}
    assert "notes" not in endpoint.details


@pytest.mark.parametrize("group", ["ffdhe2048", "ffdhe4096"])
def test_tls13_only_ffdhe_schemes_from_its_own_handshake(group: str) -> None:
    # cryptocheck makes RFC 7919 key shares: the CertificateVerify (verified) and the chain
    # come from its own TLS 1.3 handshake, with no pyOpenSSL fallback and no note.
    with s_server("-tls1_3", "-groups", group, "-sigalgs",
                  "rsa_pss_rsae_sha384:rsa_pss_rsae_sha256") as port:
        endpoint, certs, _ = scan(f"localhost:{port}")
    assert endpoint.details["groups"] == [group]
    assert list(endpoint.details["signature_schemes"]) == ["TLSv1.3"]
    assert sorted(endpoint.details["signature_schemes"]["TLSv1.3"]) == [
        "rsa_pss_rsae_sha256", "rsa_pss_rsae_sha384"]
    assert not endpoint.details.get("notes")
    assert [c.sha256 for c in certs] == _der_chain("rsa.pem")
