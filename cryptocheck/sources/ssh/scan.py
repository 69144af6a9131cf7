"""Scan SSH servers: algorithm lists, host keys, group-exchange modulus sizes.

Per target, the probes of :mod:`.probes` run through the probe scheduler: one connection reads
the banner and the server's KEXINIT and fetches the first host key; one further connection per
other host key type; one per group-exchange probe size. Targets run concurrently
(``SshOptions.concurrency``), connections to one host at most ``per_host`` at a time, every
step under ``timeout``. A target that cannot be scanned is one RunError; a probe that fails
after the KEXINIT was read is noted in the asset's details.

The ``ssh-endpoint`` asset's details: ``banner``, ``software``, ``kex``,
``host_key_algorithms``, ``ciphers`` / ``macs`` / ``compression`` (each
``{"client_to_server": [...], "server_to_client": [...]}``), ``host_keys`` (per host key
algorithm: ``algorithm``, ``type``, ``size``, ``curve``, ``fingerprint`` SHA256),
``gex_modulus_sizes``, ``probe_errors``; and every detail a probe reports under a key of
its own (``SshFacts.reported``).
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import queue
import threading
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from cryptocheck.model import Asset, EndpointAsset, KeyAsset, Location, RunError
from cryptocheck.sources.files.openssh import WireError, blob_facts
from cryptocheck.sources.probe import FULL, BudgetExceeded, charge, run_probes
from cryptocheck.sources.ssh import wire
from cryptocheck.sources.ssh.context import (
    DEFAULT_GEX_SIZES,
    NETWORK_ERRORS,
    Session,
    SshContext,
    SshFacts,
    SshOptions,
    error_message,
    error_reason,
    key_type_group,
)
from cryptocheck.sources.ssh.probes import PROBES

__all__ = ["DEFAULT_GEX_SIZES", "SshOptions", "iter_ssh_items", "scan_targets"]

MAX_CIDR_HOSTS = 65536
RESULT_BACKLOG = 1024


@dataclass
class _Target:
    text: str
    host: str
    port: int
    errors: list[RunError] = field(default_factory=list)


def expand_targets(targets: Sequence[str], ports: Sequence[int]) -> Iterator[_Target | RunError]:
    """``host``, ``host:port``, ``[v6]:port`` and CIDR blocks (each address x each port)."""
    for text in targets:
        text = text.strip()
        if not text or text.startswith("#"):
            continue
        if "/" in text:
            try:
                network = ipaddress.ip_network(text, strict=False)
            except ValueError:
                yield RunError(Location(host=text), "bad-target", "not a CIDR block")
                continue
            if network.num_addresses > MAX_CIDR_HOSTS:
                yield RunError(Location(host=text), "bad-target",
                               f"CIDR block larger than {MAX_CIDR_HOSTS} addresses")
                continue
            hosts = list(network.hosts()) or [network.network_address]
            for address in hosts:
                for port in ports:
                    yield _Target(text, str(address), port)
            continue
        host, port_text = text, ""
        if text.startswith("["):
            host, _, rest = text[1:].partition("]")
            port_text = rest[1:] if rest.startswith(":") else ""
        elif text.count(":") == 1:
            host, _, port_text = text.partition(":")
        if port_text:
            if not port_text.isdigit() or not 0 < int(port_text) < 65536:
                yield RunError(Location(host=host), "bad-target", f"bad port {port_text!r}")
                continue
            yield _Target(text, host, int(port_text))
        else:
            for port in ports:
                yield _Target(text, host, port)


def _software(banner: str) -> str:
    """The software part of ``SSH-2.0-softwareversion SP comments``."""
    rest = banner.split("-", 2)[2] if banner.count("-") >= 2 else banner
    return rest.split(" ", 1)[0]


class _Scanner:
    def __init__(self, options: SshOptions) -> None:
        self.options = options
        self.host_limits: dict[str, asyncio.Semaphore] = {}
        self.host_users: dict[str, int] = {}  # targets in progress per host
        self.next_start: dict[str, float] = {}  # earliest next connection (rate limit)
        self.connections = 0
        self.per_probe: dict[str, int] = {}  # connections each probe opened, all targets

    def _limit(self, host: str) -> asyncio.Semaphore:
        if host not in self.host_limits:
            self.host_limits[host] = asyncio.Semaphore(max(1, self.options.per_host))
        return self.host_limits[host]

    async def _pace(self, host: str) -> None:
        """Wait until a new connection to ``host`` keeps within ``rate``."""
        if not self.options.rate:
            return
        loop = asyncio.get_running_loop()
        now = loop.time()
        start = max(now, self.next_start.get(host, now))
        self.next_start[host] = start + 1.0 / self.options.rate
        if start > now:
            await asyncio.sleep(start - now)

    async def scan_bounded(self, target: _Target) -> list[Asset | RunError]:
        """:meth:`scan` under ``target_timeout``; per-host state is dropped when the last
        target of a host finishes, so memory does not grow with the number of hosts."""
        host = target.host
        self.host_users[host] = self.host_users.get(host, 0) + 1
        try:
            return await asyncio.wait_for(self.scan(target), self.options.target_timeout)
        except TimeoutError:
            return [RunError(Location(host=host, port=target.port), "timeout",
                             f"target not finished within {self.options.target_timeout:g} s")]
        finally:
            self.host_users[host] -= 1
            if not self.host_users[host]:
                for table in (self.host_users, self.host_limits, self.next_start):
                    table.pop(host, None)

    async def _session(self, target: _Target) -> tuple[wire.Connection, str, wire.KexInit]:
        await self._pace(target.host)
        charge()
        self.connections += 1
        conn = await asyncio.wait_for(wire.Connection.open(target.host, target.port),
                                      self.options.timeout)
        try:
            banner = await asyncio.wait_for(conn.exchange_banners(), self.options.timeout)
            server = await asyncio.wait_for(conn.read_kexinit(), self.options.timeout)
        except BaseException:
            await conn.close()
            raise
        return conn, banner, server

    def sessions(self, target: _Target) -> Callable[[], contextlib.AbstractAsyncContextManager[
            Session]]:
        """What a probe opens its connections with: within the host's limit, closed on exit."""
        @contextlib.asynccontextmanager
        async def session() -> AsyncIterator[Session]:
            async with self._limit(target.host):
                conn, banner, server = await self._session(target)
                try:
                    yield Session(conn, banner, server)
                finally:
                    await conn.close()

        return session

    async def scan(self, target: _Target) -> list[Asset | RunError]:
        location = Location(host=target.host, port=target.port)
        facts = SshFacts()
        context = SshContext(target.host, target.port, self.options, self.sessions(target),
                             facts)
        counts: dict[str, int] = {}
        try:
            await run_probes(PROBES, context, FULL, counts)
        except NETWORK_ERRORS as exc:
            return [RunError(location, error_reason(exc), error_message(exc))]
        except BudgetExceeded as exc:  # a probe's bug: this target's error, not the run's end
            return [RunError(location, "scan-failed", str(exc))]
        finally:
            for name, count in counts.items():
                self.per_probe[name] = self.per_probe.get(name, 0) + count
        return _assets(target, facts)


def _assets(target: _Target, facts: SshFacts) -> list[Asset | RunError]:
    """The ``ssh-endpoint`` asset of what the probes found, then one ``public-key`` asset per
    distinct host key."""
    server = facts.server
    assert server is not None
    location = Location(host=target.host, port=target.port)
    details: dict[str, Any] = {
        "banner": facts.banner,
        "software": _software(facts.banner),
        "kex": server.lists["kex"],
        "host_key_algorithms": server.lists["host_key_algorithms"],
        "ciphers": _directions(server, "ciphers"),
        "macs": _directions(server, "macs"),
        "compression": _directions(server, "compression"),
        "host_keys": [],
        "gex_modulus_sizes": facts.gex_modulus_sizes,
        "probe_errors": facts.probe_errors,
    }
    items: list[Asset | RunError] = []
    seen: set[str] = set()
    keys: list[dict[str, Any]] = []
    for algorithm in server.lists["host_key_algorithms"]:
        if key_type_group(algorithm) not in facts.blobs:
            continue
        blob = facts.blobs[key_type_group(algorithm)]
        try:
            found = blob_facts(blob)
        except WireError as exc:
            details["probe_errors"].append(f"host key {algorithm}: {exc}")
            continue
        print_ = wire.fingerprint(blob)
        key_type = wire.Reader(blob).string().decode("ascii", "replace")
        keys.append({"algorithm": algorithm, "type": key_type,
                     "key_algorithm": found.algorithm, "size": found.size,
                     "curve": found.curve, "fingerprint": print_})
        if print_ not in seen:
            seen.add(print_)
            items.append(KeyAsset(
                id=f"ssh-host-key:{target.host}:{target.port}:{print_}",
                type="public-key", location=location, key_algorithm=found.algorithm,
                key_size=found.size, curve=found.curve, key_oid=found.oid,
                spki_sha256=found.spki_sha256, format="ssh-host-key", comment=key_type))
    details["host_keys"] = keys
    clash = details.keys() & facts.reported.keys()
    if clash:
        raise ValueError(f"a probe reported {sorted(clash)}, details the endpoint already has")
    details.update(facts.reported)
    endpoint = EndpointAsset(id=f"ssh:{target.host}:{target.port}", type="ssh-endpoint",
                             location=location, address=facts.address, service="ssh",
                             details=details)
    return [endpoint, *items]


def _directions(server: wire.KexInit, name: str) -> dict[str, list[str]]:
    return {"client_to_server": server.lists[f"{name}_client_to_server"],
            "server_to_client": server.lists[f"{name}_server_to_client"]}


async def _run_all(targets: Sequence[str], options: SshOptions,
                   emit: Callable[[list[Asset | RunError]], None]) -> None:
    """Scan with ``concurrency`` workers pulling targets from a lazy iterator (a large CIDR
    block is never expanded in memory) and ``emit`` each target's items when it finishes."""
    scanner = _Scanner(options)
    pending = iter(expand_targets(targets, options.ports))

    async def worker() -> None:
        for item in pending:
            if isinstance(item, RunError):
                emit([item])
            else:
                emit(await scanner.scan_bounded(item))

    await asyncio.gather(*(worker() for _ in range(max(1, options.concurrency))))


async def scan_targets(targets: Sequence[str], options: SshOptions) -> list[Asset | RunError]:
    """Scan every target (from inside an event loop); items in the order targets finish."""
    found: list[Asset | RunError] = []
    await _run_all(targets, options, found.extend)
    return found


def iter_ssh_items(targets: Sequence[str], options: SshOptions | None = None
                   ) -> Iterator[Asset | RunError]:
    """Each endpoint asset (and the host keys it served) or error, as each target finishes.

    A sync wrapper over the asyncio scanner (it runs in its own thread, so that callers
    inside an event loop, such as the service, can use it too). The queue between them is
    bounded (``RESULT_BACKLOG`` targets), so a consumer far behind slows the scan instead of
    buffering without limit. An exception of the scanner (a bug, such as a probe reporting
    a detail the endpoint already has) is raised here once the thread has ended.
    """
    options = options or SshOptions()
    results: queue.Queue[list[Asset | RunError] | None] = queue.Queue(maxsize=RESULT_BACKLOG)
    failed: list[BaseException] = []

    def worker() -> None:
        try:
            asyncio.run(_run_all(targets, options, results.put))
        except BaseException as exc:  # noqa: BLE001 - re-raised in the consuming thread
            failed.append(exc)
        finally:
            results.put(None)

    thread = threading.Thread(target=worker, name="cryptocheck-ssh", daemon=True)
    thread.start()
    while True:
        batch = results.get()
        if batch is None:
            break
        yield from batch
    thread.join()
    if failed:
        # Raised here, not lost with the thread: a stream that ended early must not read
        # as a complete scan.
        raise failed[0]
