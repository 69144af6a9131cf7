"""Small servers inside the test process, in front of or instead of a real one: a STARTTLS
front (smtp, imap, pop3, ftp, ldap, xmpp) relaying to a TLS backend, hostile endpoints, a
relay that counts concurrent connections and one that tampers with a TLS 1.3 flight. They
are threads on a free 127.0.0.1 port (the kernel picks it), need nothing installed, and
are stopped when their block ends."""

from __future__ import annotations

import contextlib
import os
import socket
import threading
from collections.abc import Iterator


class _Relay(threading.Thread):
    """A small real STARTTLS server for ``protocol`` (smtp, imap, pop3, ftp, ldap, xmpp): it
    speaks the protocol's plaintext part and, once the client asked for TLS and was told to go
    ahead, relays the connection byte for byte to a TLS backend (an s_server)."""

    def __init__(self, backend_port: int, protocol: str = "smtp") -> None:
        super().__init__(daemon=True)
        self.backend_port = backend_port
        self.protocol = protocol
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(64)
        self.port = int(self.listener.getsockname()[1])
        self.stopping = False

    def run(self) -> None:
        while not self.stopping:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self.session, args=(client,), daemon=True).start()

    def session(self, client: socket.socket) -> None:
        with client:
            client.settimeout(5)
            try:
                leftover = getattr(self, f"_{self.protocol}")(client)
                if leftover is None:
                    return
                with socket.create_connection(("127.0.0.1", self.backend_port), 5) as backend:
                    if leftover:
                        backend.sendall(leftover)
                    _pump(client, backend)
            except OSError:
                return

    @staticmethod
    def _lines(client: socket.socket, buffer: bytes) -> tuple[bytes, bytes] | None:
        while b"\n" not in buffer:
            chunk = client.recv(4096)
            if not chunk:
                return None
            buffer += chunk
        line, rest = buffer.split(b"\n", 1)
        return line.rstrip(b"\r"), rest

    def _line_protocol(self, client: socket.socket, greeting: bytes,
                       replies: dict[bytes, bytes], start: bytes, go: bytes) -> bytes | None:
        client.sendall(greeting)
        buffer = b""
        while True:
            got = self._lines(client, buffer)
            if got is None:
                return None
            line, buffer = got
            words = line.split(b" ")
            verb = words[1].upper() if self.protocol == "imap" and len(words) > 1 else words[0].upper()
            tag = words[0] + b" " if self.protocol == "imap" else b""
            if verb == start:
                client.sendall(tag + go)
                return buffer
            client.sendall(tag + replies.get(verb, b"500 unknown\r\n"))

    def _smtp(self, client: socket.socket) -> bytes | None:
        return self._line_protocol(
            client, b"220 test.invalid ESMTP ready\r\n",
            {b"EHLO": b"250-test.invalid\r\n250-PIPELINING\r\n250 STARTTLS\r\n"},
            b"STARTTLS", b"220 Ready to start TLS\r\n")

    def _ftp(self, client: socket.socket) -> bytes | None:
        return self._line_protocol(client, b"220-test.invalid FTP\r\n220 ready\r\n", {},
                                   b"AUTH", b"234 AUTH TLS OK\r\n")

    def _pop3(self, client: socket.socket) -> bytes | None:
        return self._line_protocol(client, b"+OK POP3 ready\r\n", {}, b"STLS",
                                   b"+OK Begin TLS\r\n")

    def _imap(self, client: socket.socket) -> bytes | None:
        return self._line_protocol(client, b"* OK [CAPABILITY IMAP4rev1 STARTTLS] ready\r\n",
                                   {}, b"STARTTLS", b"OK Begin TLS negotiation now\r\n")

    def _ldap(self, client: socket.socket) -> bytes | None:
        request = client.recv(4096)
        if b"1.3.6.1.4.1.1466.20037" not in request:
            return None
        # LDAPMessage { messageID 1, extendedResp { resultCode success, "", "" } }
        client.sendall(bytes.fromhex("300c02010178070a010004000400"))
        return b""

    def _xmpp(self, client: socket.socket) -> bytes | None:
        data = b""
        while b"<stream:stream" not in data:
            chunk = client.recv(4096)
            if not chunk:
                return None
            data += chunk
        client.sendall(b"<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
                       b"xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>"
                       b"<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'>"
                       b"<required/></starttls></stream:features>")
        data = b""
        while b"<starttls" not in data:
            chunk = client.recv(4096)
            if not chunk:
                return None
            data += chunk
        client.sendall(b"<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")
        return b""

    def stop(self) -> None:
        self.stopping = True
        self.listener.close()


def _pump(a: socket.socket, b: socket.socket) -> None:
    def copy(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        with contextlib.suppress(OSError):
            dst.shutdown(socket.SHUT_WR)

    t = threading.Thread(target=copy, args=(b, a), daemon=True)
    t.start()
    copy(a, b)
    t.join(5)


@contextlib.contextmanager
def starttls_front(backend_port: int, protocol: str = "smtp") -> Iterator[int]:
    """A STARTTLS front for ``protocol`` relaying to the TLS server on ``backend_port``;
    yields its port."""
    relay = _Relay(backend_port, protocol)
    relay.start()
    try:
        yield relay.port
    finally:
        relay.stop()


class _Hostile(threading.Thread):
    """An endpoint that misbehaves: ``garbage`` answers with non-TLS bytes, ``stall`` reads
    and never answers, ``reset`` closes at once."""

    def __init__(self, behaviour: str) -> None:
        super().__init__(daemon=True)
        self.behaviour = behaviour
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(64)
        self.port = int(self.listener.getsockname()[1])
        self.open: list[socket.socket] = []

    def run(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if self.behaviour == "garbage":
                with contextlib.suppress(OSError):
                    client.recv(4096)
                    client.sendall(b"HTTP/1.0 400 Bad Request\r\n\r\n" + os.urandom(64))
                client.close()
            elif self.behaviour == "stall":
                self.open.append(client)
            else:
                client.close()

    def stop(self) -> None:
        self.listener.close()
        for client in self.open:
            client.close()


@contextlib.contextmanager
def hostile(behaviour: str) -> Iterator[int]:
    """An endpoint that misbehaves (``garbage``, ``stall`` or ``reset``); yields its port."""
    server = _Hostile(behaviour)
    server.start()
    try:
        yield server.port
    finally:
        server.stop()


class ConcurrencyRelay(threading.Thread):
    """Relays connections to ``backend`` and records how many were open at once (politeness:
    the scanner's per-host limit is seen from the server's side)."""

    def __init__(self, backend_port: int) -> None:
        super().__init__(daemon=True)
        self.backend_port = backend_port
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(128)
        self.port = int(self.listener.getsockname()[1])
        self.lock = threading.Lock()
        self.active = self.peak = self.total = 0

    def run(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            with self.lock:
                self.active += 1
                self.total += 1
                self.peak = max(self.peak, self.active)
            threading.Thread(target=self.session, args=(client,), daemon=True).start()

    def session(self, client: socket.socket) -> None:
        try:
            with client, socket.create_connection(("127.0.0.1", self.backend_port), 5) as up:
                _pump(client, up)
        except OSError:
            pass
        finally:
            with self.lock:
                self.active -= 1

    def stop(self) -> None:
        self.listener.close()


@contextlib.contextmanager
def concurrency_relay(backend_port: int) -> Iterator[ConcurrencyRelay]:
    """A relay to ``backend_port`` that counts connections open at once; yields it (its
    ``port``, ``peak`` and ``total``)."""
    relay = ConcurrencyRelay(backend_port)
    relay.start()
    try:
        yield relay
    finally:
        relay.stop()


class TamperingRelay(threading.Thread):
    """A hostile TLS 1.3 server made of a real one: relays connections to ``backend`` and,
    from the first encrypted record the server sends (after its ServerHello), tampers with
    what it says: ``bad-tag`` flips a bit of that record (its AEAD tag no longer verifies),
    ``garbage`` replaces it and everything after it with bytes that are not TLS."""

    def __init__(self, backend_port: int, behaviour: str) -> None:
        super().__init__(daemon=True)
        self.backend_port = backend_port
        self.behaviour = behaviour
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(64)
        self.port = int(self.listener.getsockname()[1])

    def run(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self.session, args=(client,), daemon=True).start()

    def session(self, client: socket.socket) -> None:
        try:
            with client, socket.create_connection(("127.0.0.1", self.backend_port), 5) as up:
                up.settimeout(5)
                threading.Thread(target=_copy, args=(client, up), daemon=True).start()
                self.tamper(up, client)
        except OSError:
            pass

    def tamper(self, server: socket.socket, client: socket.socket) -> None:
        buffer = b""
        while data := server.recv(65536):
            buffer += data
            while len(buffer) >= 5 and len(buffer) >= 5 + int.from_bytes(buffer[3:5], "big"):
                length = 5 + int.from_bytes(buffer[3:5], "big")
                record, buffer = buffer[:length], buffer[length:]
                if record[0] == 23:  # application_data: the first encrypted record
                    if self.behaviour == "garbage":
                        client.sendall(b"\x00garbage, not TLS\r\n" + os.urandom(64))
                        return
                    record = record[:-1] + bytes([record[-1] ^ 1])
                client.sendall(record)

    def stop(self) -> None:
        self.listener.close()


def _copy(src: socket.socket, dst: socket.socket) -> None:
    try:
        while data := src.recv(65536):
            dst.sendall(data)
    except OSError:
        pass
    with contextlib.suppress(OSError):
        dst.shutdown(socket.SHUT_WR)  # s_server serves one connection at a time


@contextlib.contextmanager
def tampering_relay(backend_port: int, behaviour: str) -> Iterator[int]:
    """A relay to the TLS 1.3 server on ``backend_port`` that tampers with its encrypted
    flight (``bad-tag`` or ``garbage``); yields its port."""
    relay = TamperingRelay(backend_port, behaviour)
    relay.start()
    try:
        yield relay.port
    finally:
        relay.stop()
