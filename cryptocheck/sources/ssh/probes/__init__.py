"""The SSH probes: one module per check, one record each, and the list a scan runs.

:data:`PROBES` runs through :func:`cryptocheck.sources.probe.run_probes` for every server:
the KEXINIT first (one connection, which also fetches the first host key), then the other host
keys and the group-exchange moduli beside each other, within the per-host limit. The list's
order is the order the usages of an ``ssh-endpoint`` asset are derived in.

Adding a check: a module here declaring its :class:`~cryptocheck.sources.probe.Probe` record,
and one line below.
"""

from __future__ import annotations

from cryptocheck.sources.probe import Probe
from cryptocheck.sources.ssh.context import SshContext
from cryptocheck.sources.ssh.probes import gex, host_keys, kexinit

PROBES: tuple[Probe[SshContext], ...] = (
    kexinit.KEXINIT,
    host_keys.HOST_KEYS,
    gex.GEX,
)

__all__ = ["PROBES"]
