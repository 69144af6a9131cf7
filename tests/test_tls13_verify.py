"""The TLS 1.3 CertificateVerify signature (RFC 8446 §4.4.3) checked against RFC 8448 §3's
published trace: its CertificateVerify verifies with its certificate, and with one byte of the
signature flipped, another certificate, or a scheme TLS 1.3 forbids, it does not — recorded as
a failed verification (and a note on the endpoint), never an exception."""

from __future__ import annotations

import asyncio
import hashlib
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from hypothesis import given, settings
from hypothesis import strategies as st
from servers.tls import FIXTURES
from test_tls13_keyschedule import (
    CLIENT_HELLO,
    S_HS_TRAFFIC,
    SERVER_FLIGHT_RECORD,
    SERVER_HELLO_RECORD,
    SUITE,
    _rfc_handshake,
)

from cryptocheck.sources.tls import cert_verify, key_schedule, tls13, wire
from cryptocheck.sources.tls.connection import Endpoint, HostLimiter
from cryptocheck.sources.tls.facts import EndpointFacts
from cryptocheck.sources.tls.probes import tls13_schemes

RSA_PSS_RSAE_SHA256 = 0x0804


def _flight() -> list[tuple[int, bytes]]:
    """The server's decrypted flight: EncryptedExtensions, Certificate, CertificateVerify,
    Finished, as (type, body)."""
    _, content = key_schedule.RecordProtection(SUITE, S_HS_TRAFFIC).open(
        SERVER_FLIGHT_RECORD[:5], SERVER_FLIGHT_RECORD[5:])
    return list(wire.RecordBuffer().messages(content))


def _published() -> tuple[bytes, int, bytes, bytes]:
    """(leaf, scheme, signature, Hash(ClientHello..Certificate)) from RFC 8448 §3."""
    (ee, ee_body), (cert, cert_body), (cv, cv_body), _ = _flight()
    assert (ee, cert, cv) == (tls13.HS_ENCRYPTED_EXTENSIONS, wire.HS_CERTIFICATE,
                              tls13.HS_CERTIFICATE_VERIFY)
    chain, _ = tls13.parse_certificate13(cert_body)
    transcript = (CLIENT_HELLO + SERVER_HELLO_RECORD[5:] + tls13._message(ee, ee_body)
                  + tls13._message(cert, cert_body))
    reader = wire.Reader(cv_body)
    scheme, signature = reader.uint(2), reader.vector(2)
    return chain[0], scheme, signature, hashlib.sha256(transcript).digest()


def _flipped(signature: bytes, position: int = 10) -> bytes:
    damaged = bytearray(signature)
    damaged[position] ^= 0x01
    return bytes(damaged)


def _fixture_der(name: str) -> bytes:
    return x509.load_pem_x509_certificate((FIXTURES / name).read_bytes()).public_bytes(
        Encoding.DER)


def test_the_published_certificate_verify_verifies() -> None:
    leaf, scheme, signature, transcript_hash = _published()
    assert scheme == RSA_PSS_RSAE_SHA256 and len(signature) == 128
    assert cert_verify.verify_certificate_verify(leaf, scheme, signature, transcript_hash) == \
        (True, "")


@pytest.mark.parametrize("position", [0, 10, 64, 127])
def test_one_flipped_byte_of_the_signature_does_not_verify(position: int) -> None:
    leaf, scheme, signature, transcript_hash = _published()
    verified, why = cert_verify.verify_certificate_verify(leaf, scheme, _flipped(signature, position),
                                                    transcript_hash)
    assert verified is False and "does not verify" in why


def test_another_transcript_or_certificate_does_not_verify() -> None:
    leaf, scheme, signature, transcript_hash = _published()
    other_hash = hashlib.sha256(b"another handshake").digest()
    assert cert_verify.verify_certificate_verify(leaf, scheme, signature, other_hash)[0] is False
    # The Certificate and CertificateVerify do not match: the signature is the RFC's, the
    # certificate another RSA one (cryptocheck's fixture).
    verified, why = cert_verify.verify_certificate_verify(_fixture_der("rsa.pem"), scheme, signature,
                                                    transcript_hash)
    assert verified is False and "does not verify" in why


@pytest.mark.parametrize(("scheme", "reason"), [
    (0x0401, "rsa_pkcs1"), (0x0501, "rsa_pkcs1"), (0x0601, "rsa_pkcs1"), (0x0201, "rsa_pkcs1"),
    (0x0203, "ECDSA with SHA-1"), (0x0202, "DSA")])
def test_schemes_tls13_forbids_fail(scheme: int, reason: str) -> None:
    leaf, _, signature, transcript_hash = _published()
    verified, why = cert_verify.verify_certificate_verify(leaf, scheme, signature, transcript_hash)
    assert verified is False and reason in why and "not allowed in a TLS 1.3" in why


@pytest.mark.parametrize(("scheme", "key"), [
    (0x0403, "needs a secp256r1 key; the leaf's is RSA"),
    (0x0807, "needs an Ed25519 key; the leaf's is RSA"),
    (0x0809, "needs an RSASSA-PSS key; the leaf's is RSA")])
def test_a_scheme_for_another_key_type_fails(scheme: int, key: str) -> None:
    leaf, _, signature, transcript_hash = _published()
    assert cert_verify.verify_certificate_verify(leaf, scheme, signature, transcript_hash) == \
        (False, f"scheme 0x{scheme:04X} {key}")
    verified, why = cert_verify.verify_certificate_verify(_fixture_der("ecdsa.pem"), 0x0503,
                                                    signature, transcript_hash)
    assert verified is False and "needs a secp384r1 key; the leaf's is EC secp256r1" in why


def test_what_cannot_be_checked_is_indeterminate() -> None:
    leaf, _, signature, transcript_hash = _published()
    assert cert_verify.verify_certificate_verify(leaf, 0x0905, signature, transcript_hash) == \
        (None, "cryptocheck has no verifier for scheme 0x0905")
    verified, why = cert_verify.verify_certificate_verify(b"\x30\x03\x02\x01\x00", 0x0804, signature,
                                                    transcript_hash)
    assert verified is None and "cannot be read" in why


def _resealed_flight(signature_position: int | None) -> bytes:
    """The RFC's encrypted flight, with one byte of the CertificateVerify's signature flipped
    and sealed again under the server handshake traffic key (so that it decrypts)."""
    content = b""
    for kind, body in _flight():
        if kind == tls13.HS_CERTIFICATE_VERIFY and signature_position is not None:
            body = body[:4] + _flipped(body[4:], signature_position)
        content += tls13._message(kind, body)
    return key_schedule.RecordProtection(SUITE, S_HS_TRAFFIC).seal(wire.CONTENT_HANDSHAKE, content)


def _auth(signature_position: int | None) -> tls13.ServerAuth:
    handshake = _rfc_handshake()
    handshake.feed(SERVER_HELLO_RECORD + _resealed_flight(signature_position))
    assert handshake.result is not None
    return handshake.result


def test_the_handshake_records_whether_the_signature_verifies() -> None:
    assert _resealed_flight(None) == SERVER_FLIGHT_RECORD  # resealing itself changes nothing
    good, bad = _auth(None), _auth(10)
    assert (good.verified, good.verification) == (True, "")
    # The scheme the server named is still there: it is what the server answered.
    assert bad.signature_scheme == good.signature_scheme == RSA_PSS_RSAE_SHA256
    assert bad.verified is False and "does not verify" in bad.verification


@pytest.mark.parametrize("signature_position", [None, 10])
def test_a_bad_signature_is_a_note_on_the_endpoint(monkeypatch: Any,
                                                   signature_position: int | None) -> None:
    # The RFC's server answers the first handshake (nothing is sent: the handshake is
    # replaced by its published flight) and refuses the next.
    served = [_auth(signature_position)]

    async def server_auth(*_: Any) -> tls13.ServerAuth:
        if served:
            return served.pop()
        raise tls13.HandshakeRefused("handshake_failure")

    monkeypatch.setattr(tls13, "server_auth", server_auth)
    facts = EndpointFacts()
    endpoint = Endpoint(host="server", port=443, address="127.0.0.1", service="tls",
                        sni="server", connect_timeout=3, read_timeout=3, retries=0,
                        limiter=HostLimiter(1, None), global_limit=asyncio.Semaphore(1))
    outcome = asyncio.run(tls13_schemes.enumerate_tls13_schemes(
        endpoint, facts, (RSA_PSS_RSAE_SHA256, 0x0805)))
    assert outcome == ("made", "")
    assert facts.schemes == {"TLSv1.3": [RSA_PSS_RSAE_SHA256]}
    if signature_position is None:
        assert facts.notes == []
    else:
        assert facts.notes == [(
            "TLS 1.3: the CertificateVerify signature with scheme rsa_pss_rsae_sha256 (0x0804) "
            "did not verify: the signature does not verify with the leaf certificate's key")]


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 0xFFFF), st.binary(max_size=200), st.binary(max_size=64))
def test_any_scheme_and_signature_is_a_result_never_an_exception(
        scheme: int, signature: bytes, transcript_hash: bytes) -> None:
    leaf = _published()[0]
    for certificate in (leaf, _fixture_der("ecdsa.pem")):
        verified, why = cert_verify.verify_certificate_verify(certificate, scheme, signature,
                                                        transcript_hash)
        assert verified is not True and why
