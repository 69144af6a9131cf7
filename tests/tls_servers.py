"""Real TLS servers for the TLS tests: openssl s_server, GnuTLS's gnutls-serv, a pyOpenSSL
server on cryptography's bundled OpenSSL (ML-KEM groups), nginx, a STARTTLS SMTP front, and
hostile endpoints, each on a free 127.0.0.1 port and always stopped by its own pid."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO

FIXTURES = Path(__file__).parent / "fixtures" / "tls"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_listening(port: int, proc: subprocess.Popen[bytes] | None = None,
                   timeout: float = 10.0, host: str = "127.0.0.1",
                   errors: IO[bytes] | None = None) -> None:
    """Wait until ``port`` accepts connections; a server that exits first is an error with
    what it wrote to ``errors`` (a file) or its stderr pipe."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            said = b""
            if errors is not None:
                errors.seek(0)
                said = errors.read()
            elif proc.stderr:
                said = proc.stderr.read()
            raise RuntimeError(f"server exited: {said.decode(errors='replace')}")
        with contextlib.suppress(OSError), socket.create_connection((host, port), 0.2):
            return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listening on {port}")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


@contextlib.contextmanager
def _serving(cmd: list[str], port: int, host: str = "127.0.0.1",
             stdin: int = subprocess.DEVNULL) -> Iterator[int]:
    """Run a server until the block ends (stopped by its own pid); yields ``port`` once it
    listens. Its stderr goes to a file, not a pipe: servers that log every refused
    handshake would fill a pipe nobody reads (64 KiB, ten scans or so) and stall."""
    with tempfile.TemporaryFile() as errors:
        proc = subprocess.Popen(cmd, stdin=stdin, stdout=subprocess.DEVNULL, stderr=errors)
        try:
            wait_listening(port, proc, host=host, errors=errors)
            yield port
        finally:
            _stop(proc)


@contextlib.contextmanager
def s_server(*args: str, cert: str = "rsa", host: str = "127.0.0.1") -> Iterator[int]:
    """``openssl s_server`` with ``args`` and the fixture certificate ``cert``; yields the port.

    The waiting connection of ``wait_listening`` is accepted and dropped by s_server before
    the tests connect; -naccept is not used, so s_server serves until stopped."""
    port = free_port()
    base = cert if "/" in cert else str(FIXTURES / cert)  # a fixture name or a path prefix
    where = f"[{host}]" if ":" in host else host
    cmd = ["openssl", "s_server", "-accept", f"{where}:{port}", "-quiet",
           "-cert", f"{base}.pem", "-key", f"{base}.key",
           *args]
    with _serving(cmd, port, host, stdin=subprocess.PIPE):
        yield port


# A GnuTLS priority string for a server that still offers RC4 and 3DES (Debian's OpenSSL 3
# has neither), in its own order, on TLS 1.0-1.2.
RC4_3DES = ("NONE:+VERS-TLS1.2:+VERS-TLS1.1:+VERS-TLS1.0:+ARCFOUR-128:+3DES-CBC:+AES-128-CBC:"
            "+RSA:+ECDHE-RSA:+SHA1:+MD5:+COMP-NULL:+SIGN-ALL:+CURVE-ALL:%SERVER_PRECEDENCE")


# NULL (no encryption), CAMELLIA GCM and CBC, AES-CCM-8, with static RSA, ECDHE and DHE (RFC 7919
# groups), TLS 1.2 only.
NULL_CAMELLIA_CCM8 = ("NONE:+VERS-TLS1.2:+NULL:+CAMELLIA-128-GCM:+CAMELLIA-256-CBC:+AES-128-CCM-8:"
                      "+RSA:+ECDHE-RSA:+DHE-RSA:+SHA1:+SHA256:+AEAD:+COMP-NULL:+SIGN-ALL:"
                      "+CURVE-ALL:%SERVER_PRECEDENCE")


def gnutls_suites(priority: str) -> list[int]:
    """The cipher suites (code points, in order) GnuTLS enables for ``priority``, as
    ``gnutls-cli --list`` prints them."""
    listing = subprocess.run(["gnutls-cli", "--priority", priority, "--list"],
                             capture_output=True, text=True, check=True).stdout
    codes = []
    for line in listing.splitlines():
        fields = line.split("\t")
        if len(fields) >= 2 and fields[0].startswith("TLS_") and fields[1].startswith("0x"):
            high, low = (int(part.strip(), 16) for part in fields[1].split(","))
            codes.append(high << 8 | low)
    return codes


@contextlib.contextmanager
def gnutls_serv(priority: str, cert: str = "rsa") -> Iterator[int]:
    """GnuTLS's ``gnutls-serv`` (echo mode) with a priority string and the fixture
    certificate ``cert``: it serves suites the local OpenSSL no longer can; yields the port."""
    port = free_port()
    base = str(FIXTURES / cert)
    cmd = ["gnutls-serv", "--echo", "--quiet", "--port", str(port),
           "--x509certfile", f"{base}.pem", "--x509keyfile", f"{base}.key",
           "--priority", priority]
    with _serving(cmd, port):
        yield port


@contextlib.contextmanager
def bundled_openssl_server(groups: str, cert: str = "rsa") -> Iterator[int]:
    """A TLS server on the OpenSSL `cryptography` bundles (through pyOpenSSL), which has the
    ML-KEM groups the system's OpenSSL lacks, with the group list ``groups``; yields the
    port."""
    port = free_port()
    base = str(FIXTURES / cert)
    with _serving([sys.executable, str(FIXTURES / "bundled_openssl_server.py"),
                   f"{base}.pem", f"{base}.key", str(port), groups], port):
        yield port


@contextlib.contextmanager
def nginx(server_block: str) -> Iterator[int]:
    """nginx (daemon off, its own prefix) with one TLS server block; yields the port."""
    binary = shutil.which("nginx") or "/usr/sbin/nginx"
    port = free_port()
    with tempfile.TemporaryDirectory() as prefix:
        os.makedirs(f"{prefix}/logs")
        conf = f"""
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/logs/error.log;
events {{ worker_connections 256; }}
http {{
  access_log off;
  client_body_temp_path {prefix}/body; proxy_temp_path {prefix}/proxy;
  fastcgi_temp_path {prefix}/fastcgi; uwsgi_temp_path {prefix}/uwsgi;
  scgi_temp_path {prefix}/scgi;
  server {{
    listen 127.0.0.1:{port} ssl;
    ssl_certificate {FIXTURES}/rsa.pem;
    ssl_certificate_key {FIXTURES}/rsa.key;
    {server_block}
    location / {{ return 200 "ok"; }}
  }}
}}
"""
        Path(f"{prefix}/nginx.conf").write_text(conf)
        with open(f"{prefix}/stderr.log", "w+b") as errors:
            proc = subprocess.Popen([binary, "-p", prefix, "-c", f"{prefix}/nginx.conf",
                                     "-g", "daemon off;"], stdout=subprocess.DEVNULL,
                                    stderr=errors)
            try:
                wait_listening(port, proc, errors=errors)
                yield port
            finally:
                _stop(proc)


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
    server = _Hostile(behaviour)
    server.start()
    try:
        yield server.port
    finally:
        server.stop()


PG_BIN = Path("/usr/lib/postgresql/15/bin")


def postgres_available() -> bool:
    return (PG_BIN / "initdb").exists() and shutil.which("runuser") is not None


@contextlib.contextmanager
def postgres_ssl() -> Iterator[int]:
    """A real PostgreSQL with ssl = on (own cluster in a temporary directory, run as the
    postgres user, on a free port, the fixture RSA certificate); yields the port."""
    port = free_port()
    root = Path(tempfile.mkdtemp(prefix="cc-pg-"))
    try:
        os.chmod(root, 0o755)
        data = root / "data"
        for name in ("rsa.pem", "rsa.key"):
            shutil.copy(FIXTURES / name, root / name)
        subprocess.run(["chown", "-R", "postgres:postgres", str(root)], check=True)
        os.chmod(root / "rsa.key", 0o600)
        run_as = ["runuser", "-u", "postgres", "--"]
        subprocess.run([*run_as, str(PG_BIN / "initdb"), "-D", str(data), "-A", "trust"],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        with tempfile.TemporaryFile() as errors:  # postgres logs every refused handshake
            proc = subprocess.Popen(
                [*run_as, str(PG_BIN / "postgres"), "-D", str(data), "-p", str(port),
                 "-c", "listen_addresses=127.0.0.1", "-c", f"unix_socket_directories={root}",
                 "-c", "ssl=on", "-c", f"ssl_cert_file={root}/rsa.pem",
                 "-c", f"ssl_key_file={root}/rsa.key", "-c", "ssl_min_protocol_version=TLSv1.2"],
                stdout=subprocess.DEVNULL, stderr=errors)
            try:
                wait_listening(port, proc, timeout=30, errors=errors)
                yield port
            finally:
                _stop(proc)
    finally:
        shutil.rmtree(root, ignore_errors=True)


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
    relay = TamperingRelay(backend_port, behaviour)
    relay.start()
    try:
        yield relay.port
    finally:
        relay.stop()
