"""cryptocheck: find the cryptography in use and judge it against an approved-algorithms policy.

The library API is the same run the command line makes::

    import cryptocheck
    report = cryptocheck.scan(["certs/"], policy="nhs-acagpg", as_of=datetime.date(2031, 1, 1))
    for finding in report.findings:
        print(finding.status.value, finding.rule, finding.message)

- :func:`scan` reads certificates and keys (or, with ``source=``, any registered source:
  ``config``, ``tls``, ``ssh``) and judges them (returns a :class:`Report`); it is
  :func:`cryptocheck.run.scan`, the run the command line and the service make.
- :func:`load_policy` loads a shipped policy by id or a policy file; :func:`load_waivers` a
  waiver file.
- :func:`evaluate` judges one :class:`CryptoUsage` against a policy as of a date (pure).
- :func:`usages_of` gives the usages of one asset, whichever source it came from.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

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
from cryptocheck.version import __version__

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence
    from datetime import date
    from pathlib import Path

    from cryptocheck.policy import Policy, PolicyError, evaluate, load_policy, load_waivers
    from cryptocheck.report import Reporter
    from cryptocheck.sources.registry import usages_of

# The policy engine, the usages and the run (every source and reporter) are imported on first
# use, so that ``import cryptocheck.catalog`` and the command line's start-up stay light (a
# tls or ssh scan starts its network work before it loads them).
_LAZY = {"Policy": "policy", "PolicyError": "policy", "evaluate": "policy",
         "load_policy": "policy", "load_waivers": "policy", "usages_of": "sources.registry"}


def scan(targets: Iterable[str], policy: Policy | str | Path | None = None,
         as_of: date | None = None, *, source: str = "certs", options: Any = None,
         waivers: Sequence[Waiver] = (), passwords: Sequence[str] = (),
         reporters: Sequence[Reporter] = (), collect: bool = True) -> Report:
    """Read ``targets`` with a source (default ``certs``) and judge them against ``policy``.

    Why: scripts get the same answers as the command line, through the same run
    (:func:`cryptocheck.run.scan`, which documents every parameter). ``options`` is an
    instance of the source's options class; ``passwords`` (certs only) are tried on
    PKCS#12, JKS and encrypted keys and never written anywhere.

    >>> report = scan(["certs/"], policy="nhs-acagpg")  # doctest: +SKIP
    """
    from cryptocheck.run import scan as run_scan

    if passwords:
        import dataclasses

        from cryptocheck.sources.files import SourceOptions

        options = dataclasses.replace(options or SourceOptions(), passwords=tuple(passwords))
    return run_scan(source, targets, options, policy=policy, as_of=as_of, waivers=waivers,
                    reporters=reporters, collect=collect)


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
