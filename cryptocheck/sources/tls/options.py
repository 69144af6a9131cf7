"""How a TLS scan is run (:class:`TlsOptions`) and what it counts (:class:`TlsStats`).

Their own module, so that the endpoint scanner and the package both import them without
importing each other.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from dataclasses import dataclass, field

from cryptocheck.model import CryptoUsage


@dataclass(frozen=True)
class TlsOptions:
    """How to scan. ``mode`` ``full`` (the whole inventory) or ``compliance`` (only what a
    policy needs to decide; requires ``approves``, the caller's predicate: True for a usage
    that needs no further look, which the tls source record builds from the run's verdict, see :func:`cryptocheck.run.bind`). ``per_host`` and ``global_limit`` bound
    concurrent connections, ``rate`` new connections per second per host (None: no limit).
    ``ca_files`` are extra trust anchors for validation (beside certifi and the system store).
    """

    mode: str = "full"
    sni: str | None = None
    ports: tuple[int, ...] = (443,)
    per_host: int = 2
    global_limit: int = 256
    rate: float | None = None
    connect_timeout: float = 5.0
    read_timeout: float = 5.0
    retries: int = 1
    target_timeout: float = 300.0
    concurrency: int = 64  # endpoints scanned at once
    approves: Callable[[CryptoUsage], bool] | None = None  # for compliance mode
    ca_files: tuple[str, ...] = ()
    progress: bool = False


@dataclass
class TlsStats:
    """Counts a run can print: endpoints, errors and TCP connections opened."""

    endpoints: int = 0
    errors: int = 0
    connections: int = 0
    per_endpoint: dict[str, int] = field(default_factory=dict)
    peak_per_host: int = 0  # most connections open to one address at once
    # Connections each probe opened, over all endpoints (retries of a failed connect apart).
    per_probe: dict[str, int] = field(default_factory=dict)


def resolve(host: str) -> str:
    """The first address of ``host`` (blocking; the scanner calls it in a thread)."""
    info = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    return str(info[0][4][0])
