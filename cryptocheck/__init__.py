"""cryptocheck: find the cryptography in use and judge it against an approved-algorithms policy.

The library API is the same run the command line makes::

    import cryptocheck
    report = cryptocheck.scan(["certs/"], policy="nhs-acagpg", as_of=datetime.date(2031, 1, 1))
    for finding in report.findings:
        print(finding.status.value, finding.rule, finding.message)

- :func:`scan` reads certificates and keys and judges them (returns a :class:`Report`).
- :func:`load_policy` loads a shipped policy by id or a policy file; :func:`load_waivers` a
  waiver file.
- :func:`evaluate` judges one :class:`CryptoUsage` against a policy as of a date (pure).
- :func:`usages_of` gives the usages of one asset.
"""

__version__ = "0.1.0"

from typing import TYPE_CHECKING

from cryptocheck.model import (
    Asset,
    CertificateAsset,
    Citation,
    ConfigAsset,
    CryptoUsage,
    EndpointAsset,
    Finding,
    KeyAsset,
    Location,
    Report,
    RunError,
    Status,
    Waiver,
)

if TYPE_CHECKING:
    from cryptocheck.policy import Policy, PolicyError, evaluate, load_policy, load_waivers
    from cryptocheck.run import scan
    from cryptocheck.sources.files.usages import usages_of

# The policy engine, the usages and the run (every source and reporter) are imported on first
# use, so that ``import cryptocheck.catalog`` and the command line's start-up stay light (a
# tls or ssh scan starts its network work before it loads them).
_LAZY = {"Policy": "policy", "PolicyError": "policy", "evaluate": "policy",
         "load_policy": "policy", "load_waivers": "policy", "scan": "run", "usages_of": "usages"}


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'cryptocheck' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value

__all__ = [
    "Asset", "CertificateAsset", "Citation", "ConfigAsset", "CryptoUsage", "EndpointAsset", "Finding", "KeyAsset", "Location",
    "Policy", "PolicyError", "Report", "RunError", "Status", "Waiver", "__version__", "evaluate",
    "load_policy", "load_waivers", "scan", "usages_of",
]
