"""Configuration settings -> crypto usages, through the same functions the live scanners use.

A ``ConfigAsset`` says in its ``details`` what the setting enables (see
:mod:`cryptocheck.config.settings`); each of those facts becomes the usage a TLS endpoint
offering the same thing would give (:mod:`cryptocheck.tls.usages`), so one rule judges an
``ssl_protocols TLSv1`` line and a server that accepts TLS 1.0 alike. SSH settings are the
SSH package's (:func:`cryptocheck.ssh.usages.config_usages`).
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from typing import Any

from cryptocheck import catalog
from cryptocheck.catalog import tls as tls_catalog
from cryptocheck.model import Asset, ConfigAsset, CryptoUsage, Location
from cryptocheck.tls import usages as tls_usages

_NOWHERE = Location()
WAIVER_CONTEXT = "config.waiver"
PROFILE_CONTEXT = "tls.profile"


def usages_of(asset: Asset) -> Iterator[CryptoUsage]:
    """Every usage of one configuration setting, in a fixed order: protocols, TLS <= 1.2
    suites (and their key exchanges, once each), TLS 1.3 suites, groups, DH parameters,
    signature schemes, keys.

    >>> # [u.algorithm for u in usages_of(nginx_ssl_protocols_asset)]
    >>> # ['TLSv1.2', 'TLSv1.3']
    """
    if not isinstance(asset, ConfigAsset):
        return
    if asset.kind in ("sshd", "ssh"):
        from cryptocheck.ssh.usages import config_usages

        yield from config_usages(asset)
        return
    where: dict[str, Any] = {"asset_id": asset.id, "location": asset.location}
    details = asset.details
    if asset.kind == "waiver":
        yield CryptoUsage(asset_id=asset.id, context=WAIVER_CONTEXT,
                          algorithm=str(details.get("problem", "invalid-waiver")),
                          location=asset.location,
                          attributes=(("rule", str(details.get("rule", ""))),))
        return
    if details.get("unknown_profile"):
        # A named policy the table does not know: judged unknown, never silently approved.
        yield CryptoUsage(asset_id=asset.id, context=PROFILE_CONTEXT,
                          algorithm=str(details.get("profile")), location=asset.location)
    for version in details.get("protocols", ()):
        yield tls_usages.protocol_usage(version, **where)
    protocol = str(details.get("suite_protocol", "TLSv1.2"))
    seen_kx: set[str] = set()
    for name in details.get("cipher_suites", ()):
        yield from _suite_usages(asset, name, protocol, seen_kx)
    for name in details.get("tls13_suites", ()):
        yield from _suite_usages(asset, name, "TLSv1.3", seen_kx)
    for name in details.get("groups", ()):
        yield tls_usages.group_usage(name, **where)
    dh = details.get("dh")
    if dh and dh.get("bits"):
        yield tls_usages.dh_usage(int(dh["bits"]), dh.get("group"), **where)
    for name in details.get("signature_schemes", ()):
        yield tls_usages.signature_scheme_usage(name, "TLSv1.2", **where)
    for key in details.get("keys", ()):
        algorithm = str(key["algorithm"])
        size = key.get("key_size")
        curve = key.get("curve")
        yield CryptoUsage(
            asset_id=asset.id, context=str(key.get("context", "private-key")),
            algorithm=algorithm, location=asset.location, key_size=size, curve=curve,
            strength=catalog.key_strength(algorithm, size, curve),
            quantum_vulnerable=catalog.quantum_vulnerable(algorithm),
            attributes=(("format", str(key.get("format", asset.directive))),))


@functools.lru_cache(maxsize=8192)
def _suite_templates(name: str, protocol: str) -> tuple[CryptoUsage, ...]:
    """The usages tls.usages gives a suite in a protocol (computed once; a repository names
    the same suites thousands of times), to be stamped with each asset's id and location."""
    suite = tls_catalog.suite(name)
    if suite is None:
        return (CryptoUsage(asset_id="", context="tls.cipher-suite", algorithm=name,
                            location=_NOWHERE, attributes=(("protocol", protocol),)),)
    return tuple(tls_usages.cipher_suite_usages(suite, protocol))


def _suite_usages(asset: ConfigAsset, name: str, protocol: str,
                  seen_kx: set[str]) -> Iterator[CryptoUsage]:
    for u in _suite_templates(name, protocol):
        if u.context == "tls.key-exchange":
            if u.algorithm in seen_kx:
                continue
            seen_kx.add(u.algorithm)
        yield CryptoUsage(asset.id, u.context, u.algorithm, asset.location, u.key_size, u.curve,
                          u.hash, u.strength, u.quantum_vulnerable, u.oid, u.attributes)
