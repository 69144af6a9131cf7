"""Who may call the service, and where it may connect: tokens, scopes, rate limits and the
network allowlist.

Tokens are 256-bit random strings shown once and stored only as their SHA-256 (a slow hash
buys nothing for a secret with this much entropy, and every request checks one). Scopes are
ordered: ``read`` < ``scan`` < ``admin``; a token holds its scope and the ones below it.

The allowlist is empty by default: no network scan reaches anything until the operator lists
networks or host names. Link-local and cloud metadata addresses are refused even when a
listed network or name covers them (an SSRF to 169.254.169.254 is how cloud credentials
leak).
"""

from __future__ import annotations

import fnmatch
import hashlib
import ipaddress
import re
import secrets
import socket
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from cryptocheck.service.storage import Database, now_text

SCOPES = ("read", "scan", "admin")
TOKEN_PREFIX = "cct_"

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Refused whatever the allowlist says: link-local ranges (where cloud metadata lives) and the
# metadata services reachable at other addresses.
FORBIDDEN_NETWORKS = tuple(ipaddress.ip_network(n) for n in (
    "169.254.0.0/16",      # IPv4 link-local, incl. 169.254.169.254 (AWS, GCP, Azure, OCI)
    "fe80::/10",           # IPv6 link-local
    "fd00:ec2::254/128",   # AWS IMDS over IPv6
    "100.100.100.200/32",  # Alibaba Cloud metadata
    "168.63.129.16/32",    # Azure WireServer
    "0.0.0.0/8",           # "this network": reaches the local host on many systems
    "::/128",
))


# Networks written as targets (TLS and SSH scanners take CIDR blocks): address/prefix,
# optionally bracketed, optionally with a port.
CIDR_TARGET = re.compile(r"^\[?([0-9A-Fa-f:.]+/\d{1,3})\]?(?::\d+)?$")
IPV4_MAPPED = ipaddress.ip_network("::ffff:0:0/96")


def hash_token(token: str) -> str:
    """The stored form of a token (hex SHA-256)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def scope_allows(held: str, needed: str) -> bool:
    """Whether a token of scope ``held`` may do what needs ``needed``."""
    return SCOPES.index(held) >= SCOPES.index(needed)


def create_token(db: Database, scope: str, name: str) -> str:
    """A new token of ``scope``: stored hashed, returned once (the only time it is seen)."""
    if scope not in SCOPES:
        raise ValueError(f"unknown scope {scope!r} (expected one of: {', '.join(SCOPES)})")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with db.transaction() as tx:
        tx.run("INSERT INTO tokens (name, scope, token_hash, created) VALUES (?, ?, ?, ?)",
               (name, scope, hash_token(token), now_text()))
    return token


@dataclass(frozen=True)
class Principal:
    """The caller, as a token identifies it (never the token itself)."""

    token_id: int
    name: str
    scope: str


def lookup_token(db: Database, token: str) -> Principal | None:
    """The holder of ``token``, or None when it is unknown or revoked."""
    with db.transaction() as tx:
        row = tx.one("SELECT id, name, scope FROM tokens WHERE token_hash = ? AND revoked = 0",
                     (hash_token(token),))
    if row is None:
        return None
    return Principal(int(row["id"]), str(row["name"]), str(row["scope"]))


class RateLimiter:
    """A token bucket per caller: ``per_minute`` requests a minute, bursts up to that many."""

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = per_minute / 60.0
        self.capacity = float(per_minute)
        self.clock = clock
        self._buckets: dict[int, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def allow(self, key: int) -> float:
        """0 when the request may go ahead; otherwise the seconds until it could."""
        with self._lock:
            now = self.clock()
            level, last = self._buckets.get(key, (self.capacity, now))
            level = min(self.capacity, level + (now - last) * self.rate)
            if level >= 1.0:
                self._buckets[key] = (level - 1.0, now)
                return 0.0
            self._buckets[key] = (level, now)
            return (1.0 - level) / self.rate


class TargetRefused(ValueError):
    """A scan target the allowlist does not permit; the message says why, for the caller."""

    def __init__(self, target: str, reason: str) -> None:
        super().__init__(f"target {target!r} refused: {reason}")
        self.target = target
        self.reason = reason


def split_target(target: str) -> tuple[str, int | None]:
    """The host and port of ``host``, ``host:port``, ``[v6]:port``, ``v6`` or
    ``scheme://host:port``."""
    text = target.strip()
    if "://" in text:
        text = text.split("://", 1)[1]
    text = text.split("/", 1)[0]
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else ""
    elif text.count(":") == 1:
        host, port = text.split(":")
    else:
        host, port = text, ""
    if not host:
        raise TargetRefused(target, "no host name or address")
    if port and not (port.isdigit() and 0 < int(port) < 65536):
        raise TargetRefused(target, f"{port!r} is not a port number")
    return host.lower().rstrip("."), int(port) if port else None


def _address(text: str) -> IPAddress | None:
    try:
        address = ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def forbidden(address: IPAddress) -> bool:
    """Whether ``address`` is link-local or a cloud metadata address (never scanned)."""
    return address.is_link_local or any(address in net for net in FORBIDDEN_NETWORKS
                                        if net.version == address.version)


Resolver = Callable[[str], Sequence[str]]


def resolve(host: str) -> list[str]:
    """Every address ``host`` resolves to (empty when it does not resolve)."""
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError, OSError):
        return []
    return sorted({str(info[4][0]) for info in infos})


class Allowlist:
    """The networks and host names network scans may reach (nothing, unless configured)."""

    def __init__(self, networks: Sequence[str], hosts: Sequence[str],
                 resolver: Resolver = resolve) -> None:
        self.networks = tuple(ipaddress.ip_network(n, strict=False) for n in networks)
        self.hosts = tuple(h.lower().rstrip(".") for h in hosts)
        self.resolver = resolver

    def _in_networks(self, address: IPAddress) -> bool:
        return any(address in net for net in self.networks if net.version == address.version)

    def _check_network(self, target: str, text: str) -> None:
        """A whole network as a target: it must lie inside one listed network and touch no
        link-local or metadata address."""
        try:
            network = ipaddress.ip_network(text, strict=False)
        except ValueError:
            raise TargetRefused(target, f"{text} is not a network") from None
        if network.version == 6 and network.overlaps(IPV4_MAPPED):
            raise TargetRefused(target, "IPv4-mapped IPv6 ranges are not scanned; give the "
                                        "IPv4 range")
        for bad in FORBIDDEN_NETWORKS:
            if bad.version == network.version and network.overlaps(bad):
                raise TargetRefused(target, f"{network} includes {bad}, link-local or cloud "
                                            "metadata addresses, which are never scanned")
        if not any(network.version == allowed.version and network.subnet_of(allowed)  # type: ignore[arg-type]
                   for allowed in self.networks):
            raise TargetRefused(target, f"{network} is not inside the allowlist "
                                        "(allow.networks in the serve configuration)")

    def check(self, target: str) -> None:
        """Raise :class:`TargetRefused` unless ``target`` may be scanned.

        An address must lie in a listed network. A name must be listed (exactly or by a
        ``*.`` pattern) or resolve only into listed networks; every address it resolves to
        is checked against the metadata and link-local ranges either way.
        """
        text = target.strip()
        cidr = CIDR_TARGET.match(text.split("://", 1)[-1])
        if cidr:
            self._check_network(target, cidr.group(1))
            return
        host, _ = split_target(target)
        literal = _address(host)
        if literal is not None:
            if forbidden(literal):
                raise TargetRefused(target, f"{literal} is a link-local or cloud metadata "
                                            "address, which is never scanned")
            if not self._in_networks(literal):
                raise TargetRefused(target, f"{literal} is not inside the allowlist "
                                            "(allow.networks in the serve configuration)")
            return
        named = any(fnmatch.fnmatchcase(host, pattern) for pattern in self.hosts)
        if not named and not self.networks:
            raise TargetRefused(target, f"host {host} is not inside the allowlist "
                                        "(allow.hosts / allow.networks in the serve configuration)")
        addresses = [a for a in (_address(t) for t in self.resolver(host)) if a is not None]
        if not addresses:
            raise TargetRefused(target, f"host {host} does not resolve")
        for address in addresses:
            if forbidden(address):
                raise TargetRefused(target, f"host {host} resolves to {address}, a link-local "
                                            "or cloud metadata address, which is never scanned")
            if not named and not self._in_networks(address):
                raise TargetRefused(target, f"host {host} resolves to {address}, which is not "
                                            "inside the allowlist (allow.hosts / allow.networks)")
