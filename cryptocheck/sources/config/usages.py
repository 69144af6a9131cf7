"""Configuration settings -> crypto usages, through the same functions the live scanners use.

A ``ConfigAsset`` says in its ``details`` what the setting enables (see
:mod:`cryptocheck.sources.config.settings`); each of those facts becomes the usage a TLS endpoint
offering the same thing would give (:mod:`cryptocheck.sources.tls.usages`), so one rule judges an
``ssl_protocols TLSv1`` line and a server that accepts TLS 1.0 alike. SSH settings are the
SSH package's (:func:`cryptocheck.sources.ssh.usages.config_usages`).
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from typing import Any

from cryptocheck import catalog
from cryptocheck.catalog import tls as tls_catalog
from cryptocheck.model import Asset, ConfigAsset, CryptoUsage, Location
from cryptocheck.sources.registry import INVALID_WAIVER
from cryptocheck.sources.tls import usages as tls_usages

_NOWHERE = Location()
WAIVER_CONTEXT = INVALID_WAIVER
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
        from cryptocheck.sources.ssh.usages import config_usages

        yield from config_usages(asset)
        return
    templates = usage_templates(asset)
    if templates is None:
        yield from _usages(asset.id, asset.location, asset.kind, asset.directive, asset.details)
        return
    for u in templates:
        yield CryptoUsage(asset.id, u.context, u.algorithm, asset.location, u.key_size, u.curve,
                          u.hash, u.strength, u.quantum_vulnerable, u.oid, u.attributes)


def usage_templates(asset: ConfigAsset) -> tuple[CryptoUsage, ...] | None:
    """The usages of ``asset`` without its id and location (empty id, empty location), in
    :func:`usages_of`'s order, or None for a setting read by another package (SSH).

    Why: a repository repeats the same few settings (one cipher string, one protocol list)
    in thousands of files; their usages are made once, and the engine judges each template
    once (:func:`cryptocheck.policy.engine.judge_templates`) and only stamps the asset's id
    and location on the findings. The same tuple object is returned for equal settings.
    """
    if asset.kind in ("sshd", "ssh"):
        return None
    try:
        key = _template_key(asset)
        return _templates_for(key, _Setting(asset))
    except TypeError:  # a value that cannot be a key (not written by our parsers): no memo
        return tuple(_usages("", _NOWHERE, asset.kind, asset.directive, asset.details))


def _template_key(asset: ConfigAsset) -> tuple[Any, ...]:
    """What :func:`_usages` reads of an asset (never its id or location), hashable."""
    d = asset.details
    if asset.kind == "waiver":
        return ("waiver", d.get("problem", "invalid-waiver"), d.get("rule", ""))
    dh = d.get("dh")
    keys = d.get("keys")
    key = (
        asset.kind,
        (True, d.get("profile")) if d.get("unknown_profile") else None,
        tuple(d.get("protocols", ())), d.get("suite_protocol", "TLSv1.2"),
        tuple(d.get("cipher_suites", ())), tuple(d.get("tls13_suites", ())),
        tuple(d.get("groups", ())), (dh.get("bits"), dh.get("group")) if dh else None,
        tuple(d.get("signature_schemes", ())),
        (asset.directive, tuple(tuple(sorted(k.items())) for k in keys)) if keys else None,
    )
    hash(key)
    return key


class _Setting:
    """Carries the asset into the memoised function without being part of its key (equal
    keys mean equal usages, whichever asset they are made from)."""

    __slots__ = ("asset",)

    def __init__(self, asset: ConfigAsset) -> None:
        self.asset = asset

    def __hash__(self) -> int:
        return 0

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Setting)


_TEMPLATE_MEMO = 4096


@functools.lru_cache(maxsize=_TEMPLATE_MEMO)
def _templates_for(key: tuple[Any, ...], setting: _Setting) -> tuple[CryptoUsage, ...]:
    asset = setting.asset
    return tuple(_usages("", _NOWHERE, asset.kind, asset.directive, asset.details))


def _usages(asset_id: str, location: Location, kind: str, directive: str,
            details: dict[str, Any]) -> Iterator[CryptoUsage]:
    where: dict[str, Any] = {"asset_id": asset_id, "location": location}
    if kind == "waiver":
        yield CryptoUsage(asset_id=asset_id, context=WAIVER_CONTEXT,
                          algorithm=str(details.get("problem", "invalid-waiver")),
                          location=location,
                          attributes=(("rule", str(details.get("rule", ""))),))
        return
    if details.get("unknown_profile"):
        # A named policy the table does not know: judged unknown, never silently approved.
        yield CryptoUsage(asset_id=asset_id, context=PROFILE_CONTEXT,
                          algorithm=str(details.get("profile")), location=location)
    for version in details.get("protocols", ()):
        yield tls_usages.protocol_usage(version, **where)
    protocol = str(details.get("suite_protocol", "TLSv1.2"))
    seen_kx: set[str] = set()
    for name in details.get("cipher_suites", ()):
        yield from _suite_usages(asset_id, location, name, protocol, seen_kx)
    for name in details.get("tls13_suites", ()):
        yield from _suite_usages(asset_id, location, name, "TLSv1.3", seen_kx)
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
            asset_id=asset_id, context=str(key.get("context", "private-key")),
            algorithm=algorithm, location=location, key_size=size, curve=curve,
            strength=catalog.key_strength(algorithm, size, curve),
            quantum_vulnerable=catalog.quantum_vulnerable(algorithm),
            attributes=(("format", str(key.get("format", directive))),))


@functools.lru_cache(maxsize=8192)
def _suite_templates(name: str, protocol: str) -> tuple[CryptoUsage, ...]:
    """The usages tls.usages gives a suite in a protocol (computed once; a repository names
    the same suites thousands of times), to be stamped with each asset's id and location."""
    suite = tls_catalog.suite(name)
    if suite is None:
        return (CryptoUsage(asset_id="", context="tls.cipher-suite", algorithm=name,
                            location=_NOWHERE, attributes=(("protocol", protocol),)),)
    return tuple(tls_usages.cipher_suite_usages(suite, protocol))


def _suite_usages(asset_id: str, location: Location, name: str, protocol: str,
                  seen_kx: set[str]) -> Iterator[CryptoUsage]:
    for u in _suite_templates(name, protocol):
        if u.context == "tls.key-exchange":
            if u.algorithm in seen_kx:
                continue
            seen_kx.add(u.algorithm)
        if not asset_id and location is _NOWHERE:
            yield u
        else:
            yield CryptoUsage(asset_id, u.context, u.algorithm, location, u.key_size, u.curve,
                              u.hash, u.strength, u.quantum_vulnerable, u.oid, u.attributes)
