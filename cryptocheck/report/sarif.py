"""The ``sarif`` format: SARIF 2.1.0 for code-scanning tools (GitHub, GitLab, Azure DevOps).

One run; the tool's rules are the policy rules that decided a finding, each with its id, its
one-line summary, its citation (``helpUri`` is the citation's URL, ``help`` the document
and section) and the status it gives. Each finding not approved is a result with the file,
line and column of the setting (an endpoint's host:port is a logical location), a level
from its status (disallowed: error; unknown and deprecated: warning; legacy: note), and a
``partialFingerprints`` entry that does not change when lines move. Waived findings are kept,
with a suppression saying which waiver, its owner and reason. Inputs that could not be read
are tool execution notifications. Approved findings are left out unless ``show_approved``.

Everything is written at ``end`` (a SARIF document is one JSON object); findings are kept as
compact result dicts until then.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import Any, TextIO

from cryptocheck.model import Asset, ConfigAsset, Finding, Location, Report, RunError, Status
from cryptocheck.report import ReportOptions, RunHeader

SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
INFORMATION_URI = "https://github.com/cryptocheck/cryptocheck"
_LEVELS = {
    Status.DISALLOWED: "error",
    Status.UNKNOWN: "warning",
    Status.DEPRECATED: "warning",
    Status.LEGACY: "note",
    Status.APPROVED: "none",
}


def artifact_uri(path: str) -> str:
    """A SARIF artifact URI for a location path: relative paths stay relative (resolved
    against the checkout, as code-scanning tools expect), with ``/`` separators; the outer
    file of an archive member (``a.zip!b.pem``) is the artifact."""
    outer = path.split("!", 1)[0].replace("\\", "/")
    if outer.startswith("/"):
        return "file://" + _quote(outer)
    return _quote(outer.removeprefix("./"))


def _quote(text: str) -> str:
    from urllib.parse import quote

    return quote(text, safe="/:@-._~")


def _location(location: Location) -> dict[str, Any]:
    if location.path is None:
        where = location.host or "-"
        if location.port is not None:
            where = f"{where}:{location.port}"
        return {"logicalLocations": [{"name": where, "kind": "resource"}]}
    physical: dict[str, Any] = {"artifactLocation": {"uri": artifact_uri(location.path)}}
    if location.line is not None:
        region: dict[str, Any] = {"startLine": location.line}
        if location.column is not None:
            region["startColumn"] = location.column
        physical["region"] = region
    out: dict[str, Any] = {"physicalLocation": physical}
    if "!" in location.path:
        out["message"] = {"text": f"in {location.path}"}
    return out


def _summary(finding: Finding) -> str:
    # A report saved before findings carried their rule's summary has none: the rule id is
    # then the most that can be said without guessing from the message.
    return finding.summary if finding.summary is not None else finding.rule


class SarifReporter:
    """Collects results as the run streams; writes the SARIF log at ``end``."""

    def __init__(self, stream: TextIO, options: ReportOptions | None = None) -> None:
        self._stream = stream
        self._options = options or ReportOptions()
        self._rules: dict[str, dict[str, Any]] = {}
        self._results: list[dict[str, Any]] = []
        self._notifications: list[dict[str, Any]] = []
        self._header: RunHeader | None = None

    def begin(self, header: RunHeader) -> None:
        """Remember the run's tool, policy and date."""
        self._header = header

    def item(self, asset: Asset, findings: Sequence[Finding]) -> None:
        """One result per finding not approved (approved too with ``show_approved``)."""
        for finding in findings:
            if finding.status is Status.APPROVED and not self._options.show_approved:
                continue
            self._results.append(self._result(asset, finding))

    def error(self, error: RunError) -> None:
        """An input that could not be read: a tool execution notification."""
        note: dict[str, Any] = {
            "level": "error",
            "message": {"text": f"{error.reason}: {error.message}"},
            "descriptor": {"id": error.reason},
        }
        if error.location.path is not None or error.location.host is not None:
            note["locations"] = [_location(error.location)]
        self._notifications.append(note)

    def _rule_index(self, finding: Finding) -> int:
        rule = self._rules.get(finding.rule)
        if rule is None:
            citation = finding.citations[0] if finding.citations else None
            rule = {
                "id": finding.rule,
                "shortDescription": {"text": _summary(finding)},
                "fullDescription": {"text": _summary(finding)},
                "defaultConfiguration": {"level": _LEVELS[finding.status]},
                "properties": {
                    "status": finding.status.value,
                    "severity": finding.severity,
                    "citations": [
                        {k: v for k, v in (("document", c.document), ("section", c.section),
                                           ("url", c.url), ("confirmation", c.confirmation))
                         if v is not None}
                        for c in finding.citations],
                },
            }
            if citation is not None:
                rule["help"] = {"text": str(citation)}
                if citation.url:
                    rule["helpUri"] = citation.url
            rule["_index"] = len(self._rules)
            self._rules[finding.rule] = rule
        index: int = rule["_index"]
        return index

    def _result(self, asset: Asset, finding: Finding) -> dict[str, Any]:
        usage = finding.usage
        key = "\x1f".join([finding.rule, usage.context, usage.algorithm, _stable_place(asset)])
        result: dict[str, Any] = {
            "ruleId": finding.rule,
            "ruleIndex": self._rule_index(finding),
            "level": _LEVELS[finding.status],
            "message": {"text": finding.message},
            "locations": [_location(finding.location)],
            "partialFingerprints": {
                "cryptocheck/v1": hashlib.sha256(key.encode()).hexdigest()[:32]},
            "properties": {"status": finding.status.value, "severity": finding.severity,
                           "context": usage.context, "algorithm": usage.algorithm,
                           "assetId": finding.asset_id},
        }
        if finding.waiver is not None:
            waiver = finding.waiver
            result["suppressions"] = [{
                "kind": "inSource" if waiver.id.startswith("inline:") else "external",
                "status": "accepted",
                "justification": f"{waiver.id} (owner {waiver.owner}, until "
                                 f"{waiver.expires.isoformat()}): {waiver.reason}",
            }]
        if finding.waiver_note:
            result["properties"]["waiverNote"] = finding.waiver_note
        return result

    def end(self, report: Report) -> None:
        """Write the SARIF log."""
        header = self._header
        rules = []
        for rule in self._rules.values():
            entry = {k: v for k, v in rule.items() if k != "_index"}
            rules.append(entry)
        run: dict[str, Any] = {
            "tool": {"driver": {
                "name": "cryptocheck",
                "version": report.tool_version,
                "informationUri": INFORMATION_URI,
                "rules": rules,
            }},
            "invocations": [{
                "executionSuccessful": True,
                "commandLine": " ".join(["cryptocheck", report.command, *report.targets]),
                "startTimeUtc": report.started.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "endTimeUtc": report.finished.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "toolExecutionNotifications": self._notifications,
            }],
            "results": self._results,
            "columnKind": "unicodeCodePoints",
            "properties": {
                "policy": {"id": report.policy.id, "version": report.policy.version,
                           "sha256": report.policy.sha256},
                "asOf": report.as_of.isoformat(),
                "command": header.command if header else report.command,
            },
        }
        log = {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]}
        json.dump(log, self._stream, indent=1, sort_keys=False, ensure_ascii=False)
        self._stream.write("\n")
        self._stream.flush()


def _stable_place(asset: Asset) -> str:
    """What identifies where a finding is without its line number."""
    if isinstance(asset, ConfigAsset):
        return "\x1f".join([asset.location.path or "", asset.kind, asset.scope or "",
                            asset.directive, " ".join(asset.value.split())])
    loc = asset.location
    identity = str(getattr(asset, "sha256", "") or asset.id)
    return "\x1f".join([loc.path or "", loc.host or "", str(loc.port or ""), identity])
