"""One target -> its EndpointAsset and certificate assets, or one RunError.

Endpoint ``details`` (the wire format of a ``tls-endpoint`` asset):

``protocols``
    ``{"TLSv1.2": {"accepted": true, "cipher_suites": [IANA names], "server_order": true},
    ...}`` for SSLv2 .. TLSv1.3. With ``server_order`` true the suites are in the server's
    preference order. In compliance mode ``accepted`` is null when only suites the policy
    does not approve were offered and all were refused, and ``cipher_suites`` lists only
    what was asked about.
``groups``
    IANA names of the key-exchange groups accepted (TLS 1.3 and ECDHE), ``groups_by_protocol``
    the same per version; ``groups_server_order`` ``{"TLSv1.3": true}`` where the server
    picks groups by its own preference (then ``groups_by_protocol`` lists them in that
    order), false where it follows the client's, absent where fewer than two were found.
``dh_parameters``
    ``[{"key_size": 2048, "group": "ffdhe2048"}]`` for the DHE primes served (``group``
    names RFC 7919 / RFC 3526 primes, null for a custom prime).
``signature_schemes``
    ``{"TLSv1.2": [names], "TLSv1.3": [names]}``: schemes the server signed with (TLS 1.2:
    its ServerKeyExchange; TLS 1.3: its CertificateVerify, read by cryptocheck's own
    handshake).
``certificates``
    ids of the certificate assets of each chain served (leaf first, as served);
    ``certificate_checks`` hostname match, chain order, expiry, trust per store.
``ocsp_stapled``, ``sni``, ``mode``, ``connections`` (TCP connections opened), ``notes``.
and every detail a probe reports under a key of its own (``EndpointFacts.reported``).
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import time
from collections.abc import Callable
from typing import Any

from cryptocheck.catalog import dh
from cryptocheck.catalog import tls as tls_catalog
from cryptocheck.model import (
    Asset,
    CertificateAsset,
    CryptoUsage,
    EndpointAsset,
    Location,
    RunError,
)
from cryptocheck.sources.probe import run_probes
from cryptocheck.sources.tls.connection import Endpoint, HostLimiter, ProbeError
from cryptocheck.sources.tls.facts import EndpointFacts, ProbeContext
from cryptocheck.sources.tls.options import TlsOptions, TlsStats, resolve
from cryptocheck.sources.tls.probes import PROBES
from cryptocheck.sources.tls.targets import Target


async def scan_target(target: Target, options: TlsOptions, global_limit: asyncio.Semaphore,
                      limiters: dict[str, Any], stats: TlsStats,
                      approves: Callable[[CryptoUsage], bool] | None,
                      ) -> list[Asset | RunError]:
    """Scan one target within the limits; never raises for anything the network does."""
    location = Location(host=target.host, port=target.port)
    loop = asyncio.get_running_loop()
    try:
        address = await asyncio.wait_for(loop.run_in_executor(None, resolve, target.host),
                                         options.connect_timeout)
    except (TimeoutError, OSError) as exc:
        stats.errors += 1
        return [RunError(location, "unresolvable", f"cannot resolve {target.host}: {exc}")]
    limiter = limiters.get(address)
    if limiter is None:
        limiter = limiters[address] = HostLimiter(options.per_host, options.rate)
    endpoint = Endpoint(
        host=target.host, port=target.port, address=address, service=target.service,
        sni=target.sni, connect_timeout=options.connect_timeout,
        read_timeout=options.read_timeout, retries=options.retries, limiter=limiter,
        global_limit=global_limit)
    started = time.monotonic()
    try:
        facts = await asyncio.wait_for(_facts(endpoint, options, approves, stats),
                                       options.target_timeout)
    except ProbeError as exc:
        error: Asset | RunError = RunError(location, exc.reason, f"{target.text}: {exc.message}")
        facts = None
    except TimeoutError:
        error = RunError(location, "timeout",
                         f"{target.text}: not finished within {options.target_timeout:g} s")
        facts = None
    except Exception as exc:  # noqa: BLE001 - one bad endpoint must not end the run
        error = RunError(location, "scan-failed", f"{target.text}: {type(exc).__name__}: {exc}")
        facts = None
    stats.connections += endpoint.connections
    stats.per_endpoint[target.id] = endpoint.connections
    stats.peak_per_host = max(stats.peak_per_host, limiter.peak)
    if facts is None:
        stats.errors += 1
        return [error]
    stats.endpoints += 1
    return _assets(target, endpoint, facts, options, time.monotonic() - started)


async def _facts(endpoint: Endpoint, options: TlsOptions,
                 approves: Callable[[CryptoUsage], bool] | None, stats: TlsStats
                 ) -> EndpointFacts:
    """Run the probes of the scan's mode (:data:`~.probes.PROBES`) against one endpoint."""
    facts = EndpointFacts()
    counts: dict[str, int] = {}
    try:
        await run_probes(PROBES, ProbeContext(endpoint, facts, approves), options.mode, counts)
    finally:
        for name, count in counts.items():
            stats.per_probe[name] = stats.per_probe.get(name, 0) + count
    return facts


def _names(codes: list[int], lookup: Callable[[int], Any]) -> list[str]:
    out = []
    for code in codes:
        found = lookup(code)
        out.append(found.name if found is not None else f"0x{code:04X}")
    return out


def _assets(target: Target, endpoint: Endpoint, facts: EndpointFacts, options: TlsOptions,
            elapsed: float) -> list[Asset | RunError]:
    # cryptography is imported here, not at start-up: the probes need none of it, and the
    # scanner imports it in a worker thread while they wait (tls.__init__._warm_up).
    from cryptocheck.sources.tls.certs import chain_assets, chain_checks

    protocols: dict[str, Any] = {}
    for protocol in tls_catalog.PROTOCOLS:
        result = facts.versions.get(protocol)
        if result is None:
            continue
        entry: dict[str, Any] = {
            "accepted": result.accepted,
            "cipher_suites": _names(result.suites, tls_catalog.suite),
            "server_order": result.server_order,
        }
        if result.anomaly:
            entry["note"] = result.anomaly
        protocols[protocol] = entry
    groups_by_protocol = {p: _names(codes, tls_catalog.group)
                          for p, codes in facts.groups.items() if codes}
    groups: list[str] = []
    for protocol in reversed(tls_catalog.PROTOCOLS):
        for name in groups_by_protocol.get(protocol, []):
            if name not in groups:
                groups.append(name)
    name = target.sni or target.host
    certificates: list[list[str]] = []
    items: list[Asset | RunError] = []
    checks: list[dict[str, Any]] = []
    chains = list(facts.chains)
    if facts.sslv2_certificate and not chains:
        chains.append([facts.sslv2_certificate])
    position = 0
    for chain in chains:
        ids = []
        for item in chain_assets(chain, target.host, target.port, target.id):
            if isinstance(item, CertificateAsset):
                item = _reindex(item, position)
                ids.append(item.id)
            position += 1
            items.append(item)
        certificates.append(ids)
        checks.append(chain_checks(chain, name, options.ca_files))
    details: dict[str, Any] = {
        "protocols": protocols,
        "groups": groups,
        "groups_by_protocol": groups_by_protocol,
        "groups_server_order": dict(facts.group_order),
        "dh_parameters": [{"key_size": bits, "group": dh.group_name(prime)}
                          for bits, prime in sorted(facts.dh_primes.items())],
        "signature_schemes": {p: _names(codes, tls_catalog.signature_scheme)
                              for p, codes in facts.schemes.items() if codes},
        "certificates": [cid for ids in certificates for cid in ids],
        "certificate_chains": certificates,
        "certificate_checks": checks,
        "ocsp_stapled": facts.ocsp_stapled,
        "sni": target.sni,
        "mode": options.mode,
        "connections": endpoint.connections,
    }
    if facts.notes:
        details["notes"] = facts.notes
    clash = details.keys() & facts.reported.keys()
    if clash:
        raise ValueError(f"a probe reported {sorted(clash)}, details the endpoint already has")
    details.update(facts.reported)
    asset = EndpointAsset(id=target.id, type="tls-endpoint",
                          location=Location(host=target.host, port=target.port),
                          address=endpoint.address, service=target.service, details=details)
    return [asset, *items]


def _reindex(cert: CertificateAsset, index: int) -> CertificateAsset:
    """Certificates of several chains are numbered across the endpoint, not per chain."""
    if cert.location.index == index:
        return cert
    location = dataclasses.replace(cert.location, index=index)
    text = f"{cert.id}#{index}"
    return dataclasses.replace(cert, location=location,
                               id="cert-" + hashlib.sha256(text.encode()).hexdigest()[:16])
