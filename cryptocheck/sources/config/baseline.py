"""Baselines: accept today's findings so that only new ones fail the build.

``--write-baseline`` records, for every finding not approved, a fingerprint of *what* was
found and *where*, not *on which line*: the file, the file kind, the directive, its scope,
its value as written and, when the same setting appears several times, its occurrence
number, with the rule id. Moving a block down a file or adding lines above it keeps the
fingerprint; changing the value (adding a cipher) makes a new one, so the changed setting is
judged afresh. A later run with ``--baseline FILE`` turns each recorded (fingerprint, rule)
into a waiver of the matching asset, so baseline findings are reported as waived and do not
fail the run.

File format (JSON)::

    {"version": 1, "tool": "cryptocheck", "findings": [
        {"fingerprint": "...", "rule": "NHS-TLS-...", "path": "nginx.conf",
         "directive": "ssl_protocols", "algorithm": "TLSv1.0"}]}
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from cryptocheck.model import Asset, CertificateAsset, ConfigAsset, Finding, Status, Waiver
from cryptocheck.sources.config.settings import fingerprint

BASELINE_VERSION = 1


class BaselineError(Exception):
    """A baseline file that cannot be read (a caller mistake: exit 2)."""


@dataclass
class Fingerprints:
    """Assigns each asset of a run its line-independent fingerprint."""

    def __post_init__(self) -> None:
        self._seen: dict[str, int] = {}
        self.by_asset: dict[str, str] = {}

    def add(self, asset: Asset) -> str:
        if isinstance(asset, ConfigAsset):
            parts = ["config", asset.kind, asset.location.path or "", asset.scope or "",
                     asset.directive, " ".join(asset.value.split())]
        elif isinstance(asset, CertificateAsset):
            parts = ["certificate", asset.location.path or "", asset.sha256]
        else:
            parts = [asset.type, asset.location.path or "", asset.id]
        base = fingerprint(*parts)
        n = self._seen.get(base, 0)
        self._seen[base] = n + 1
        value = fingerprint(base, str(n))
        self.by_asset[asset.id] = value
        return value


def load_baseline(path: str) -> dict[str, set[str]]:
    """fingerprint -> rule ids accepted by a baseline file."""
    try:
        data = json.loads(Path(path).read_text("utf-8"))
    except (OSError, ValueError) as exc:
        raise BaselineError(f"cannot read baseline {path}: {exc}") from None
    if not isinstance(data, dict) or data.get("version") != BASELINE_VERSION \
            or not isinstance(data.get("findings"), list):
        raise BaselineError(f"{path} is not a cryptocheck baseline (version {BASELINE_VERSION})")
    out: dict[str, set[str]] = {}
    for entry in data["findings"]:
        if not isinstance(entry, dict) or not isinstance(entry.get("fingerprint"), str) \
                or not isinstance(entry.get("rule"), str):
            raise BaselineError(f"{path}: each finding needs 'fingerprint' and 'rule'")
        out.setdefault(entry["fingerprint"], set()).add(entry["rule"])
    return out


def baseline_waivers(accepted: dict[str, set[str]], asset: Asset, print_: str,
                     source: str) -> list[Waiver]:
    """Waivers that make the findings a baseline accepted on ``asset`` not fail."""
    return [Waiver(id=f"baseline:{print_}", owner="baseline", reason=f"in baseline {source}",
                   expires=date.max, rule=rule, asset=asset.id)
            for rule in sorted(accepted.get(print_, ()))]


def baseline_document(findings: Iterable[tuple[str, Finding]]) -> dict[str, Any]:
    """The baseline file content for (fingerprint, finding) pairs (approved and already
    waived ones left out)."""
    entries = {}
    for print_, finding in findings:
        if finding.status is Status.APPROVED or finding.waived:
            continue
        key = (print_, finding.rule)
        entries[key] = {"fingerprint": print_, "rule": finding.rule,
                        "path": finding.location.path, "algorithm": finding.usage.algorithm,
                        "context": finding.usage.context}
    ordered = [entries[k] for k in sorted(entries)]
    return {"version": BASELINE_VERSION, "tool": "cryptocheck", "findings": ordered}
