"""Real TLS servers for the TLS tests: openssl s_server, GnuTLS's gnutls-serv, a pyOpenSSL
server on cryptography's bundled OpenSSL (ML-KEM groups), nginx and a PostgreSQL with
ssl = on, each on a free 127.0.0.1 port and always stopped by its own pid. Tests that use
them are marked ``tls_server``."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

from servers.needs import require
from servers.process import free_port, serving

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "tls"


@contextlib.contextmanager
def s_server(*args: str, cert: str = "rsa", host: str = "127.0.0.1") -> Iterator[int]:
    """``openssl s_server`` with ``args`` and the fixture certificate ``cert``; yields the port.

    The waiting connection of ``wait_listening`` is accepted and dropped by s_server before
    the tests connect; -naccept is not used, so s_server serves until stopped."""
    require("tls_server", "openssl s_server")
    port = free_port()
    base = cert if "/" in cert else str(FIXTURES / cert)  # a fixture name or a path prefix
    where = f"[{host}]" if ":" in host else host
    cmd = ["openssl", "s_server", "-accept", f"{where}:{port}", "-quiet",
           "-cert", f"{base}.pem", "-key", f"{base}.key",
           *args]
    with serving(cmd, port, host, stdin=subprocess.PIPE):
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
    require("tls_server", "gnutls-serv")
    port = free_port()
    base = str(FIXTURES / cert)
    cmd = ["gnutls-serv", "--echo", "--quiet", "--port", str(port),
           "--x509certfile", f"{base}.pem", "--x509keyfile", f"{base}.key",
           "--priority", priority]
    with serving(cmd, port):
        yield port


@contextlib.contextmanager
def bundled_openssl_server(groups: str, cert: str = "rsa") -> Iterator[int]:
    """A TLS server on the OpenSSL `cryptography` bundles (through pyOpenSSL), which has the
    ML-KEM groups the system's OpenSSL lacks, with the group list ``groups``; yields the
    port."""
    require("tls_server", "the bundled-OpenSSL server")
    port = free_port()
    base = str(FIXTURES / cert)
    with serving([sys.executable, str(FIXTURES / "bundled_openssl_server.py"),
                  f"{base}.pem", f"{base}.key", str(port), groups], port):
        yield port


@contextlib.contextmanager
def nginx(server_block: str) -> Iterator[int]:
    """nginx (daemon off, its own prefix) with one TLS server block; yields the port."""
    require("tls_server", "nginx")
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
        with open(f"{prefix}/stderr.log", "w+b") as errors, serving(
                [binary, "-p", prefix, "-c", f"{prefix}/nginx.conf", "-g", "daemon off;"],
                port, errors=errors):
            yield port


PG_BIN = Path("/usr/lib/postgresql/15/bin")


def postgres_available() -> bool:
    """Whether PostgreSQL 15's server binaries (and runuser, to run them as postgres) are
    installed."""
    return (PG_BIN / "initdb").exists() and shutil.which("runuser") is not None


@contextlib.contextmanager
def postgres_ssl() -> Iterator[int]:
    """A real PostgreSQL with ssl = on (own cluster in a temporary directory, run as the
    postgres user, on a free port, the fixture RSA certificate); yields the port."""
    require("tls_server", "a PostgreSQL with ssl = on")
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
        # stderr to a file (serving): postgres logs every refused handshake.
        with serving([*run_as, str(PG_BIN / "postgres"), "-D", str(data), "-p", str(port),
                      "-c", "listen_addresses=127.0.0.1", "-c", f"unix_socket_directories={root}",
                      "-c", "ssl=on", "-c", f"ssl_cert_file={root}/rsa.pem",
                      "-c", f"ssl_key_file={root}/rsa.key",
                      "-c", "ssl_min_protocol_version=TLSv1.2"], port, timeout=30):
            yield port
    finally:
        shutil.rmtree(root, ignore_errors=True)
