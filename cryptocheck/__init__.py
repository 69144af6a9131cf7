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

from .model import (
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
from .policy import Policy, PolicyError, evaluate, load_policy, load_waivers
from .usages import usages_of


def __getattr__(name: str) -> object:
    # scan pulls in every source and reporter; import it on first use so that
    # ``import cryptocheck.catalog`` (and the CLI's start-up) stays light.
    if name == "scan":
        from .run import scan

        return scan
    raise AttributeError(f"module 'cryptocheck' has no attribute {name!r}")

__all__ = [
    "Asset", "CertificateAsset", "Citation", "ConfigAsset", "CryptoUsage", "EndpointAsset", "Finding", "KeyAsset", "Location",
    "Policy", "PolicyError", "Report", "RunError", "Status", "Waiver", "__version__", "evaluate",
    "load_policy", "load_waivers", "scan", "usages_of",
]
