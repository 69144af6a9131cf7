"""What an SSH probe is given and what it finds: the scan's options, one session at a time,
and the facts of the server.

:class:`SshFacts` is filled by the probes of :mod:`.probes` (the KEXINIT lists, the host key
blobs, the group-exchange moduli, and under ``reported`` whatever else a probe finds) and
turned into the ``ssh-endpoint`` asset by :mod:`.scan`.
:class:`SshContext` carries the target, the :class:`SshOptions` and ``session``: one
connection within the scanner's per-host limit and rate, read up to the server's KEXINIT.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from cryptocheck.sources.config.sshd_defaults import DEFAULT_VERSION
from cryptocheck.sources.ssh import wire

DEFAULT_GEX_SIZES = (1024, 1536, 2048, 3072, 4096, 6144, 8192)


@dataclass(frozen=True)
class SshOptions:
    """How to scan. ``ports`` apply to targets given without a port (and to CIDR blocks).

    Politeness: at most ``per_host`` connections to one host at a time, at most ``rate``
    new connections per second to one host; ``timeout`` bounds every step and
    ``target_timeout`` a whole target (then one ``timeout`` RunError for it).

    ``sshd_configs`` and ``ssh_configs`` are sshd_config and ssh_config files judged beside
    the servers, absent settings filled with the defaults of OpenSSH ``openssh_version``.
    They name files on the machine that runs the scan, so the service never lets a request
    set them (they are not in the source record's ``tunable``).
    """

    ports: tuple[int, ...] = (22,)
    timeout: float = 10.0  # each connection step (connect, banner, each message)
    target_timeout: float = 120.0  # everything for one target
    concurrency: int = 32  # targets at once
    per_host: int = 2  # connections to one host at once
    rate: float | None = None  # new connections per second to one host (None: no limit)
    host_keys: bool = True
    gex: bool = True
    gex_sizes: tuple[int, ...] = DEFAULT_GEX_SIZES
    sshd_configs: tuple[str, ...] = ()
    ssh_configs: tuple[str, ...] = ()
    openssh_version: str = DEFAULT_VERSION


class Session(NamedTuple):
    """An open connection, past the banners and the server's KEXINIT."""

    connection: wire.Connection
    banner: str
    kexinit: wire.KexInit


# The errors a probe's connection can end with: the network's, and the server's protocol.
NETWORK_ERRORS = (TimeoutError, OSError, asyncio.IncompleteReadError, wire.SshProtocolError)


@dataclass
class SshFacts:
    """What the probes of one server found."""

    banner: str = ""
    server: wire.KexInit | None = None
    address: str | None = None
    kex: str | None = None  # the key exchange this client uses to fetch host keys
    blobs: dict[str, bytes] = field(default_factory=dict)  # key type group -> host key blob
    gex_modulus_sizes: list[int] = field(default_factory=list)
    probe_errors: list[str] = field(default_factory=list)
    # What a probe reports under a detail key of its own (a plain JSON value): the endpoint
    # asset's details take it as it is, so a new probe needs no field here and no line in
    # scan.py. A key the asset already has is a bug in the probe (ValueError there).
    reported: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class SshContext:
    """What an SSH probe is given: where, how, one session at a time, and the facts."""

    host: str
    port: int
    options: SshOptions
    session: Callable[[], AbstractAsyncContextManager[Session]]
    facts: SshFacts


def key_type_group(algorithm: str) -> str:
    """Host key algorithms that use the same key: the RSA signature variants share one."""
    if algorithm in ("ssh-rsa", "rsa-sha2-256", "rsa-sha2-512"):
        return "ssh-rsa"
    if algorithm in ("ssh-rsa-cert-v01@openssh.com", "rsa-sha2-256-cert-v01@openssh.com",
                     "rsa-sha2-512-cert-v01@openssh.com"):
        return "ssh-rsa-cert-v01@openssh.com"
    return algorithm


def error_reason(exc: BaseException) -> str:
    """The RunError reason code of a failed connection or exchange."""
    if isinstance(exc, wire.SshProtocolError):
        return exc.reason
    if isinstance(exc, TimeoutError):
        return "timeout"
    if isinstance(exc, asyncio.IncompleteReadError):
        return "connection-closed"
    if isinstance(exc, ConnectionRefusedError):
        return "connection-refused"
    if isinstance(exc, socket.gaierror):
        return "dns-failure"
    return "connection-failed"


def error_message(exc: BaseException) -> str:
    """What a failed connection or exchange says, for an error record or a probe note."""
    if isinstance(exc, TimeoutError):
        return "timed out"
    if isinstance(exc, asyncio.IncompleteReadError):
        return "connection closed by the server"
    return str(exc) or type(exc).__name__
