"""The server's algorithm lists: one connection reads the banner and the KEXINIT (kex, host key
algorithms, ciphers, MACs and compression per direction, in the server's order) and, in the
same connection, fetches the host key of the first host key algorithm.

Everything else waits for this probe: a server that cannot be reached or does not speak SSH
fails here, once, and is one error record.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

from cryptocheck.model import CryptoUsage, EndpointAsset
from cryptocheck.sources.probe import Probe
from cryptocheck.sources.ssh import kex
from cryptocheck.sources.ssh.context import SshContext, key_type_group
from cryptocheck.sources.ssh.usages import algorithm_usages


async def _kexinit(ctx: SshContext) -> None:
    facts, options = ctx.facts, ctx.options
    async with ctx.session() as (conn, banner, server):
        facts.banner, facts.server, facts.address = banner, server, conn.address
        facts.kex = kex.client_kex_for(server)
        algorithms = server.lists["host_key_algorithms"]
        if options.host_keys and facts.kex and algorithms:
            blob = await asyncio.wait_for(
                kex.fetch_host_key(conn, server, algorithms[0], facts.kex), options.timeout)
            facts.blobs[key_type_group(algorithms[0])] = blob


def _directional(asset: EndpointAsset, kind: str, lists: Any) -> Iterator[CryptoUsage]:
    """One usage per algorithm; ``direction`` is ``both`` when both directions offer it."""
    if not isinstance(lists, dict):
        return
    c2s: list[str] = lists.get("client_to_server") or []
    s2c: list[str] = lists.get("server_to_client") or []
    for name in dict.fromkeys([*c2s, *s2c]):
        direction = ("both" if name in c2s and name in s2c
                     else "client_to_server" if name in c2s else "server_to_client")
        yield from algorithm_usages(kind, name, direction, asset_id=asset.id,
                                    location=asset.location)


def usages(asset: EndpointAsset) -> Iterator[CryptoUsage]:
    """kex, host key algorithms (with the size of the key seen for each), ciphers and MACs
    per direction, compression: everything the KEXINIT lists."""
    details = asset.details
    for name in details.get("kex") or []:
        yield from algorithm_usages("kex", name, asset_id=asset.id, location=asset.location)
    sizes = {key.get("algorithm"): key.get("size") for key in details.get("host_keys") or []}
    for name in details.get("host_key_algorithms") or []:
        yield from algorithm_usages("host-key", name, key_size=sizes.get(name),
                                    asset_id=asset.id, location=asset.location)
    yield from _directional(asset, "cipher", details.get("ciphers"))
    yield from _directional(asset, "mac", details.get("macs"))
    yield from _directional(asset, "compression", details.get("compression"))


KEXINIT: Probe[SshContext] = Probe("kexinit", _kexinit, adds=("kexinit",), budget=1,
                                   usages=usages)
