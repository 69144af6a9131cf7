"""The TLS 1.3 key schedule, record protection and handshake reader against RFC 8448 §3
("Simple 1-RTT Handshake": TLS_AES_128_GCM_SHA256, x25519), the IETF's published trace.

Every expected value below is copied from the RFC, not computed by the code under test; the
wire bytes (ClientHello, ServerHello record, the server's encrypted flight) are the RFC's too,
so the whole path from bytes on the wire to the CertificateVerify's scheme is checked.
"""

from __future__ import annotations

import hashlib
import warnings

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cryptocheck.sources.tls import key_schedule, key_share, tls13, wire


def h(text: str) -> bytes:
    return bytes.fromhex("".join(text.split()))


SUITE = key_schedule.SUITES[0x1301]
CLIENT_PRIVATE = h("49af42ba7f7994852d713ef2784bcbcaa7911de26adc5642cb634540e7ea5005")
CLIENT_PUBLIC = h("99381de560e4bd43d23d8e435a7dbafeb3c06e51c13cae4d5413691e529aaf2c")
SERVER_PUBLIC = h("c9828876112095fe66762bdbf7c672e156d6cc253b833df1dd69b1b04e751f0f")
ECDHE = h("8bd4054fb55b9d63fdfbacf9f04b9f0d35e6d63f537563efd46272900f89492d")
EARLY_SECRET = h("33ad0a1c607ec03b09e6cd9893680ce210adf300aa1f2660e1b22e10f170f92a")
DERIVED = h("6f2615a108c702c5678f54fc9dbab69716c076189c48250cebeac3576c3611ba")
HANDSHAKE_SECRET = h("1dc826e93606aa6fdc0aadc12f741b01046aa6b99f691ed221a9f0ca043fbeac")
HELLO_HASH = h("860c06edc07858ee8e78f0e7428c58edd6b43f2ca3e6e95f02ed063cf0e1cad8")
C_HS_TRAFFIC = h("b3eddb126e067f35a780b3abf45e2d8f3b1a950738f52e9600746a0e27a55a21")
S_HS_TRAFFIC = h("b67b7d690cc16c4e75e54213cb2d37b4e9c912bcded9105d42befd59d391ad38")
S_HS_KEY, S_HS_IV = h("3fce516009c21727d0f2e4e86ee403bc"), h("5d313eb2671276ee13000b30")
C_HS_KEY, C_HS_IV = h("dbfaa693d1762c5b666af5d950258d01"), h("5bd3c71b836e0b76bb73265f")

CLIENT_HELLO = h("""
01 00 00 c0 03 03 cb 34 ec b1 e7 81 63 ba 1c 38 c6 da cb 19 6a 6d ff a2
1a 8d 99 12 ec 18 a2 ef 62 83 02 4d ec e7 00 00 06 13 01 13 03 13 02 01
00 00 91 00 00 00 0b 00 09 00 00 06 73 65 72 76 65 72 ff 01 00 01 00 00
0a 00 14 00 12 00 1d 00 17 00 18 00 19 01 00 01 01 01 02 01 03 01 04 00
23 00 00 00 33 00 26 00 24 00 1d 00 20 99 38 1d e5 60 e4 bd 43 d2 3d 8e
43 5a 7d ba fe b3 c0 6e 51 c1 3c ae 4d 54 13 69 1e 52 9a af 2c 00 2b 00
03 02 03 04 00 0d 00 20 00 1e 04 03 05 03 06 03 02 03 08 04 08 05 08 06
04 01 05 01 06 01 02 01 04 02 05 02 06 02 02 02 00 2d 00 02 01 01 00 1c
00 02 40 01""")
SERVER_HELLO_RECORD = h("""
16 03 03 00 5a 02 00 00 56 03 03 a6 af 06 a4 12 18 60 dc 5e 6e 60 24 9c
d3 4c 95 93 0c 8a c5 cb 14 34 da c1 55 77 2e d3 e2 69 28 00 13 01 00 00
2e 00 33 00 24 00 1d 00 20 c9 82 88 76 11 20 95 fe 66 76 2b db f7 c6 72
e1 56 d6 cc 25 3b 83 3d f1 dd 69 b1 b0 4e 75 1f 0f 00 2b 00 02 03 04""")
# EncryptedExtensions, Certificate, CertificateVerify, Finished in one record (679 octets).
SERVER_FLIGHT_RECORD = h("""
17 03 03 02 a2 d1 ff 33 4a 56 f5 bf f6 59 4a 07 cc 87 b5 80 23 3f 50 0f
45 e4 89 e7 f3 3a f3 5e df 78 69 fc f4 0a a4 0a a2 b8 ea 73 f8 48 a7 ca
07 61 2e f9 f9 45 cb 96 0b 40 68 90 51 23 ea 78 b1 11 b4 29 ba 91 91 cd
05 d2 a3 89 28 0f 52 61 34 aa dc 7f c7 8c 4b 72 9d f8 28 b5 ec f7 b1 3b
d9 ae fb 0e 57 f2 71 58 5b 8e a9 bb 35 5c 7c 79 02 07 16 cf b9 b1 18 3e
f3 ab 20 e3 7d 57 a6 b9 d7 47 76 09 ae e6 e1 22 a4 cf 51 42 73 25 25 0c
7d 0e 50 92 89 44 4c 9b 3a 64 8f 1d 71 03 5d 2e d6 5b 0e 3c dd 0c ba e8
bf 2d 0b 22 78 12 cb b3 60 98 72 55 cc 74 41 10 c4 53 ba a4 fc d6 10 92
8d 80 98 10 e4 b7 ed 1a 8f d9 91 f0 6a a6 24 82 04 79 7e 36 a6 a7 3b 70
a2 55 9c 09 ea d6 86 94 5b a2 46 ab 66 e5 ed d8 04 4b 4c 6d e3 fc f2 a8
94 41 ac 66 27 2f d8 fb 33 0e f8 19 05 79 b3 68 45 96 c9 60 bd 59 6e ea
52 0a 56 a8 d6 50 f5 63 aa d2 74 09 96 0d ca 63 d3 e6 88 61 1e a5 e2 2f
44 15 cf 95 38 d5 1a 20 0c 27 03 42 72 96 8a 26 4e d6 54 0c 84 83 8d 89
f7 2c 24 46 1a ad 6d 26 f5 9e ca ba 9a cb bb 31 7b 66 d9 02 f4 f2 92 a3
6a c1 b6 39 c6 37 ce 34 31 17 b6 59 62 22 45 31 7b 49 ee da 0c 62 58 f1
00 d7 d9 61 ff b1 38 64 7e 92 ea 33 0f ae ea 6d fa 31 c7 a8 4d c3 bd 7e
1b 7a 6c 71 78 af 36 87 90 18 e3 f2 52 10 7f 24 3d 24 3d c7 33 9d 56 84
c8 b0 37 8b f3 02 44 da 8c 87 c8 43 f5 e5 6e b4 c5 e8 28 0a 2b 48 05 2c
f9 3b 16 49 9a 66 db 7c ca 71 e4 59 94 26 f7 d4 61 e6 6f 99 88 2b d8 9f
c5 08 00 be cc a6 2d 6c 74 11 6d bd 29 72 fd a1 fa 80 f8 5d f8 81 ed be
5a 37 66 89 36 b3 35 58 3b 59 91 86 dc 5c 69 18 a3 96 fa 48 a1 81 d6 b6
fa 4f 9d 62 d5 13 af bb 99 2f 2b 99 2f 67 f8 af e6 7f 76 91 3f a3 88 cb
56 30 c8 ca 01 e0 c6 5d 11 c6 6a 1e 2a c4 c8 59 77 b7 c7 a6 99 9b bf 10
dc 35 ae 69 f5 51 56 14 63 6c 0b 9b 68 c1 9e d2 e3 1c 0b 3b 66 76 30 38
eb ba 42 f3 b3 8e dc 03 99 f3 a9 f2 3f aa 63 97 8c 31 7f c9 fa 66 a7 3f
60 f0 50 4d e9 3b 5b 84 5e 27 55 92 c1 23 35 ee 34 0b bc 4f dd d5 02 78
40 16 e4 b3 be 7e f0 4d da 49 f4 b4 40 a3 0c b5 d2 af 93 98 28 fd 4a e3
79 4e 44 f9 4d f5 a6 31 ed e4 2c 17 19 bf da bf 02 53 fe 51 75 be 89 8e
75 0e dc 53 37 0d 2b""")
# The client's Finished (58 octets), under the client handshake traffic key.
CLIENT_FINISHED_RECORD = h("""
17 03 03 00 35 75 ec 4d c2 38 cc e6 0b 29 80 44 a7 1e 21 9c 56 cc 77 b0
51 7f e9 b9 3c 7a 4b fc 44 d8 7f 38 f8 03 38 ac 98 fc 46 de b3 84 bd 1c
ae ac ab 68 67 d7 26 c4 05 46""")


def test_x25519_shared_secret() -> None:
    share = key_share.KeyShare.from_x25519(CLIENT_PRIVATE)
    assert share.public == CLIENT_PUBLIC
    assert share.shared_secret(SERVER_PUBLIC) == ECDHE


def test_handshake_secrets_and_traffic_keys() -> None:
    assert hashlib.sha256(CLIENT_HELLO + SERVER_HELLO_RECORD[5:]).digest() == HELLO_HASH
    secrets = key_schedule.handshake_secrets(SUITE, ECDHE, HELLO_HASH)
    assert secrets.early_secret == EARLY_SECRET
    assert secrets.derived == DERIVED
    assert secrets.handshake_secret == HANDSHAKE_SECRET
    assert secrets.client_handshake_traffic == C_HS_TRAFFIC
    assert secrets.server_handshake_traffic == S_HS_TRAFFIC
    server = key_schedule.RecordProtection(SUITE, S_HS_TRAFFIC)
    client = key_schedule.RecordProtection(SUITE, C_HS_TRAFFIC)
    assert (server.key, server.iv) == (S_HS_KEY, S_HS_IV)
    assert (client.key, client.iv) == (C_HS_KEY, C_HS_IV)


def test_records_open_and_seal_as_published() -> None:
    server = key_schedule.RecordProtection(SUITE, S_HS_TRAFFIC)
    inner, content = server.open(SERVER_FLIGHT_RECORD[:5], SERVER_FLIGHT_RECORD[5:])
    assert inner == wire.CONTENT_HANDSHAKE
    assert content[0] == tls13.HS_ENCRYPTED_EXTENSIONS and len(content) == 657
    assert server.sequence == 1
    client = key_schedule.RecordProtection(SUITE, C_HS_TRAFFIC)
    inner, finished = client.open(CLIENT_FINISHED_RECORD[:5], CLIENT_FINISHED_RECORD[5:])
    assert inner == wire.CONTENT_HANDSHAKE and finished[:4] == h("14000020")
    # Sealing the same plaintext at the same sequence number gives the RFC's record.
    assert key_schedule.RecordProtection(SUITE, C_HS_TRAFFIC).seal(inner, finished) == \
        CLIENT_FINISHED_RECORD
    # At the wrong sequence number the tag does not verify.
    with pytest.raises(key_schedule.Tls13Error, match="bad AEAD tag"):
        key_schedule.RecordProtection(SUITE, S_HS_TRAFFIC, sequence=1).open(
            SERVER_FLIGHT_RECORD[:5], SERVER_FLIGHT_RECORD[5:])


def _rfc_handshake() -> tls13.ClientHandshake:
    spec = wire.ClientHelloSpec(0x0304, (0x1301, 0x1303, 0x1302), "server", (key_share.X25519,))
    handshake = tls13.ClientHandshake(spec, key_share.KeyShare.from_x25519(CLIENT_PRIVATE))
    handshake.messages = [CLIENT_HELLO]  # the RFC's ClientHello was sent, not ours
    return handshake


@pytest.mark.parametrize("chunk", [1, 7, 100_000])
def test_the_published_flight_gives_chain_and_scheme(chunk: int) -> None:
    handshake = _rfc_handshake()
    data = SERVER_HELLO_RECORD + SERVER_FLIGHT_RECORD
    out = b""
    for i in range(0, len(data), chunk):  # however the bytes are split on the way
        out += handshake.feed(data[i:i + chunk])
    auth = handshake.result
    assert auth is not None
    assert (auth.cipher_suite, auth.group, auth.signature_scheme) == (0x1301, 0x001D, 0x0804)
    assert len(auth.certificates) == 1 and auth.certificates[0][:2] == b"\x30\x82"
    assert auth.ocsp_stapled is False and auth.retried is False
    # The polite close: ChangeCipherSpec, then an encrypted close_notify alert that opens
    # under the RFC's client handshake traffic key.
    assert out[:6] == h("140303000101")
    inner, alert = key_schedule.RecordProtection(SUITE, C_HS_TRAFFIC).open(out[6:11], out[11:])
    assert (inner, alert) == (wire.CONTENT_ALERT, b"\x01\x00")


def test_a_bad_tag_is_a_tls13_error() -> None:
    handshake = _rfc_handshake()
    handshake.feed(SERVER_HELLO_RECORD)
    damaged = bytearray(SERVER_FLIGHT_RECORD)
    damaged[-1] ^= 1
    with pytest.raises(key_schedule.Tls13Error, match="bad AEAD tag"):
        handshake.feed(bytes(damaged))


def test_plaintext_after_the_server_hello_is_a_tls13_error() -> None:
    handshake = _rfc_handshake()
    with pytest.raises(wire.WireError):
        handshake.feed(SERVER_HELLO_RECORD + h("16 03 03 00 04 0b 00 00 00"))


def test_an_alert_before_the_server_hello_is_a_refusal() -> None:
    handshake = _rfc_handshake()
    with pytest.raises(tls13.HandshakeRefused) as caught:
        handshake.feed(h("15 03 03 00 02 02 28"))
    assert caught.value.alert == "handshake_failure"


# --- Untrusted bytes: whatever the server sends, a WireError or a refusal, never a crash ---

@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=600))
def test_any_certificate_message_parses_or_is_a_wire_error(body: bytes) -> None:
    try:
        chain, _ = tls13.parse_certificate13(body)
    except wire.WireError:
        return
    assert all(isinstance(c, bytes) for c in chain)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400), st.booleans())
def test_any_bytes_from_the_server_are_an_error_or_a_refusal(data: bytes, after_hello: bool
                                                             ) -> None:
    handshake = _rfc_handshake()
    if after_hello:
        handshake.feed(SERVER_HELLO_RECORD)
    try:
        handshake.feed(data)
    except (wire.WireError, tls13.HandshakeRefused):
        pass
    assert handshake.result is None


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=5, max_value=len(SERVER_FLIGHT_RECORD) - 1), st.integers(1, 255))
def test_any_damaged_byte_of_the_flight_is_an_error(position: int, flip: int) -> None:
    handshake = _rfc_handshake()
    handshake.feed(SERVER_HELLO_RECORD)
    damaged = bytearray(SERVER_FLIGHT_RECORD)
    damaged[position] ^= flip
    with pytest.raises(key_schedule.Tls13Error):
        handshake.feed(bytes(damaged))


@pytest.mark.tools
@pytest.mark.parametrize("bits", [2048, 3072, 4096, 6144, 8192])
def test_ffdhe_primes_are_openssls(bits: int) -> None:
    """The RFC 7919 primes cryptocheck's key shares use are the ones OpenSSL writes for the
    same named groups."""
    import subprocess

    from cryptography.hazmat.primitives.serialization import load_pem_parameters

    from cryptocheck.sources.tls import ffdhe

    pem = subprocess.run(["openssl", "genpkey", "-genparam", "-algorithm", "DH", "-pkeyopt",
                          f"group:ffdhe{bits}"], capture_output=True, check=True).stdout
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # cryptography has deprecated finite-field DH
        numbers = load_pem_parameters(pem).parameter_numbers()
    code = {2048: 0x0100, 3072: 0x0101, 4096: 0x0102, 6144: 0x0103, 8192: 0x0104}[bits]
    assert (ffdhe.PRIMES[code], ffdhe.GENERATOR) == (numbers.p, numbers.g)


def test_ffdhe_share_agrees_and_refuses_bad_public_values() -> None:
    from cryptocheck.sources.tls import ffdhe

    one, two = ffdhe.FfdheShare(0x0100), ffdhe.FfdheShare(0x0100)
    assert len(one.public) == 256 and one.public != two.public
    assert one.shared_secret(two.public) == two.shared_secret(one.public)
    prime = ffdhe.PRIMES[0x0100]
    for bad in (1, prime - 1, prime, 0):
        with pytest.raises(ValueError):
            one.shared_secret(bad.to_bytes(256, "big"))
    with pytest.raises(ValueError):
        one.shared_secret(b"\x02" * 255)


def test_ml_kem_key_share_sizes_and_bad_answers() -> None:
    """Client key_exchange sizes of draft-ietf-tls-ecdhe-mlkem and draft-ietf-tls-mlkem; a
    server answer of the wrong size is refused (the layouts themselves are checked by real
    handshakes against OpenSSL 4 in test_tls_servers.py)."""
    from cryptocheck.sources.tls import kem

    sizes = {0x11EC: 1184 + 32, 0x11EB: 65 + 1184, 0x11ED: 97 + 1568, 0x0201: 1184,
             0x0202: 1568}
    assert set(kem.GROUPS) == set(sizes)  # cryptography >= 50 has both parameter sets
    for group, size in sizes.items():
        share = key_share.KeyShare(group)
        assert len(share.public) == size
        with pytest.raises(key_schedule.Tls13Error):
            share.shared_secret(b"\x00" * 10)
