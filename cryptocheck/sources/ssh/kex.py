"""The client side of one SSH key exchange, up to the server's reply, which carries the host
key K_S (RFC 4253 §8, RFC 5656, RFC 8731, RFC 4419); and group exchange asked for one modulus
size. NEWKEYS is never sent.

Key exchanges implemented: ``curve25519-sha256`` (and the libssh name), ``curve448-sha512``,
``ecdh-sha2-nistp256/384/521`` (RFC 5656), the fixed MODP groups (RFC 4253, RFC 8268) and
Diffie-Hellman group exchange (RFC 4419), with ephemeral keys from ``cryptography``.
Post-quantum hybrids are recognised in the server's list but not spoken: a host key is always
fetched through a classical method the server also offers.
"""

from __future__ import annotations

import os
import struct

from cryptography.hazmat.primitives.asymmetric import ec, x448, x25519
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from cryptocheck import catalog
from cryptocheck.catalog import dh
from cryptocheck.catalog import ssh as ssh_catalog
from cryptocheck.sources.ssh.wire import (
    MSG_KEXINIT,
    Connection,
    KexInit,
    Reader,
    SshProtocolError,
    kexinit_payload,
    ssh_mpint,
    ssh_string,
)

MSG_KEX_ECDH_INIT, MSG_KEX_ECDH_REPLY = 30, 31  # also KEXDH_INIT / KEXDH_REPLY
MSG_KEX_DH_GEX_GROUP, MSG_KEX_DH_GEX_INIT, MSG_KEX_DH_GEX_REPLY = 31, 32, 33
MSG_KEX_DH_GEX_REQUEST = 34

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
