"""cryptocheck's own TLS 1.3 handshake (cryptocheck.sources.tls.tls13) against real servers on
127.0.0.1: every AEAD and key-share group it implements, HelloRetryRequest (with a cookie),
the chain and OCSP response served, refusals, and hostile servers that break the encrypted
flight (a ProbeError, never a crash)."""

from __future__ import annotations

import asyncio
import subprocess
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from servers.relays import tampering_relay
from servers.tls import FIXTURES, s_server
from test_tls_servers import _ocsp_response

from cryptocheck.catalog import tls as tls_catalog
from cryptocheck.sources.tls import key_schedule, key_share, tls13, wire
from cryptocheck.sources.tls.connection import Endpoint, HostLimiter, ProbeError
from cryptocheck.sources.tls.facts import SCHEMES

pytestmark = pytest.mark.tls_server
X25519, P256, P384, P521, X448 = 0x1D, 0x17, 0x18, 0x19, 0x1E


def auth(port: int, groups: tuple[int, ...] = key_share.KEY_SHARE_GROUPS,
         schemes: tuple[int, ...] = SCHEMES) -> tls13.ServerAuth:
    """One handshake of the scanner's (within its limits and timeouts) to 127.0.0.1:port."""
    async def run() -> tls13.ServerAuth:
        endpoint = Endpoint(host="localhost", port=port, address="127.0.0.1", service="tls",
                            sni="localhost", connect_timeout=3, read_timeout=3, retries=0,
                            limiter=HostLimiter(2, None), global_limit=asyncio.Semaphore(4))
        spec = wire.ClientHelloSpec(0x0304, tuple(key_schedule.SUITES), "localhost", groups, schemes)
        return await tls13.server_auth(endpoint, spec)

    return asyncio.run(run())


def der(pem_file: str) -> bytes:
    return x509.load_pem_x509_certificate((FIXTURES / pem_file).read_bytes()).public_bytes(
        Encoding.DER)


def scheme(name: str) -> int:
    found = tls_catalog.signature_scheme(name)
    assert found is not None
    return found.code


@pytest.mark.parametrize("suite", ["TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384",
                                   "TLS_CHACHA20_POLY1305_SHA256", "TLS_AES_128_CCM_SHA256",
                                   "TLS_AES_128_CCM_8_SHA256"])
def test_each_aead(suite: str) -> None:
    code = tls_catalog.suite(suite).code  # type: ignore[union-attr]
    with s_server("-tls1_3", "-ciphersuites", suite) as port:
        result = auth(port)
    assert result.cipher_suite == code
    assert result.verified is True  # the transcript hash is the suite's (SHA-384 too)
    assert result.signature_scheme in (scheme("rsa_pss_rsae_sha256"),
                                       scheme("rsa_pss_rsae_sha384"),
                                       scheme("rsa_pss_rsae_sha512"))
    assert result.certificates == [der("rsa.pem")]


@pytest.mark.parametrize(("openssl_group", "code"), [
    ("X25519", X25519), ("P-256", P256), ("P-384", P384), ("P-521", P521), ("X448", X448)])
def test_each_key_share_group(openssl_group: str, code: int) -> None:
    with s_server("-tls1_3", "-groups", openssl_group) as port:
        first = auth(port, (code,))  # a key share for the server's group: no retry
        retried = auth(port)  # x25519 offered first: a HelloRetryRequest asks for the group
    assert (first.group, first.retried) == (code, False)
    # After a HelloRetryRequest the signed transcript starts with message_hash (§4.4.1).
    assert first.verified is True and retried.verified is True, retried.verification
    assert retried.group == code and retried.retried is (code != X25519)


def test_hello_retry_request_with_a_cookie() -> None:
    # -stateless: the server keeps no state and sends a cookie in every HelloRetryRequest,
    # which the second ClientHello has to echo.
    with s_server("-tls1_3", "-stateless", "-groups", "P-256") as port:
        result = auth(port)
    assert result.retried is True and result.group == P256 and result.verified is True


def test_chain_as_served_and_ocsp_stapled(tmp_path: Any) -> None:
    response = _ocsp_response(tmp_path)
    with s_server("-tls1_3", "-cert_chain", str(FIXTURES / "ca.pem"),
                  "-status_file", response) as port:
        stapled = auth(port)
    with s_server("-tls1_3") as port:
        plain = auth(port)
    assert stapled.certificates == [der("rsa.pem"), der("ca.pem")]
    assert stapled.ocsp_stapled is True
    assert plain.certificates == [der("rsa.pem")] and plain.ocsp_stapled is False


def test_ecdsa_and_restricted_schemes() -> None:
    with s_server("-tls1_3", cert="ecdsa") as port:
        assert auth(port).signature_scheme == scheme("ecdsa_secp256r1_sha256")
    with s_server("-tls1_3", "-sigalgs", "rsa_pss_rsae_sha512") as port:
        assert auth(port).signature_scheme == scheme("rsa_pss_rsae_sha512")
        # Nothing the server can sign with: it refuses (handshake_failure).
        with pytest.raises(tls13.HandshakeRefused) as refused:
            auth(port, schemes=(scheme("rsa_pss_rsae_sha256"), scheme("ed25519")))
    assert refused.value.alert == "handshake_failure" and not refused.value.no_tls13


def _self_signed(directory: Any, algorithm: str, *options: str) -> str:
    """A self-signed certificate and key made by ``openssl req -x509 -newkey algorithm``;
    returns the path prefix ``s_server(cert=...)`` takes."""
    prefix = f"{directory}/{algorithm}"
    subprocess.run(["openssl", "req", "-x509", "-newkey", algorithm, *options, "-nodes",
                    "-keyout", f"{prefix}.key", "-out", f"{prefix}.pem", "-days", "2",
                    "-subj", "/CN=localhost"], check=True, capture_output=True)
    return prefix


@pytest.mark.parametrize(("cert", "sigalgs", "name"), [
    ("rsa", "rsa_pss_rsae_sha256", "rsa_pss_rsae_sha256"),
    ("rsa", "rsa_pss_rsae_sha384", "rsa_pss_rsae_sha384"),
    ("rsa", "rsa_pss_rsae_sha512", "rsa_pss_rsae_sha512"),
    ("ecdsa", "ecdsa_secp256r1_sha256", "ecdsa_secp256r1_sha256"),
    ("ed25519", "ed25519", "ed25519"),
    ("ed448", "ed448", "ed448"),
    ("rsa-pss", "rsa_pss_pss_sha256", "rsa_pss_pss_sha256")])
def test_the_certificate_verify_signature_verifies(tmp_path: Any, cert: str, sigalgs: str,
                                                   name: str) -> None:
    if cert in ("ed25519", "ed448", "rsa-pss"):
        options = ("-pkeyopt", "rsa_keygen_bits:2048") if cert == "rsa-pss" else ()
        cert = _self_signed(tmp_path, cert, *options)
    with s_server("-tls1_3", "-sigalgs", sigalgs, cert=cert) as port:
        result = auth(port)
    assert result.signature_scheme == scheme(name)
    assert (result.verified, result.verification) == (True, "")


def test_a_tls12_server_is_a_refusal_of_tls13() -> None:
    with s_server("-no_tls1_3") as port, pytest.raises(tls13.HandshakeRefused) as refused:
        auth(port)
    assert refused.value.no_tls13 is True


@pytest.mark.parametrize(("behaviour", "message"), [
    ("bad-tag", "bad AEAD tag"), ("garbage", "not a TLS record")])
def test_hostile_server_after_the_server_hello(behaviour: str, message: str) -> None:
    with s_server("-tls1_3") as backend, tampering_relay(backend, behaviour) as port, \
            pytest.raises(ProbeError) as failed:
        auth(port)
    assert failed.value.reason == "handshake-failed"
    assert message in failed.value.message
