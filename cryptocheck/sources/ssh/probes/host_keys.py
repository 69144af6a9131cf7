"""The server's host keys: one connection per other host key type its KEXINIT lists (the
first was fetched with the KEXINIT; ``ssh-rsa``, ``rsa-sha2-256`` and ``rsa-sha2-512`` share
one RSA key, fetched once), each a key exchange up to the server's reply, which carries the
key. A key that cannot be fetched is noted in ``probe_errors``. The keys become ``public-key``
assets of their own; the host key algorithms' usages are the KEXINIT's (:mod:`.kexinit`).
"""

from __future__ import annotations

import asyncio

from cryptocheck.sources.probe import Probe
from cryptocheck.sources.ssh import kex
from cryptocheck.sources.ssh.context import (
    NETWORK_ERRORS,
    SshContext,
    error_message,
    key_type_group,
)


def _wanted(ctx: SshContext) -> dict[str, str]:
    """Key type group -> the first algorithm of that group the server lists, for the groups
    not fetched yet."""
    assert ctx.facts.server is not None
    wanted: dict[str, str] = {}
    for algorithm in ctx.facts.server.lists["host_key_algorithms"]:
        group = key_type_group(algorithm)
        if group not in ctx.facts.blobs and group not in wanted:
            wanted[group] = algorithm
    return wanted


async def _host_keys(ctx: SshContext) -> None:
    facts, method = ctx.facts, ctx.facts.kex
    if method is None:
        facts.probe_errors.append(
            "host keys: no key exchange method in common (the server offers only "
            "methods this client does not speak)")
        return

    async def one(algorithm: str) -> None:
        try:
            async with ctx.session() as (conn, _, kexinit):
                facts.blobs[key_type_group(algorithm)] = await asyncio.wait_for(
                    kex.fetch_host_key(conn, kexinit, algorithm, method), ctx.options.timeout)
        except NETWORK_ERRORS as exc:
            facts.probe_errors.append(f"host key {algorithm}: {error_message(exc)}")

    await asyncio.gather(*(one(algorithm) for algorithm in _wanted(ctx).values()))


# One connection per key type not fetched yet.
HOST_KEYS: Probe[SshContext] = Probe(
    "host-keys", _host_keys, needs=("kexinit",), adds=("host-keys",),
    budget=lambda ctx: len(_wanted(ctx)) if ctx.facts.kex else 0,
    when=lambda ctx: ctx.options.host_keys)
