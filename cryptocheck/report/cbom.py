"""The ``cbom`` format: a CycloneDX 1.6 cryptography bill of materials (JSON), with verdicts.

One document per run: metadata (tool, command, targets, policy id, version and SHA-256,
as-of date, the verdict at ``--fail-on``), one component per asset and per algorithm in use
(built by :mod:`cryptocheck.report.cbom_components`, with the policy's verdicts as
properties), and the dependencies of each asset on the algorithms it uses. The serial number
is derived from the run, so the same report gives the same document. The document is
validated in the tests against the official CycloneDX 1.6 JSON schema.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from cryptocheck.model import CryptoUsage, Finding, Report, Status
from cryptocheck.report import CollectingReporter, verdict
from cryptocheck.report.cbom_components import (
    algorithm_component,
    algorithm_ref,
    asset_components,
    asset_refs,
    is_algorithm,
    prop,
)
from cryptocheck.report.wire import iso_date, utc_timestamp

SPEC_VERSION = "1.6"
SCHEMA_URL = "http://cyclonedx.org/schema/bom-1.6.schema.json"


def render_cbom(report: Report, *, fail_on: Status = Status.DISALLOWED) -> str:
    """The report as a CycloneDX 1.6 JSON document (deterministic for the same report)."""
    by_asset: dict[str, list[Finding]] = {}
    by_algorithm: dict[str, list[Finding]] = {}
    first_usage: dict[str, CryptoUsage] = {}
    for finding in report.findings:
        by_asset.setdefault(finding.asset_id, []).append(finding)
        if is_algorithm(finding.usage):
            ref = algorithm_ref(finding.usage)
            by_algorithm.setdefault(ref, []).append(finding)
            first_usage.setdefault(ref, finding.usage)
    components: list[dict[str, Any]] = []
    dependencies: list[dict[str, Any]] = []
    for asset in report.assets:
        findings = by_asset.get(asset.id, [])
        refs = asset_refs(findings)
        components.extend(asset_components(asset, findings, refs))
        uses = sorted({v for k, v in refs.items() if k.startswith("usage:")})
        dependencies.append({"ref": asset.id, "dependsOn": uses})
    for ref, findings in by_algorithm.items():
        components.append(algorithm_component(first_usage[ref], findings))
        dependencies.append({"ref": ref, "dependsOn": []})
    serial = uuid.uuid5(uuid.NAMESPACE_URL, "cryptocheck:" + "|".join(
        (report.policy.sha256, utc_timestamp(report.started), utc_timestamp(report.finished),
         report.command, *report.targets)))
    policy = report.policy
    document = {
        "$schema": SCHEMA_URL,
        "bomFormat": "CycloneDX",
        "specVersion": SPEC_VERSION,
        "serialNumber": f"urn:uuid:{serial}",
        "version": 1,
        "metadata": {
            "timestamp": utc_timestamp(report.finished),
            "tools": {"components": [{"type": "application", "name": "cryptocheck",
                                      "version": report.tool_version}]},
            "properties": [
                prop("command", report.command),
                *(prop("target", t) for t in report.targets),
                prop("policy:id", policy.id), prop("policy:version", policy.version),
                prop("policy:title", policy.title), prop("policy:sha256", policy.sha256),
                prop("as-of", iso_date(report.as_of)),
                prop("started", utc_timestamp(report.started)),
                prop("finished", utc_timestamp(report.finished)),
                prop("fail-on", fail_on.value),
                prop("verdict", verdict(report, fail_on)),
                prop("errors", len(report.errors)),
            ],
        },
        "components": components,
        "dependencies": dependencies,
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


class CbomReporter(CollectingReporter):
    """Writes :func:`render_cbom` of the whole run at ``end``."""

    def render(self, report: Report) -> str:
        return render_cbom(report, fail_on=self.options.fail_on)
