"""TLS and SSL on the wire: ClientHellos cryptocheck builds itself, and a parser for what
servers answer (records, alerts, ServerHello / HelloRetryRequest, Certificate,
ServerKeyExchange, CertificateStatus, SSLv2 SERVER-HELLO).

Building the hellos here, not through the local OpenSSL, means every suite of the IANA
registry, SSLv2, SSLv3 and every group can be offered whatever OpenSSL was compiled with.
Nothing here completes a handshake: the plaintext first flight is all the scanner reads.

References: RFC 5246 (TLS 1.2) §6.2, §7.4; RFC 8446 (TLS 1.3) §4.1; RFC 6066 (server_name,
status_request); RFC 8422 (ECC); RFC 6101 Appendix E and the SSL 2.0 draft (SSLv2 hellos).
Parsers take untrusted bytes: every length is checked, and a malformed message raises
:class:`WireError` (the scanner turns it into an error record, never a crash).
"""

from __future__ import annotations

import hashlib
import ipaddress
import os
import struct
from dataclasses import dataclass, field

CONTENT_CHANGE_CIPHER_SPEC, CONTENT_ALERT, CONTENT_HANDSHAKE = 20, 21, 22
HS_SERVER_HELLO, HS_CERTIFICATE, HS_SERVER_KEY_EXCHANGE = 2, 11, 12
HS_CERTIFICATE_REQUEST, HS_SERVER_HELLO_DONE, HS_CERTIFICATE_STATUS = 13, 14, 22
EXT_SERVER_NAME, EXT_STATUS_REQUEST, EXT_SUPPORTED_GROUPS = 0, 5, 10
EXT_EC_POINT_FORMATS, EXT_SIGNATURE_ALGORITHMS, EXT_PADDING = 11, 13, 21
EXT_EXTENDED_MASTER_SECRET, EXT_SESSION_TICKET = 23, 35
EXT_SUPPORTED_VERSIONS, EXT_COOKIE, EXT_KEY_SHARE, EXT_RENEGOTIATION_INFO = 43, 44, 51, 0xFF01
EMPTY_RENEGOTIATION_INFO_SCSV = 0x00FF

# RFC 8446 §4.1.3: a ServerHello with this random is a HelloRetryRequest.
HRR_RANDOM = hashlib.sha256(b"HelloRetryRequest").digest()

ALERTS = {
    0: "close_notify", 10: "unexpected_message", 20: "bad_record_mac", 21: "decryption_failed",
    22: "record_overflow", 40: "handshake_failure", 41: "no_certificate",
    42: "bad_certificate", 43: "unsupported_certificate", 47: "illegal_parameter",
    48: "unknown_ca", 50: "decode_error", 51: "decrypt_error", 70: "protocol_version",
    71: "insufficient_security", 80: "internal_error", 86: "inappropriate_fallback",
    90: "user_canceled", 109: "missing_extension", 110: "unsupported_extension",
    112: "unrecognized_name", 116: "certificate_required", 120: "no_application_protocol",
}


class WireError(Exception):
    """Bytes from the server that are not what TLS allows at that point."""


@dataclass(frozen=True)
class ClientHelloSpec:
    """What a ClientHello offers. ``version`` is the ProtocolVersion asked for (0x0300 SSLv3
    ... 0x0304 TLS 1.3; 0x0304 is sent as supported_versions with legacy 0x0303)."""

    version: int
    cipher_suites: tuple[int, ...]
    server_name: str | None = None
    groups: tuple[int, ...] = ()
    signature_schemes: tuple[int, ...] = ()
    key_shares: tuple[tuple[int, bytes], ...] = ()
    status_request: bool = True
    # Fixed by a client that must send the same hello twice (TLS 1.3 after a
    # HelloRetryRequest, RFC 8446 §4.1.2); None: fresh random bytes.
    random: bytes | None = None
    session_id: bytes | None = None
    cookie: bytes | None = None  # echoed from a HelloRetryRequest


def _vector(data: bytes, length_bytes: int) -> bytes:
    return len(data).to_bytes(length_bytes, "big") + data


def _extension(kind: int, body: bytes) -> bytes:
    return struct.pack(">HH", kind, len(body)) + body


def _server_name_ok(name: str | None) -> str | None:
    """SNI carries host names only (RFC 6066 §3: not IP literals)."""
    if not name:
        return None
    try:
        ipaddress.ip_address(name.strip("[]"))
        return None
    except ValueError:
        return name.rstrip(".")


def client_hello(spec: ClientHelloSpec) -> bytes:
    """The ClientHello record (one TLSPlaintext record) for ``spec``.

    >>> hello = client_hello(ClientHelloSpec(0x0303, (0xC02F,), "example.org"))
    >>> hello[0], hello[5]
    (22, 1)
    """
    tls13 = spec.version >= 0x0304
    legacy_version = 0x0303 if tls13 else spec.version
    suites = b"".join(struct.pack(">H", c) for c in spec.cipher_suites)
    if not tls13:
        suites += struct.pack(">H", EMPTY_RENEGOTIATION_INFO_SCSV)
    session_id = spec.session_id
    if session_id is None:
        session_id = os.urandom(32) if tls13 else b""  # TLS 1.3 middlebox compatibility mode
    random = spec.random if spec.random is not None else os.urandom(32)
    body = struct.pack(">H", legacy_version) + random + _vector(session_id, 1)
    body += _vector(suites, 2) + _vector(b"\x00", 1)
    extensions = b""
    if spec.version >= 0x0301:  # SSLv3 servers may choke on extensions
        name = _server_name_ok(spec.server_name)
        if name:
            encoded = name.encode("idna") if not name.isascii() else name.encode()
            entry = b"\x00" + _vector(encoded, 2)
            extensions += _extension(EXT_SERVER_NAME, _vector(entry, 2))
        if spec.groups:
            extensions += _extension(EXT_SUPPORTED_GROUPS,
                                     _vector(b"".join(struct.pack(">H", g) for g in spec.groups), 2))
            extensions += _extension(EXT_EC_POINT_FORMATS, _vector(b"\x00\x01\x02", 1))
        if spec.signature_schemes and spec.version >= 0x0303:
            extensions += _extension(
                EXT_SIGNATURE_ALGORITHMS,
                _vector(b"".join(struct.pack(">H", s) for s in spec.signature_schemes), 2))
        if spec.status_request:
            extensions += _extension(EXT_STATUS_REQUEST, b"\x01\x00\x00\x00\x00")
        extensions += _extension(EXT_EXTENDED_MASTER_SECRET, b"")
        extensions += _extension(EXT_SESSION_TICKET, b"")
        if tls13:
            extensions += _extension(EXT_SUPPORTED_VERSIONS, _vector(struct.pack(">H", 0x0304), 1))
            shares = b"".join(struct.pack(">H", g) + _vector(k, 2) for g, k in spec.key_shares)
            extensions += _extension(EXT_KEY_SHARE, _vector(shares, 2))
            if spec.cookie is not None:
                extensions += _extension(EXT_COOKIE, _vector(spec.cookie, 2))
        # Some servers hang on ClientHellos of 256-511 bytes (RFC 7685 §1): pad past 512.
        length = len(body) + 2 + len(extensions) + 4
        if 0x100 <= length < 0x200:
            extensions += _extension(EXT_PADDING, b"\x00" * max(1, 0x200 - length - 4))
        body += _vector(extensions, 2)
    handshake = b"\x01" + _vector(body, 3)
    record_version = min(769, spec.version)
    return struct.pack(">BHH", CONTENT_HANDSHAKE, record_version, len(handshake)) + handshake


def sslv2_client_hello(cipher_kinds: tuple[int, ...]) -> bytes:
    """An SSL 2.0 CLIENT-HELLO offering ``cipher_kinds`` (3-byte codes), version 0x0002."""
    specs = b"".join(kind.to_bytes(3, "big") for kind in cipher_kinds)
    challenge = os.urandom(16)
    body = struct.pack(">BHHHH", 1, 0x0002, len(specs), 0, len(challenge)) + specs + challenge
    return struct.pack(">H", 0x8000 | len(body)) + body


@dataclass
class ServerHello:
    """The parts of a ServerHello (or HelloRetryRequest) the scanner needs."""

    version: int  # the negotiated version (supported_versions for TLS 1.3)
    cipher_suite: int
    compression: int
    retry_request: bool
    selected_group: int | None  # TLS 1.3 key_share (HRR: the group asked for)
    extensions: dict[int, bytes] = field(default_factory=dict)


@dataclass
class KeyExchange:
    """What a ServerKeyExchange reveals: the ECDHE group or the DHE prime, and the
    signature scheme of its signature (TLS 1.2)."""

    group: int | None = None
    dh_prime: bytes | None = None
    signature_scheme: int | None = None


@dataclass
class ServerFlight:
    """Everything read from the server in answer to one ClientHello."""

    hello: ServerHello | None = None
    alert: tuple[int, int] | None = None  # (level, description)
    certificates: list[bytes] = field(default_factory=list)
    key_exchange: KeyExchange | None = None
    ocsp_stapled: bool = False
    done: bool = False  # ServerHelloDone (or the TLS 1.3 ServerHello) was reached
    raw_bytes: int = 0

    @property
    def alert_name(self) -> str | None:
        if self.alert is None:
            return None
        return ALERTS.get(self.alert[1], f"alert {self.alert[1]}")


class Reader:
    """Reads a message field by field; a length past the end raises :class:`WireError`."""

    def __init__(self, data: bytes) -> None:
        self.data, self.pos = data, 0

    def take(self, n: int) -> bytes:
        if n < 0 or self.pos + n > len(self.data):
            raise WireError("message truncated")
        chunk = self.data[self.pos:self.pos + n]
        self.pos += n
        return chunk

    def uint(self, n: int) -> int:
        return int.from_bytes(self.take(n), "big")

    def vector(self, length_bytes: int) -> bytes:
        return self.take(self.uint(length_bytes))

    def left(self) -> int:
        return len(self.data) - self.pos


def parse_server_hello(body: bytes) -> ServerHello:
    """Parse a ServerHello handshake body (RFC 5246 §7.4.1.3, RFC 8446 §4.1.3)."""
    r = Reader(body)
    version = r.uint(2)
    random = r.take(32)
    r.vector(1)  # session id
    suite = r.uint(2)
    compression = r.uint(1)
    extensions: dict[int, bytes] = {}
    if r.left():
        ext = Reader(r.vector(2))
        while ext.left():
            kind = ext.uint(2)
            extensions[kind] = ext.vector(2)
    selected_group = None
    if EXT_SUPPORTED_VERSIONS in extensions:
        chosen = extensions[EXT_SUPPORTED_VERSIONS]
        if len(chosen) != 2:
            raise WireError("bad supported_versions in ServerHello")
        version = int.from_bytes(chosen, "big")
    retry = random == HRR_RANDOM
    if EXT_KEY_SHARE in extensions and len(extensions[EXT_KEY_SHARE]) >= 2:
        selected_group = int.from_bytes(extensions[EXT_KEY_SHARE][:2], "big")
    return ServerHello(version, suite, compression, retry, selected_group, extensions)


def parse_certificate(body: bytes) -> list[bytes]:
    """The DER certificates of a TLS <= 1.2 Certificate message, in the order served."""
    r = Reader(body)
    chain = Reader(r.vector(3))
    certs = []
    while chain.left():
        certs.append(chain.vector(3))
    return certs


def parse_server_key_exchange(body: bytes, kx: str, version: int) -> KeyExchange:
    """The group/prime and signature scheme of a ServerKeyExchange for key exchange ``kx``
    (``ECDHE``/``DHE``; RFC 8422 §5.4, RFC 5246 §7.4.3)."""
    r = Reader(body)
    result = KeyExchange()
    if kx == "ECDHE":
        curve_type = r.uint(1)
        if curve_type != 3:  # named_curve; explicit curves are reported as no group
            return result
        result.group = r.uint(2)
        r.vector(1)  # public point
    elif kx == "DHE":
        result.dh_prime = r.vector(2).lstrip(b"\x00")
        r.vector(2)  # g
        r.vector(2)  # Ys
    else:
        return result
    if version >= 0x0303 and r.left() >= 2:
        result.signature_scheme = r.uint(2)
    return result


class RecordBuffer:
    """Reassembles TLS records and handshake messages from a byte stream."""

    def __init__(self) -> None:
        self.data = bytearray()
        self.handshake = bytearray()

    def feed(self, data: bytes) -> None:
        self.data += data

    def records(self) -> list[tuple[int, int, bytes]]:
        """Complete records buffered so far, as (content type, version, fragment)."""
        out = []
        while len(self.data) >= 5:
            ctype, version, length = struct.unpack(">BHH", self.data[:5])
            if ctype not in (20, 21, 22, 23, 24) or (version >> 8) not in (3,):
                raise WireError("not a TLS record")
            if length > 18432:
                raise WireError("record too long")
            if len(self.data) < 5 + length:
                break
            out.append((ctype, version, bytes(self.data[5:5 + length])))
            del self.data[:5 + length]
        return out

    def messages(self, fragment: bytes) -> list[tuple[int, bytes]]:
        """Handshake messages completed by ``fragment``, as (type, body)."""
        self.handshake += fragment
        out = []
        while len(self.handshake) >= 4:
            kind = self.handshake[0]
            length = int.from_bytes(self.handshake[1:4], "big")
            if length > 1 << 18:
                raise WireError("handshake message too long")
            if len(self.handshake) < 4 + length:
                break
            out.append((kind, bytes(self.handshake[4:4 + length])))
            del self.handshake[:4 + length]
        return out


@dataclass
class SSLv2ServerHello:
    """An SSL 2.0 SERVER-HELLO: the cipher kinds the server supports and its certificate."""

    cipher_kinds: list[int]
    certificate: bytes | None


def parse_sslv2_server_hello(data: bytes) -> SSLv2ServerHello | None:
    """Parse an SSL 2.0 SERVER-HELLO record (None when ``data`` is not one yet/at all)."""
    if len(data) < 2 or not data[0] & 0x80:
        return None
    length = ((data[0] & 0x7F) << 8) | data[1]
    if len(data) < 2 + length:
        return None
    r = Reader(data[2:2 + length])
    try:
        if r.uint(1) != 4:
            return None
        r.uint(1)  # session id hit
        r.uint(1)  # certificate type
        version = r.uint(2)
        if version != 0x0002:
            return None
        cert_len, specs_len, conn_len = r.uint(2), r.uint(2), r.uint(2)
        certificate = r.take(cert_len) if cert_len else None
        specs = r.take(specs_len)
        r.take(conn_len)
    except WireError:
        return None
    if specs_len % 3:
        return None
    kinds = [int.from_bytes(specs[i:i + 3], "big") for i in range(0, len(specs), 3)]
    return SSLv2ServerHello(kinds, certificate)
