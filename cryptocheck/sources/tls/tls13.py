"""The client side of a TLS 1.3 handshake, as far as the server's encrypted flight.

TLS 1.3 encrypts everything after the ServerHello, the Certificate message and the
CertificateVerify (which names the signature scheme the server signed with) included. To read
them the client has to make a real key share, derive the handshake traffic keys (RFC 8446
§7.1) and decrypt the records (§5.2). That is all this module does (the key share is
:mod:`.key_share`'s, the key schedule and the record protection :mod:`.key_schedule`'s), with
checking the CertificateVerify's signature against the leaf's key (§4.4.3, :mod:`.cert_verify`):
it sends no certificate and no Finished, and closes after the CertificateVerify with an
encrypted close_notify.

The cryptography is `cryptography`'s; what is here is the protocol: the messages, their order
and the transcript hash. No secret leaves this module: the results carry only what the server
showed in the clear to anyone who completes the key exchange (its chain, its chosen scheme,
suite and group, whether its signature verifies).

:class:`ClientHandshake` is the protocol without I/O (fed bytes, it returns bytes to send),
so that RFC 8448's published trace can check it; :func:`server_auth` runs it on one
connection of the scanner (STARTTLS, limits and timeouts apply as to every probe).
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import os
import struct
from dataclasses import dataclass, field

from cryptocheck.sources.tls import wire
from cryptocheck.sources.tls.cert_verify import verify_certificate_verify
from cryptocheck.sources.tls.connection import Endpoint, ProbeError, connection, read_some
from cryptocheck.sources.tls.key_schedule import (
    CONTENT_APPLICATION_DATA,
    SUITES,
    RecordProtection,
    Suite,
    Tls13Error,
    handshake_secrets,
)
from cryptocheck.sources.tls.key_share import KeyShare

HS_ENCRYPTED_EXTENSIONS, HS_CERTIFICATE_VERIFY, HS_FINISHED, HS_MESSAGE_HASH = 8, 15, 20, 254


class HandshakeRefused(Exception):
    """The server refused the ClientHello (an alert, or closing before its ServerHello), or
    answered with an older version: nothing offered was acceptable for TLS 1.3."""

    def __init__(self, alert: str | None, no_tls13: bool = False) -> None:
        super().__init__(alert or "connection closed")
        self.alert = alert
        self.no_tls13 = no_tls13  # an older version chosen, or a protocol_version alert


@dataclass
class ServerAuth:
    """What the server's encrypted flight showed: its certificate chain (as served, leaf
    first), whether the leaf's entry carried an OCSP response, and the signature scheme of its
    CertificateVerify (and whether its signature verifies); with the suite and group
    negotiated."""

    cipher_suite: int
    group: int
    signature_scheme: int
    certificates: list[bytes] = field(default_factory=list)
    ocsp_stapled: bool = False
    retried: bool = False  # a HelloRetryRequest asked for another group first
    # Whether the CertificateVerify's signature verifies with the leaf's key (None: it could
    # not be checked, e.g. a scheme or key cryptocheck has no verifier for), and why not.
    verified: bool | None = None
    verification: str = ""


def _message(kind: int, body: bytes) -> bytes:
    return bytes([kind]) + len(body).to_bytes(3, "big") + body


def parse_certificate13(body: bytes) -> tuple[list[bytes], bool]:
    """The DER chain of a TLS 1.3 Certificate message (§4.4.2), and whether the leaf's entry
    has a status_request extension with an OCSP response (RFC 8446 §4.4.2.1: stapling)."""
    r = wire.Reader(body)
    r.vector(1)  # certificate_request_context
    entries = wire.Reader(r.vector(3))
    if r.left():
        raise Tls13Error("bytes after the certificate list")
    chain: list[bytes] = []
    stapled = False
    while entries.left():
        chain.append(entries.vector(3))
        extensions = wire.Reader(entries.vector(2))
        while extensions.left():
            kind, data = extensions.uint(2), extensions.vector(2)
            if kind == wire.EXT_STATUS_REQUEST and len(chain) == 1:
                status = wire.Reader(data)
                stapled = status.uint(1) == 1 and bool(status.vector(3))
    return chain, stapled


class ClientHandshake:
    """The client's side up to the server's CertificateVerify, without I/O.

    ``hello()`` is the first record to send; each ``feed(data)`` takes bytes from the server
    and returns bytes to send (a second ClientHello after a HelloRetryRequest, and at the end
    a ChangeCipherSpec and an encrypted close_notify). When ``result`` is set, it is done.
    Raises :class:`HandshakeRefused` for a refusal, :class:`Tls13Error` for anything else
    the server should not have sent.
    """

    def __init__(self, spec: wire.ClientHelloSpec, share: KeyShare) -> None:
        self.spec = dataclasses.replace(
            spec, version=0x0304, key_shares=((share.group, share.public),),
            random=spec.random or os.urandom(32),
            session_id=spec.session_id if spec.session_id is not None else os.urandom(32))
        self.share = share
        self.buffer = wire.RecordBuffer()
        self.encrypted = wire.RecordBuffer()  # reassembles the decrypted handshake messages
        self.messages: list[bytes] = []  # the transcript so far
        self.suite: Suite | None = None
        self.server: RecordProtection | None = None
        self.client: RecordProtection | None = None
        self.retry: int | None = None  # the suite of a HelloRetryRequest
        self.certificates: list[bytes] | None = None
        self.stapled = False
        self.result: ServerAuth | None = None

    def hello(self) -> bytes:
        record = wire.client_hello(self.spec)
        self.messages.append(record[5:])
        return record

    def feed(self, data: bytes) -> bytes:
        self.buffer.feed(data)
        out = b""
        for ctype, version, fragment in self.buffer.records():
            if self.result is not None:
                break
            if ctype == wire.CONTENT_CHANGE_CIPHER_SPEC:
                if fragment != b"\x01":
                    raise Tls13Error("bad ChangeCipherSpec")
            elif ctype == wire.CONTENT_ALERT and self.server is None:
                code = fragment[1] if len(fragment) >= 2 else -1
                raise HandshakeRefused(wire.ALERTS.get(code, f"alert {code}"), code == 70)
            elif ctype == wire.CONTENT_HANDSHAKE and self.server is None:
                for kind, body in self.buffer.messages(fragment):
                    if self.server is not None or kind != wire.HS_SERVER_HELLO:
                        raise Tls13Error("unexpected handshake message in the clear")
                    out += self._server_hello(_message(kind, body), body)
            elif ctype == CONTENT_APPLICATION_DATA and self.server is not None:
                header = struct.pack(">BHH", ctype, version, len(fragment))
                inner, content = self.server.open(header, fragment)
                if inner == wire.CONTENT_ALERT:
                    code = content[1] if len(content) >= 2 else -1
                    raise Tls13Error("the server sent "
                                     + wire.ALERTS.get(code, f"alert {code}"))
                if inner != wire.CONTENT_HANDSHAKE:
                    raise Tls13Error("unexpected encrypted content")
                for kind, body in self.encrypted.messages(content):
                    out += self._encrypted_message(kind, body)
                    if self.result is not None:
                        break
            else:
                raise Tls13Error(f"unexpected record of type {ctype}")
        return out

    def _server_hello(self, message: bytes, body: bytes) -> bytes:
        hello = wire.parse_server_hello(body)
        if hello.version != 0x0304:
            raise HandshakeRefused(f"version 0x{hello.version:04X} chosen", no_tls13=True)
        suite = SUITES.get(hello.cipher_suite)
        if suite is None or hello.cipher_suite not in self.spec.cipher_suites:
            raise Tls13Error(f"server chose suite 0x{hello.cipher_suite:04X}, not offered")
        if self.retry is not None and hello.cipher_suite != self.retry:
            raise Tls13Error("the suite changed after the HelloRetryRequest")
        self.suite = suite
        if hello.retry_request:
            return self._retry(message, hello)
        entry = wire.Reader(hello.extensions.get(wire.EXT_KEY_SHARE, b""))
        group, key = entry.uint(2), entry.vector(2)
        if group != self.share.group:
            raise Tls13Error("the server's key share is not for the group offered")
        self.messages.append(message)
        hello_hash = self._transcript_hash()
        secrets = handshake_secrets(suite, self.share.shared_secret(key), hello_hash)
        self.server = RecordProtection(suite, secrets.server_handshake_traffic)
        self.client = RecordProtection(suite, secrets.client_handshake_traffic)
        return b""

    def _retry(self, message: bytes, hello: wire.ServerHello) -> bytes:
        group = hello.selected_group
        if self.retry is not None or group == self.share.group \
                or group not in self.spec.groups:
            raise Tls13Error("a HelloRetryRequest for a group not offered (or a second one)")
        self.retry = hello.cipher_suite
        assert group is not None and self.suite is not None
        try:
            self.share = KeyShare(group)
        except ValueError as exc:
            raise Tls13Error(str(exc)) from None
        # §4.4.1: the first ClientHello enters the transcript as its hash only.
        first = hashlib.new(self.suite.hash_name, self.messages[0]).digest()
        self.messages = [_message(HS_MESSAGE_HASH, first), message]
        cookie = hello.extensions.get(wire.EXT_COOKIE)
        self.spec = dataclasses.replace(
            self.spec, key_shares=((group, self.share.public),),
            cookie=wire.Reader(cookie).vector(2) if cookie else None)
        record = wire.client_hello(self.spec)
        self.messages.append(record[5:])
        return record

    def _transcript_hash(self) -> bytes:
        assert self.suite is not None
        return hashlib.new(self.suite.hash_name, b"".join(self.messages)).digest()

    def _encrypted_message(self, kind: int, body: bytes) -> bytes:
        if kind in (HS_ENCRYPTED_EXTENSIONS, wire.HS_CERTIFICATE_REQUEST, wire.HS_CERTIFICATE):
            if kind == wire.HS_CERTIFICATE:
                if self.certificates is not None:
                    raise Tls13Error("a second Certificate message")
                self.certificates, self.stapled = parse_certificate13(body)
            self.messages.append(_message(kind, body))  # the CertificateVerify signs these
            return b""
        if kind != HS_CERTIFICATE_VERIFY or not self.certificates:
            raise Tls13Error("no CertificateVerify after the server's Certificate")
        r = wire.Reader(body)
        scheme = r.uint(2)
        signature = r.vector(2)
        assert self.suite is not None and self.client is not None
        suite_code = next(c for c, s in SUITES.items() if s is self.suite)
        verified, why = verify_certificate_verify(self.certificates[0], scheme, signature,
                                                  self._transcript_hash())
        self.result = ServerAuth(suite_code, self.share.group, scheme, self.certificates,
                                 self.stapled, self.retry is not None, verified, why)
        # Close politely: as a client whose handshake ends here would (middlebox-compatible
        # ChangeCipherSpec, then the alert under the client handshake traffic key, §6.1).
        alert = self.client.seal(wire.CONTENT_ALERT, b"\x01\x00")
        return bytes([wire.CONTENT_CHANGE_CIPHER_SPEC]) + b"\x03\x03\x00\x01\x01" + alert


async def server_auth(endpoint: Endpoint, spec: wire.ClientHelloSpec) -> ServerAuth:
    """One TLS 1.3 handshake offering ``spec`` with a key share for its first group, up to
    the server's CertificateVerify. Raises :class:`HandshakeRefused` when the server refuses
    what was offered, ProbeError (``handshake-failed``, or the network's reasons) otherwise."""
    share = KeyShare(spec.groups[0])
    handshake = ClientHandshake(spec, share)
    async with connection(endpoint) as (reader, writer):
        writer.write(handshake.hello())
        await writer.drain()
        while handshake.result is None:
            data = await read_some(endpoint, reader)
            if not data:
                if handshake.server is None:
                    raise HandshakeRefused(None)
                raise ProbeError("handshake-failed", "connection closed during the handshake")
            try:
                answer = handshake.feed(data)
            except wire.WireError as exc:
                raise ProbeError("handshake-failed", f"TLS 1.3 handshake: {exc}") from None
            if answer:
                with contextlib.suppress(OSError):
                    writer.write(answer)
                    await writer.drain()
        return handshake.result
