"""One ClientHello on one connection, and the server's first flight read back: its
ServerHello (TLS 1.3: up to it, the rest is encrypted), Certificate, ServerKeyExchange and
CertificateStatus up to ServerHelloDone, or an alert, or the connection closing; and the SSLv2
CLIENT-HELLO with its SERVER-HELLO. Every probe of :mod:`.probes` but the TLS 1.3 handshakes
is made of these.
"""

from __future__ import annotations

import asyncio

from cryptocheck.catalog import tls as tls_catalog
from cryptocheck.sources.tls import wire
from cryptocheck.sources.tls.connection import Endpoint, ProbeError, connection, read_some


async def exchange(endpoint: Endpoint, spec: wire.ClientHelloSpec) -> wire.ServerFlight:
    """Send one ClientHello and read the first flight: ServerHello (TLS 1.3: up to it; TLS
    <= 1.2: up to ServerHelloDone, with Certificate, ServerKeyExchange, CertificateStatus),
    or an alert, or the connection closing (an empty flight)."""
    async with connection(endpoint) as (reader, writer):
        writer.write(wire.client_hello(spec))
        await writer.drain()
        return await _read_flight(endpoint, reader)


async def _read_flight(endpoint: Endpoint, reader: asyncio.StreamReader) -> wire.ServerFlight:
    flight = wire.ServerFlight()
    buffer = wire.RecordBuffer()
    kx: str | None = None
    while not flight.done and flight.alert is None:
        data = await read_some(endpoint, reader)
        if not data:
            break
        flight.raw_bytes += len(data)
        buffer.feed(data)
        try:
            records = buffer.records()
        except wire.WireError as exc:
            raise ProbeError("not-tls", f"the server's answer is not TLS ({exc})") from None
        for ctype, _version, fragment in records:
            if ctype == wire.CONTENT_ALERT:
                if len(fragment) >= 2:
                    flight.alert = (fragment[0], fragment[1])
                break
            if ctype != wire.CONTENT_HANDSHAKE:
                if ctype == wire.CONTENT_CHANGE_CIPHER_SPEC:
                    continue
                flight.done = True
                break
            try:
                for kind, body in buffer.messages(fragment):
                    kx = _handle(flight, kind, body, kx)
            except wire.WireError as exc:
                raise ProbeError("not-tls", f"malformed handshake message ({exc})") from None
            if flight.done:
                break
    return flight


def _handle(flight: wire.ServerFlight, kind: int, body: bytes, kx: str | None) -> str | None:
    if kind == wire.HS_SERVER_HELLO:
        hello = wire.parse_server_hello(body)
        flight.hello = hello
        if hello.version >= 0x0304 or hello.retry_request:
            flight.done = True  # everything after a TLS 1.3 ServerHello is encrypted
            return None
        suite = tls_catalog.suite(hello.cipher_suite)
        return suite.kx if suite else None
    if flight.hello is None:
        raise wire.WireError("handshake message before ServerHello")
    if kind == wire.HS_CERTIFICATE:
        flight.certificates = wire.parse_certificate(body)
    elif kind == wire.HS_SERVER_KEY_EXCHANGE and kx in ("DHE", "ECDHE"):
        flight.key_exchange = wire.parse_server_key_exchange(body, kx, flight.hello.version)
    elif kind == wire.HS_CERTIFICATE_STATUS:
        flight.ocsp_stapled = True
    elif kind == wire.HS_SERVER_HELLO_DONE:
        flight.done = True
    return kx


async def sslv2_exchange(endpoint: Endpoint) -> wire.SSLv2ServerHello | None:
    """Offer every SSLv2 cipher kind; the SERVER-HELLO lists all the server supports."""
    kinds = tuple(s.code for s in tls_catalog.cipher_suites() if s.sslv2)
    async with connection(endpoint) as (reader, writer):
        writer.write(wire.sslv2_client_hello(kinds))
        await writer.drain()
        data = b""
        while len(data) < 2 or len(data) < 2 + (((data[0] & 0x7F) << 8) | data[1]):
            chunk = await read_some(endpoint, reader)
            if not chunk:
                break
            data += chunk
            if not data[0] & 0x80:
                return None  # a TLS alert or anything else: no SSLv2
        return wire.parse_sslv2_server_hello(data)
