"""Named TLS policies of cloud services (``catalog/data/cloud-tls-policies.toml``).

Selecting ``ssl_policy = "ELBSecurityPolicy-2016-08"`` enables what the provider's published
table lists for it; :func:`policy_details` gives those protocols and suites (IANA names) in
the ``details`` form :mod:`cryptocheck.sources.config.usages` reads, with the table's URL.
"""

from __future__ import annotations

import functools
import tomllib
from importlib import resources
from typing import Any

from cryptocheck.catalog import tls as tls_catalog
from cryptocheck.catalog.openssl_ciphers import openssl_suite


@functools.lru_cache(maxsize=1)
def _table() -> dict[tuple[str | None, str], dict[str, Any]]:
    text = (resources.files("cryptocheck.catalog.data")
            .joinpath("cloud-tls-policies.toml").read_text("utf-8"))
    data = tomllib.loads(text)
    sets: dict[str, list[str]] = data["suite_sets"]
    out: dict[tuple[str | None, str], dict[str, Any]] = {}
    for entry in data["policy"]:
        names: list[str] = []
        for set_name in entry.get("suites", []):
            names += sets[set_name]
        names += entry.get("extra", [])
        suites: list[str] = []
        for name in names:
            by_openssl = openssl_suite(name)
            by_iana = tls_catalog.suite(name)
            iana = by_openssl.iana if by_openssl else (by_iana.name if by_iana else name)
            if iana not in suites:
                suites.append(iana)
        out[(entry.get("service"), entry["name"])] = {
            "protocols": entry.get("protocols"),
            "suites": suites,
            "source": data["sources"][entry["source"]],
            "confirmation": entry.get("confirmation"),
        }
    return out


def policy_details(name: str, service: str | None = None,
                   protocols: list[str] | None = None) -> dict[str, Any] | None:
    """What a named policy enables, as ConfigAsset details (None: not in the table).
    ``protocols`` overrides the table's (GCP profiles take them from min_tls_version)."""
    entry = _table().get((service, name))
    if entry is None:
        return None
    details: dict[str, Any] = {"profile": name, "profile_source": entry["source"]}
    enabled = protocols if protocols is not None else entry["protocols"]
    if enabled is not None:
        details["protocols"] = [p for p in tls_catalog.PROTOCOLS if p in enabled]
    suites = entry["suites"]
    if suites:
        tls13 = [s for s in suites if (c := tls_catalog.suite(s)) is not None and c.tls13]
        details["cipher_suites"] = [s for s in suites if s not in tls13]
        if tls13 and (enabled is None or "TLSv1.3" in enabled):
            details["tls13_suites"] = tls13
    return details
