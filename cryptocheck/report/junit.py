"""The ``junit`` format: JUnit XML, so that CI test dashboards show a scan as tests.

One ``testsuite`` per kind of source (``certificate``, ``tls-endpoint``, ``config-setting``...)
and one ``testcase`` per asset and rule (the findings of one rule on one asset are one test).
A test fails (``<failure>``) when one of its findings not waived is at or above ``--fail-on``;
it is ``<skipped>`` when such findings are all waived (the waiver, its owner and expiry are
the message); otherwise it passes, and the statuses below the threshold are listed in its
``system-out``. An asset on which no rule decided anything is one passing test named
``inventory``. Inputs that could not be read are tests with ``<error>`` in a suite
``inputs``. Validated in the tests against the Jenkins xUnit plugin's JUnit schema.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections import Counter

from cryptocheck.model import Asset, Finding, Report, RunError, Status
from cryptocheck.report import CollectingReporter, asset_name
from cryptocheck.report.wire import iso_date, utc_timestamp

# Characters XML 1.0 cannot hold (C0 controls other than tab, newline, return; lone
# surrogates; U+FFFE/U+FFFF): shown as \xNN / \uNNNN rather than breaking the document.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_text(text: str | None) -> str:
    """``text`` with every character XML 1.0 cannot hold written as an escape."""
    if not text:
        return ""
    return _NOT_XML.sub(lambda m: f"\\x{ord(m.group()):02x}" if ord(m.group()) < 0x100
                        else f"\\u{ord(m.group()):04x}", text)


def _line(finding: Finding) -> str:
    cite = "; ".join(f"{c}{' <' + c.url + '>' if c.url else ''}" for c in finding.citations)
    return (f"{finding.status.value} {finding.rule} at {finding.location}: {finding.message}"
            + (f" [{cite}]" if cite else ""))


def _testcase(suite: ET.Element, asset: Asset, rule: str, findings: list[Finding],
              fail_on: Status) -> tuple[bool, bool]:
    """Add one test; returns (failed, skipped)."""
    case = ET.SubElement(suite, "testcase", {
        "name": xml_text(rule),
        "classname": xml_text(f"{asset.type}.{asset.location}"),
        "time": "0",
    })
    judged = [f for f in findings if f.status.rank >= fail_on.rank]
    failing = [f for f in judged if not f.waived]
    if failing:
        worst = max(failing, key=lambda f: f.status.rank)
        failure = ET.SubElement(case, "failure", {
            "type": worst.status.value,
            "message": xml_text(f"{worst.status.value}: {worst.message}"),
        })
        failure.text = xml_text("\n".join(_line(f) for f in failing))
        return True, False
    if judged:
        waiver = judged[0].waiver
        assert waiver is not None
        ET.SubElement(case, "skipped", {"message": xml_text(
            f"waived by {waiver.id} (owner {waiver.owner}, expires {iso_date(waiver.expires)}): "
            f"{waiver.reason}")})
        return False, True
    below = [f for f in findings if f.status is not Status.APPROVED]
    if below:
        ET.SubElement(case, "system-out").text = xml_text("\n".join(_line(f) for f in below))
    return False, False


def _suite_attrs(suite: ET.Element, tests: int, failures: int, errors: int, skipped: int) -> None:
    suite.set("tests", str(tests))
    suite.set("failures", str(failures))
    suite.set("errors", str(errors))
    suite.set("skipped", str(skipped))
    suite.set("time", "0")


def _error_case(suite: ET.Element, error: RunError) -> None:
    case = ET.SubElement(suite, "testcase", {
        "name": xml_text(error.reason), "classname": xml_text(f"input.{error.location}"),
        "time": "0"})
    ET.SubElement(case, "error", {"type": error.reason, "message": xml_text(error.message)})


def render_junit(report: Report, *, fail_on: Status = Status.DISALLOWED) -> str:
    """The report as a JUnit XML document (UTF-8 text with an XML declaration)."""
    root = ET.Element("testsuites", {"name": xml_text(f"cryptocheck {report.command}")})
    by_asset: dict[str, list[Finding]] = {}
    for finding in report.findings:
        by_asset.setdefault(finding.asset_id, []).append(finding)
    suites: dict[str, ET.Element] = {}
    counts: dict[str, Counter[str]] = {}
    stamp = utc_timestamp(report.started).removesuffix("Z")
    for asset in report.assets:
        suite = suites.get(asset.type)
        if suite is None:
            suite = ET.SubElement(root, "testsuite", {"name": asset.type, "timestamp": stamp})
            props = ET.SubElement(suite, "properties")
            for name, value in (("policy", report.policy.id),
                                ("policy.version", report.policy.version),
                                ("policy.sha256", report.policy.sha256),
                                ("as_of", iso_date(report.as_of)),
                                ("fail_on", fail_on.value)):
                ET.SubElement(props, "property", {"name": name, "value": xml_text(value)})
            suites[asset.type] = suite
            counts[asset.type] = Counter()
        by_rule: dict[str, list[Finding]] = {}
        for finding in by_asset.get(asset.id, []):
            by_rule.setdefault(finding.rule, []).append(finding)
        if not by_rule:
            case = ET.SubElement(suite, "testcase", {
                "name": "inventory", "classname": xml_text(f"{asset.type}.{asset.location}"),
                "time": "0"})
            ET.SubElement(case, "system-out").text = xml_text(asset_name(asset))
            counts[asset.type]["tests"] += 1
        for rule, findings in by_rule.items():
            failed, skipped = _testcase(suite, asset, rule, findings, fail_on)
            counts[asset.type].update(tests=1, failures=int(failed), skipped=int(skipped))
    if report.errors:
        suite = ET.SubElement(root, "testsuite", {"name": "inputs", "timestamp": stamp})
        for error in report.errors:
            _error_case(suite, error)
        suites["inputs"] = suite
        counts["inputs"] = Counter(tests=len(report.errors), errors=len(report.errors))
    for kind, suite in suites.items():
        c = counts[kind]
        _suite_attrs(suite, c["tests"], c["failures"], c["errors"], c["skipped"])
    total = Counter[str]()
    for c in counts.values():
        total.update(c)
    root.set("tests", str(total["tests"]))
    root.set("failures", str(total["failures"]))
    root.set("errors", str(total["errors"]))
    root.set("time", "0")
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, "unicode") + "\n"


class JunitReporter(CollectingReporter):
    """Writes :func:`render_junit` of the whole run at ``end``."""

    def render(self, report: Report) -> str:
        return render_junit(report, fail_on=self.options.fail_on)
