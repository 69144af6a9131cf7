"""The SSH transport as far as an audit needs it (RFC 4253): banner, binary packets before
encryption, KEXINIT, and one key exchange up to the server's reply, which carries the host
key K_S. NEWKEYS is never sent: no session is established and nothing is authenticated.

Key exchanges implemented for the client side: ``curve25519-sha256`` (and the libssh name),
``curve448-sha512``, ``ecdh-sha2-nistp256/384/521`` (RFC 5656), the fixed MODP groups
(RFC 4253, RFC 8268) and Diffie-Hellman group exchange (RFC 4419), with ephemeral keys from
``cryptography``. Post-quantum hybrids are recognised in the server's list but not spoken:
a host key is always fetched through a classical method the server also offers.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import os
import struct
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric import ec, x448, x25519
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from cryptocheck import __version__, catalog
from cryptocheck.catalog import dh
from cryptocheck.catalog import ssh as ssh_catalog

MSG_DISCONNECT, MSG_IGNORE, MSG_UNIMPLEMENTED, MSG_DEBUG = 1, 2, 3, 4
MSG_EXT_INFO = 7
MSG_KEXINIT = 20
MSG_KEX_ECDH_INIT, MSG_KEX_ECDH_REPLY = 30, 31  # also KEXDH_INIT / KEXDH_REPLY
MSG_KEX_DH_GEX_GROUP, MSG_KEX_DH_GEX_INIT, MSG_KEX_DH_GEX_REPLY = 31, 32, 33
MSG_KEX_DH_GEX_REQUEST = 34
MAX_PACKET = 256 * 1024
MAX_BANNER_LINES = 64
CLIENT_BANNER = f"SSH-2.0-cryptocheck_{__version__}"

KEXINIT_FIELDS = (
    "kex", "host_key_algorithms", "ciphers_client_to_server", "ciphers_server_to_client",
    "macs_client_to_server", "macs_server_to_client", "compression_client_to_server",
    "compression_server_to_client", "languages_client_to_server", "languages_server_to_client",
)


class SshProtocolError(Exception):
    """The peer did not speak SSH as expected; ``reason`` is a RunError reason code."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


GEX_METHODS = ("diffie-hellman-group-exchange-sha256", "diffie-hellman-group-exchange-sha1")
# Our preference when fetching a host key: fast and widely offered first.
CLIENT_KEX_PREFERENCE = (
    "curve25519-sha256", "curve25519-sha256@libssh.org", "ecdh-sha2-nistp256",
    "ecdh-sha2-nistp384", "ecdh-sha2-nistp521", "curve448-sha512",
    "diffie-hellman-group14-sha256", "diffie-hellman-group14-sha1",
    "diffie-hellman-group16-sha512", "diffie-hellman-group15-sha512",
    "diffie-hellman-group1-sha1", "diffie-hellman-group1-sha256",
    "diffie-hellman-group17-sha512", "diffie-hellman-group18-sha512", *GEX_METHODS,
)


def modp_prime(bits: int) -> int:
    """The RFC 3526 (RFC 2409 for 768 and 1024) MODP prime of ``bits`` bits."""
    found = dh.group(f"modp{bits}")
    if found is None:
        raise KeyError(f"no MODP group of {bits} bits")
    return found.prime


def fixed_group(kex: str) -> dh.DhGroup | None:
    """The DH group of a fixed-group key exchange (RFC 4253, RFC 8268), None for any other
    method: ssh.toml names the group, the catalogue's one DH table holds its prime."""
    algorithm = ssh_catalog.algorithm("kex", kex)
    if algorithm is None or algorithm.family != "DH" or algorithm.group is None:
        return None
    return dh.group(algorithm.group)


# ---- encoding -----------------------------------------------------------------------------


def ssh_string(data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + data


def ssh_mpint(value: int) -> bytes:
    if value == 0:
        return ssh_string(b"")
    raw = value.to_bytes((value.bit_length() + 8) // 8, "big")
    return ssh_string(raw)


def name_list(names: list[str] | tuple[str, ...]) -> bytes:
    return ssh_string(",".join(names).encode("ascii"))


class Reader:
    """Reads RFC 4251 data types from a payload; truncation is a protocol error."""

    def __init__(self, data: bytes, pos: int = 0) -> None:
        self.data, self.pos = data, pos

    def take(self, count: int) -> bytes:
        if count < 0 or self.pos + count > len(self.data):
            raise SshProtocolError("malformed-packet", "packet shorter than its fields")
        chunk = self.data[self.pos:self.pos + count]
        self.pos += count
        return chunk

    def byte(self) -> int:
        return self.take(1)[0]

    def uint32(self) -> int:
        value: int = struct.unpack(">I", self.take(4))[0]
        return value

    def string(self) -> bytes:
        return self.take(self.uint32())

    def mpint(self) -> int:
        return int.from_bytes(self.string(), "big", signed=True)

    def names(self) -> list[str]:
        text = self.string().decode("ascii", "replace")
        return [name for name in text.split(",") if name]


def fingerprint(blob: bytes) -> str:
    """OpenSSH's SHA256 fingerprint of a public key blob (``SHA256:...`` unpadded base64)."""
    digest = base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")
    return f"SHA256:{digest}"


@dataclass(frozen=True, slots=True)
class KexInit:
    """The server's algorithm lists, in the order it prefers them."""

    lists: dict[str, list[str]]
    first_kex_follows: bool

    @classmethod
    def parse(cls, payload: bytes) -> KexInit:
        reader = Reader(payload)
        if reader.byte() != MSG_KEXINIT:
            raise SshProtocolError("unexpected-message", "expected SSH_MSG_KEXINIT")
        reader.take(16)
        lists = {field: reader.names() for field in KEXINIT_FIELDS}
        follows = bool(reader.byte())
        return cls(lists, follows)


def kexinit_payload(kex: list[str], host_key: list[str], server: KexInit) -> bytes:
    """Our KEXINIT: the one key exchange and host key algorithm we want, and the server's own
    cipher, MAC and compression lists (so that negotiation cannot fail on those)."""
    lists = dict(server.lists)
    lists["kex"], lists["host_key_algorithms"] = kex, host_key
    body = bytes([MSG_KEXINIT]) + os.urandom(16)
    for field in KEXINIT_FIELDS:
        body += name_list(lists[field])
    return body + b"\x00" + struct.pack(">I", 0)


# ---- connection ---------------------------------------------------------------------------


class Connection:
    """One TCP connection speaking the unencrypted part of the SSH transport."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, host: str, port: int) -> Connection:
        reader, writer = await asyncio.open_connection(host, port, limit=MAX_PACKET)
        return cls(reader, writer)

    @property
    def address(self) -> str | None:
        peer = self.writer.get_extra_info("peername")
        return str(peer[0]) if peer else None

    async def close(self) -> None:
        self.writer.close()
        try:
            await self.writer.wait_closed()
        except OSError:
            pass

    async def exchange_banners(self) -> str:
        """Send our identification string and read the server's (RFC 4253 §4.2: lines before
        it that do not start with ``SSH-`` are allowed and skipped)."""
        self.writer.write(CLIENT_BANNER.encode() + b"\r\n")
        try:
            await self.writer.drain()
        except OSError:
            pass  # the peer may already have closed: what it sent says why
        for _ in range(MAX_BANNER_LINES):
            line = await self.reader.readline()
            if not line:
                raise SshProtocolError("no-banner", "connection closed before the SSH banner")
            if line.startswith(b"SSH-"):
                text = line.rstrip(b"\r\n").decode("utf-8", "replace")
                if not text.startswith(("SSH-2.0-", "SSH-1.99-")):
                    raise SshProtocolError("unsupported-protocol",
                                           f"server speaks only {text.split('-')[1]}")
                return text
        raise SshProtocolError("no-banner", "no SSH banner among the first lines")

    async def send(self, payload: bytes) -> None:
        block = 8
        padding = block - (len(payload) + 5) % block
        if padding < 4:
            padding += block
        packet = struct.pack(">IB", len(payload) + padding + 1, padding) + payload
        self.writer.write(packet + os.urandom(padding))
        await self.writer.drain()

    async def receive(self) -> bytes:
        """The next payload that is not IGNORE, DEBUG or EXT_INFO; DISCONNECT is an error."""
        while True:
            head = await self.reader.readexactly(5)
            length, padding = struct.unpack(">IB", head)
            if length < 5 or length > MAX_PACKET or padding >= length:
                raise SshProtocolError("malformed-packet", f"bad packet length {length}")
            body = await self.reader.readexactly(length - 1)
            payload = body[:length - 1 - padding]
            if not payload:
                raise SshProtocolError("malformed-packet", "empty payload")
            kind = payload[0]
            if kind in (MSG_IGNORE, MSG_DEBUG, MSG_EXT_INFO):
                continue
            if kind == MSG_DISCONNECT:
                reader = Reader(payload, 1)
                code = reader.uint32()
                text = reader.string().decode("utf-8", "replace")[:200]
                raise SshProtocolError("disconnected", f"server disconnected ({code}): {text}")
            return payload

    async def read_kexinit(self) -> KexInit:
        return KexInit.parse(await self.receive())


# ---- key exchange up to the server's reply --------------------------------------------------


async def fetch_host_key(conn: Connection, server: KexInit, host_key_algorithm: str,
                         kex: str) -> bytes:
    """Run ``kex`` offering only ``host_key_algorithm`` and return K_S, the host key blob
    (or certificate) from the server's reply."""
    await conn.send(kexinit_payload([kex], [host_key_algorithm], server))
    if kex in GEX_METHODS:
        p, g = await _gex_group(conn, 2048, 3072, 8192)
        await conn.send(bytes([MSG_KEX_DH_GEX_INIT]) + ssh_mpint(_dh_public(p, g)))
        return await _reply_host_key(conn, MSG_KEX_DH_GEX_REPLY)
    await conn.send(bytes([MSG_KEX_ECDH_INIT]) + ssh_string(_client_public(kex)))
    return await _reply_host_key(conn, MSG_KEX_ECDH_REPLY)


async def gex_modulus_bits(conn: Connection, server: KexInit, method: str, host_key: str,
                           bits: int) -> int:
    """Ask for a group-exchange modulus of exactly ``bits`` (min = n = max) and return the
    size of the prime the server sent; a refusal is a SshProtocolError."""
    await conn.send(kexinit_payload([method], [host_key], server))
    p, _ = await _gex_group(conn, bits, bits, bits)
    return p.bit_length()


async def _gex_group(conn: Connection, minimum: int, preferred: int, maximum: int
                     ) -> tuple[int, int]:
    await conn.send(bytes([MSG_KEX_DH_GEX_REQUEST])
                    + struct.pack(">III", minimum, preferred, maximum))
    payload = await _expect(conn, MSG_KEX_DH_GEX_GROUP)
    reader = Reader(payload, 1)
    return reader.mpint(), reader.mpint()


async def _expect(conn: Connection, message: int) -> bytes:
    payload = await conn.receive()
    if payload[0] == MSG_KEXINIT:  # the server's KEXINIT if we had not read it yet
        payload = await conn.receive()
    if payload[0] != message:
        raise SshProtocolError("unexpected-message",
                               f"expected message {message}, got {payload[0]}")
    return payload


async def _reply_host_key(conn: Connection, message: int) -> bytes:
    payload = await _expect(conn, message)
    return Reader(payload, 1).string()


def _dh_public(p: int, g: int) -> int:
    exponent = int.from_bytes(os.urandom(64), "big") | (1 << 511)
    return pow(g, exponent, p)


def _client_public(kex: str) -> bytes:
    if kex in ("curve25519-sha256", "curve25519-sha256@libssh.org"):
        return x25519.X25519PrivateKey.generate().public_key().public_bytes(
            Encoding.Raw, PublicFormat.Raw)
    if kex == "curve448-sha512":
        return x448.X448PrivateKey.generate().public_key().public_bytes(
            Encoding.Raw, PublicFormat.Raw)
    algorithm = ssh_catalog.algorithm("kex", kex)
    if algorithm is not None and algorithm.family == "ECDH" and algorithm.curve:
        curve = catalog.ec_curve(algorithm.curve)  # the curve ssh.toml names for the method
        if curve is not None:
            return ec.generate_private_key(curve).public_key().public_bytes(
                Encoding.X962, PublicFormat.UncompressedPoint)
    group = fixed_group(kex)
    if group is not None:
        e = _dh_public(group.prime, group.generator)
        return ssh_mpint(e)[4:]  # the caller wraps it as a string: same bytes as an mpint
    raise SshProtocolError("no-common-kex", f"key exchange {kex} not implemented")


def client_kex_for(server: KexInit) -> str | None:
    """The key exchange we use to fetch host keys: our first preference the server offers."""
    offered = set(server.lists["kex"])
    for name in CLIENT_KEX_PREFERENCE:
        if name in offered:
            return name
    return None
