"""One TCP connection to an endpoint: connect (with limits, rate and retries) and speak the
STARTTLS preamble of its service, up to where TLS starts. What is sent then and read back is
:mod:`.flight`'s (one ClientHello and the server's first flight), :mod:`.tls13`'s (a whole
TLS 1.3 handshake) or :mod:`.certs`'s (pyOpenSSL's handshake).

Every network wait has a timeout (connect, and each read), so a server that stalls costs at
most those timeouts; every connection is counted, so the scanner can say how many it opened.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from cryptocheck.sources.probe import charge


class ProbeError(Exception):
    """The endpoint could not be reached or does not speak what it was asked to.

    ``reason`` is a RunError reason code: ``unreachable``, ``refused``, ``timeout``,
    ``reset``, ``starttls-failed``, ``not-tls``.
    """

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


@dataclass
class HostLimiter:
    """Per-host politeness: at most ``limit`` connections at once and ``rate`` new ones a
    second (None: no rate limit)."""

    limit: int
    rate: float | None
    semaphore: asyncio.Semaphore = field(init=False)
    next_slot: float = 0.0
    open_now: int = 0
    peak: int = 0  # most connections open to the host at once (never above ``limit``)

    def __post_init__(self) -> None:
        self.semaphore = asyncio.Semaphore(self.limit)

    async def pace(self) -> None:
        """Wait until the rate allows another connection."""
        if not self.rate:
            return
        now = time.monotonic()
        slot = max(now, self.next_slot)
        self.next_slot = slot + 1.0 / self.rate
        if slot > now:
            await asyncio.sleep(slot - now)


@dataclass
class Endpoint:
    """Where to connect and how: ``service`` is ``tls`` (direct) or a STARTTLS protocol."""

    host: str
    port: int
    address: str
    service: str
    sni: str | None
    connect_timeout: float
    read_timeout: float
    retries: int
    limiter: HostLimiter
    global_limit: asyncio.Semaphore
    connections: int = 0
    timeouts: int = 0


async def _open(endpoint: Endpoint) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    last: ProbeError | None = None
    for attempt in range(endpoint.retries + 1):
        await endpoint.limiter.pace()
        endpoint.connections += 1
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection(endpoint.address, endpoint.port),
                endpoint.connect_timeout)
        except TimeoutError:
            last = ProbeError("timeout", f"connect timed out after {endpoint.connect_timeout:g} s")
        except ConnectionRefusedError:
            raise ProbeError("refused", "connection refused") from None
        except OSError as exc:
            last = ProbeError("unreachable", f"cannot connect: {exc.strerror or exc}")
        else:
            try:
                await starttls(endpoint, reader, writer)
            except BaseException:
                writer.close()
                raise
            return reader, writer
        if attempt < endpoint.retries:
            await asyncio.sleep(0.2 * (attempt + 1))
    assert last is not None
    raise last


@contextlib.asynccontextmanager
async def connection(endpoint: Endpoint
                     ) -> AsyncIterator[tuple[asyncio.StreamReader, asyncio.StreamWriter]]:
    """An open connection within the per-host and global limits, closed on exit; counted
    against the running probe's budget."""
    charge()
    limiter = endpoint.limiter
    async with endpoint.global_limit, limiter.semaphore:
        limiter.open_now += 1
        limiter.peak = max(limiter.peak, limiter.open_now)
        try:
            reader, writer = await _open(endpoint)
            try:
                yield reader, writer
            finally:
                writer.close()
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(writer.wait_closed(), 1.0)
        finally:
            limiter.open_now -= 1


async def read_some(endpoint: Endpoint, reader: asyncio.StreamReader, n: int = 16384) -> bytes:
    try:
        data = await asyncio.wait_for(reader.read(n), endpoint.read_timeout)
    except TimeoutError:
        endpoint.timeouts += 1
        raise ProbeError("timeout", f"no answer within {endpoint.read_timeout:g} s") from None
    except (ConnectionResetError, BrokenPipeError):
        return b""
    except OSError as exc:
        raise ProbeError("reset", f"connection failed: {exc.strerror or exc}") from None
    return data


async def _read_line_reply(endpoint: Endpoint, reader: asyncio.StreamReader,
                           done: re.Pattern[bytes], limit: int = 65536) -> bytes:
    """Read until ``done`` matches the text so far (a complete reply), within ``limit``."""
    text = b""
    while not done.search(text):
        chunk = await read_some(endpoint, reader, 4096)
        if not chunk:
            raise ProbeError("starttls-failed", f"{endpoint.service}: connection closed "
                                                "before STARTTLS")
        text += chunk
        if len(text) > limit:
            raise ProbeError("starttls-failed", f"{endpoint.service}: reply too long")
    return text


_SMTP_END = re.compile(rb"(^|\r?\n)\d{3} [^\r\n]*\r?\n")
_FTP_END = _SMTP_END
_LDAP_STARTTLS = bytes.fromhex("301d02010177188016") + b"1.3.6.1.4.1.1466.20037"


async def starttls(endpoint: Endpoint, reader: asyncio.StreamReader,
                   writer: asyncio.StreamWriter) -> None:
    """Speak the service's plaintext preamble up to the point where TLS starts."""
    service = endpoint.service
    if service == "tls":
        return

    def fail(reply: bytes) -> ProbeError:
        first = reply.decode("latin-1", "replace").strip().splitlines()[:1]
        return ProbeError("starttls-failed",
                          f"{service}: STARTTLS refused ({first[0][:80] if first else 'no reply'})")

    if service in ("smtp", "ftp"):
        banner = await _read_line_reply(endpoint, reader, _SMTP_END)
        if not banner.startswith(b"220"):
            raise fail(banner)
        if service == "smtp":
            writer.write(b"EHLO cryptocheck.invalid\r\n")
            reply = await _read_line_reply(endpoint, reader, _SMTP_END)
            if not reply.startswith(b"250"):
                raise fail(reply)
            writer.write(b"STARTTLS\r\n")
            expect = b"220"
        else:
            writer.write(b"AUTH TLS\r\n")
            expect = b"234"
        reply = await _read_line_reply(endpoint, reader, _SMTP_END)
        if not reply.startswith(expect):
            raise fail(reply)
    elif service == "imap":
        await _read_line_reply(endpoint, reader, re.compile(rb"\r?\n"))
        writer.write(b"a1 STARTTLS\r\n")
        reply = await _read_line_reply(endpoint, reader, re.compile(rb"(^|\n)a1 [^\n]*\n"))
        if not re.search(rb"(^|\n)a1 OK", reply):
            raise fail(reply)
    elif service == "pop3":
        await _read_line_reply(endpoint, reader, re.compile(rb"\r?\n"))
        writer.write(b"STLS\r\n")
        reply = await _read_line_reply(endpoint, reader, re.compile(rb"\r?\n"))
        if not reply.startswith(b"+OK"):
            raise fail(reply)
    elif service == "xmpp":
        domain = endpoint.sni or endpoint.host
        writer.write(("<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
                      "xmlns:stream='http://etherx.jabber.org/streams' "
                      f"to='{domain}' version='1.0'>").encode())
        await _read_line_reply(endpoint, reader, re.compile(rb"</stream:features>"))
        writer.write(b"<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")
        reply = await _read_line_reply(endpoint, reader, re.compile(rb"<proceed|<failure"))
        if b"<proceed" not in reply:
            raise fail(reply)
    elif service == "ldap":
        writer.write(_LDAP_STARTTLS)
        reply = await read_some(endpoint, reader, 4096)
        # ExtendedResponse (0x78) whose resultCode (ENUMERATED) is success (0).
        if b"\x78" not in reply or b"\x0a\x01\x00" not in reply:
            raise fail(reply)
    elif service == "postgres":
        writer.write(b"\x00\x00\x00\x08\x04\xd2\x16\x2f")  # SSLRequest (80877103)
        reply = await read_some(endpoint, reader, 1)
        if reply != b"S":
            raise ProbeError("starttls-failed", "postgres: server does not offer SSL"
                             if reply == b"N" else "postgres: no SSLRequest answer")
    else:
        raise ProbeError("starttls-failed", f"unknown service {service!r}")
    await writer.drain()
