"""The SSH probes: one module per check, one record each, and the list a scan runs.

:data:`PROBES` runs through :func:`cryptocheck.sources.probe.run_probes` for every server:
the KEXINIT first (one connection, which also fetches the first host key), then the other host
keys and the group-exchange moduli beside each other, within the per-host limit. The list's
order is the order the usages of an ``ssh-endpoint`` asset are derived in.

Adding a check: a module here declaring its :class:`~cryptocheck.sources.probe.Probe` record,
and one line below.
"""

from __future__ import annotations

from collections.abc import Iterator

from cryptocheck.model import Asset, CryptoUsage, EndpointAsset
from cryptocheck.sources.probe import Probe
from cryptocheck.sources.probe import usages_of as probe_usages
from cryptocheck.sources.ssh.context import SshContext
from cryptocheck.sources.ssh.probes import gex, host_keys, kexinit

PROBES: tuple[Probe[SshContext], ...] = (
    kexinit.KEXINIT,
    host_keys.HOST_KEYS,
    gex.GEX,
)


def usages_of(asset: Asset) -> Iterator[CryptoUsage]:
    """Every usage of an ``ssh-endpoint`` asset: kex, host-key (with the key size seen),
    ciphers and MACs per direction, compression, group-exchange moduli; each from the probe
    record that reports it (:data:`cryptocheck.sources.ssh.probes.PROBES`)."""
    if not isinstance(asset, EndpointAsset):
        return
    yield from probe_usages(PROBES, asset)


__all__ = ["PROBES", "usages_of"]
