"""The ClientHello builder and the parsers of what servers send: structure, and fuzzing of
every parser of untrusted bytes (a malformed answer is a WireError, never another exception)."""

from __future__ import annotations

import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cryptocheck.sources.tls import wire
from cryptocheck.sources.tls.targets import TargetError, parse_target


def _parse_client_hello(record: bytes) -> dict[str, object]:
    """A minimal independent reader of our ClientHello (RFC 8446 §4.1.2)."""
    ctype, _version, length = struct.unpack(">BHH", record[:5])
    assert ctype == 22 and length == len(record) - 5
    body = record[5:]
    assert body[0] == 1 and int.from_bytes(body[1:4], "big") == len(body) - 4
    pos = 4
    version = int.from_bytes(body[pos:pos + 2], "big")
    pos += 2 + 32
    sid = body[pos]
    pos += 1 + sid
    n = int.from_bytes(body[pos:pos + 2], "big")
    suites = [int.from_bytes(body[pos + 2 + i:pos + 4 + i], "big") for i in range(0, n, 2)]
    pos += 2 + n
    pos += 1 + body[pos]
    extensions: dict[int, bytes] = {}
    if pos < len(body):
        end = pos + 2 + int.from_bytes(body[pos:pos + 2], "big")
        pos += 2
        while pos < end:
            kind, size = struct.unpack(">HH", body[pos:pos + 4])
            extensions[kind] = body[pos + 4:pos + 4 + size]
            pos += 4 + size
        assert pos == end == len(body)
    return {"version": version, "suites": suites, "extensions": extensions}


def test_client_hello_tls12() -> None:
    hello = wire.client_hello(wire.ClientHelloSpec(0x0303, (0xC02F, 0x009C), "example.org",
                                                   groups=(29, 23), signature_schemes=(0x0804,)))
    parsed = _parse_client_hello(hello)
    assert parsed["version"] == 0x0303
    assert parsed["suites"] == [0xC02F, 0x009C, wire.EMPTY_RENEGOTIATION_INFO_SCSV]
    ext = parsed["extensions"]
    assert isinstance(ext, dict)
    assert b"example.org" in ext[wire.EXT_SERVER_NAME]
    assert ext[wire.EXT_SUPPORTED_GROUPS] == b"\x00\x04\x00\x1d\x00\x17"
    assert wire.EXT_SUPPORTED_VERSIONS not in ext
    assert len(hello) - 5 >= 0x200 or len(hello) - 5 < 0x100  # F5 padding rule


def test_client_hello_tls13_and_ip_literal_sni() -> None:
    hello = wire.client_hello(wire.ClientHelloSpec(0x0304, (0x1301,), "127.0.0.1", groups=(29,)))
    parsed = _parse_client_hello(hello)
    ext = parsed["extensions"]
    assert isinstance(ext, dict)
    assert parsed["version"] == 0x0303  # legacy_version
    assert ext[wire.EXT_SUPPORTED_VERSIONS] == b"\x02\x03\x04"
    assert ext[wire.EXT_KEY_SHARE] == b"\x00\x00"  # empty: the server names its group (HRR)
    assert wire.EXT_SERVER_NAME not in ext  # RFC 6066: no IP literals in SNI


def test_sslv3_hello_has_no_extensions() -> None:
    parsed = _parse_client_hello(wire.client_hello(wire.ClientHelloSpec(0x0300, (0x002F,), "x")))
    assert parsed["extensions"] == {}


def _server_hello(version: int, suite: int, extensions: bytes = b"", random: bytes = b"\x00" * 32
                  ) -> bytes:
    body = struct.pack(">H", version) + random + b"\x00" + struct.pack(">HB", suite, 0)
    if extensions:
        body += struct.pack(">H", len(extensions)) + extensions
    return body


def test_parse_server_hello_and_hrr() -> None:
    plain = wire.parse_server_hello(_server_hello(0x0303, 0xC02F))
    assert (plain.version, plain.cipher_suite, plain.retry_request) == (0x0303, 0xC02F, False)
    ext = (struct.pack(">HH", wire.EXT_SUPPORTED_VERSIONS, 2) + b"\x03\x04"
           + struct.pack(">HH", wire.EXT_KEY_SHARE, 2) + b"\x00\x1d")
    hrr = wire.parse_server_hello(_server_hello(0x0303, 0x1302, ext, wire.HRR_RANDOM))
    assert (hrr.version, hrr.cipher_suite, hrr.retry_request, hrr.selected_group) == (
        0x0304, 0x1302, True, 29)


def test_record_buffer_reassembles_fragmented_handshakes() -> None:
    message = b"\x02" + (40).to_bytes(3, "big") + b"\x01" * 40
    buffer = wire.RecordBuffer()
    out = []
    for piece in (message[:10], message[10:]):
        buffer.feed(struct.pack(">BHH", 22, 0x0303, len(piece)) + piece)
        for _ctype, _v, fragment in buffer.records():
            out += buffer.messages(fragment)
    assert out == [(2, b"\x01" * 40)]
    buffer.feed(b"HTTP/1.1 400 Bad Request\r\n")
    with pytest.raises(wire.WireError):
        buffer.records()


def test_server_key_exchange() -> None:
    ecdhe = b"\x03\x00\x17\x41" + b"\x04" * 65 + b"\x04\x03" + b"\x00\x02\xaa\xbb"
    kex = wire.parse_server_key_exchange(ecdhe, "ECDHE", 0x0303)
    assert (kex.group, kex.signature_scheme) == (23, 0x0403)
    prime = b"\xff" * 128
    dhe = struct.pack(">H", 128) + prime + b"\x00\x01\x02" + b"\x00\x01\x05" + b"\x02\x01"
    assert wire.parse_server_key_exchange(dhe, "DHE", 0x0303).dh_prime == prime


def test_sslv2_server_hello() -> None:
    cert = b"\x30\x03\x02\x01\x01"
    specs = bytes.fromhex("0100800700c0")
    body = (b"\x04\x00\x01" + struct.pack(">HHHH", 0x0002, len(cert), len(specs), 16)
            + cert + specs + b"\x00" * 16)
    hello = wire.parse_sslv2_server_hello(struct.pack(">H", 0x8000 | len(body)) + body)
    assert hello is not None and hello.cipher_kinds == [0x010080, 0x0700C0]
    assert hello.certificate == cert
    assert wire.parse_sslv2_server_hello(b"\x15\x03\x01\x00\x02\x02\x28") is None


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=600))
def test_parsers_never_fail_otherwise(data: bytes) -> None:
    for parse in (wire.parse_server_hello, wire.parse_certificate):
        try:
            parse(data)
        except wire.WireError:
            pass
    for kx in ("ECDHE", "DHE"):
        try:
            wire.parse_server_key_exchange(data, kx, 0x0303)
        except wire.WireError:
            pass
    wire.parse_sslv2_server_hello(data)
    buffer = wire.RecordBuffer()
    buffer.feed(data)
    try:
        for _c, _v, fragment in buffer.records():
            buffer.messages(fragment)
    except wire.WireError:
        pass


@pytest.mark.parametrize("text, expected", [
    ("example.org", [("example.org", 443, "tls", "example.org")]),
    ("example.org:8443", [("example.org", 8443, "tls", "example.org")]),
    ("[2001:db8::1]:993", [("2001:db8::1", 993, "tls", None)]),
    ("2001:db8::1", [("2001:db8::1", 443, "tls", None)]),
    ("https://example.org/path", [("example.org", 443, "tls", "example.org")]),
    ("smtp://mail.example.org", [("mail.example.org", 25, "smtp", "mail.example.org")]),
    ("postgres://db:6432", [("db", 6432, "postgres", "db")]),
    ("ldaps://dir.example.org", [("dir.example.org", 636, "tls", "dir.example.org")]),
    ("10.0.0.0/30", [("10.0.0.1", 443, "tls", None), ("10.0.0.2", 443, "tls", None)]),
])
def test_targets(text: str, expected: list[tuple[str, int, str, str | None]]) -> None:
    got = [(t.host, t.port, t.service, t.sni) for t in parse_target(text)]
    assert got == expected


def test_cidr_with_ports_and_bad_targets() -> None:
    got = [(t.host, t.port) for t in parse_target("192.0.2.8/31", ports=(443, 8443))]
    assert got == [("192.0.2.8", 443), ("192.0.2.8", 8443), ("192.0.2.9", 443),
                   ("192.0.2.9", 8443)]
    assert [t.port for t in parse_target("example.org", ports=(443, 8443))] == [443, 8443]
    assert [t.port for t in parse_target("smtp://example.org", ports=(443, 8443))] == [25]
    assert [t.port for t in parse_target("example.org:99", ports=(443, 8443))] == [99]
    for bad in ("host:99999", "gopher://x", "[::1", "10.0.0.0/8"):
        with pytest.raises(TargetError):
            list(parse_target(bad))
