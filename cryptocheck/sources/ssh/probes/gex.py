"""The sizes of the Diffie-Hellman group-exchange moduli a server sends (RFC 4419): one
connection per size asked for (``SshOptions.gex_sizes``), each requesting exactly that size
(min = n = max) through the first group-exchange method the server lists; the size of the
prime it answers with is recorded, a refusal means that size is not offered.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

from cryptocheck.model import CryptoUsage, EndpointAsset
from cryptocheck.sources.probe import Probe
from cryptocheck.sources.ssh import kex
from cryptocheck.sources.ssh.context import NETWORK_ERRORS, SshContext
from cryptocheck.sources.ssh.usages import gex_usage


def _methods(ctx: SshContext) -> list[str]:
    assert ctx.facts.server is not None
    return [m for m in kex.GEX_METHODS if m in ctx.facts.server.lists["kex"]]


async def _gex(ctx: SshContext) -> None:
    assert ctx.facts.server is not None
    methods = _methods(ctx)
    host_keys = ctx.facts.server.lists["host_key_algorithms"]
    if not methods or not host_keys:
        return
    sizes: set[int] = set()

    async def probe(bits: int) -> None:
        try:
            async with ctx.session() as (conn, _, kexinit):
                sizes.add(await asyncio.wait_for(
                    kex.gex_modulus_bits(conn, kexinit, methods[0], host_keys[0], bits),
                    ctx.options.timeout))
        except NETWORK_ERRORS:
            pass  # the server refuses this size: not offered

    await asyncio.gather(*(probe(bits) for bits in ctx.options.gex_sizes))
    ctx.facts.gex_modulus_sizes = sorted(sizes)


def usages(asset: EndpointAsset) -> Iterator[CryptoUsage]:
    """One usage per modulus size the server sent."""
    for bits in asset.details.get("gex_modulus_sizes") or []:
        yield gex_usage(int(bits), asset_id=asset.id, location=asset.location)


GEX: Probe[SshContext] = Probe(
    "gex", _gex, needs=("kexinit",), adds=("gex",),
    budget=lambda ctx: len(ctx.options.gex_sizes), when=lambda ctx: ctx.options.gex,
    usages=usages)
