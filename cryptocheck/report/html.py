"""The ``html`` format: one self-contained page an auditor can hand on, read offline and print.

Sections: executive summary (verdict at ``--fail-on``, counts by status and by source kind),
charts as inline SVG (status breakdown, key algorithms and sizes, signature hashes, protocol
versions accepted by TLS endpoints, certificate expiry by month, post-quantum readiness),
findings grouped by rule with the rule's citation and the affected assets, the full asset
inventory (filtered and sorted in the page by a small inline script), the waivers with owner
and expiry, unreadable inputs, and the scope and evidence of the run (tool version, policy
id, version and SHA-256, as-of date, inputs, start and end).

Nothing is fetched: CSS, script and charts are inline, and a Content-Security-Policy that
allows no source at all (only the inline style and the one script, by its hash) makes sure
of it. Every string that came from an input is escaped by Jinja2's autoescape and shown with
control and bidi characters as visible escapes. The charts count what the report holds; they
decide nothing.
"""

from __future__ import annotations

import base64
import hashlib
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from cryptocheck.model import (
    Asset,
    CertificateAsset,
    EndpointAsset,
    Finding,
    KeyAsset,
    Report,
    Status,
)
from cryptocheck.report import (
    CollectingReporter,
    accepted_protocols,
    asset_name,
    failing_findings,
    finding_fingerprint,
    verdict,
)
from cryptocheck.report.terminal import printable
from cryptocheck.report.wire import SCHEMA_VERSION, STATUS_ORDER, iso_date, utc_timestamp

PROTOCOL_ORDER = ("SSLv2", "SSLv3", "TLSv1.0", "TLSv1.1", "TLSv1.2", "TLSv1.3")
EXPIRY_MONTHS = 24
AFFECTED_SHOWN = 50

STATUS_COLOUR = {"approved": "#2e7d32", "legacy": "#00838f", "deprecated": "#ef6c00",
                 "unknown": "#6a1b9a", "disallowed": "#c62828", "none": "#757575"}
_NEUTRAL = "#1565c0"


@dataclass(frozen=True)
class Bar:
    """One bar of a chart: a label, a count and its colour."""

    label: str
    count: int
    colour: str = _NEUTRAL


def bar_chart(chart_id: str, title: str, bars: Sequence[Bar], empty: str) -> Markup:
    """A horizontal bar chart as inline SVG, labels and counts as text (so a PDF has them)."""
    if not bars or not any(b.count for b in bars):
        return Markup('<p class="empty">{}</p>').format(empty)
    label_w, bar_w, row_h, pad = 190, 300, 22, 6
    height = row_h * len(bars) + pad * 2
    top = max(b.count for b in bars)
    parts = [Markup('<svg id="{}" class="chart" role="img" viewBox="0 0 {} {}" width="{}" '
                    'height="{}" xmlns="http://www.w3.org/2000/svg"><title>{}</title>').format(
        chart_id, label_w + bar_w + 70, height, label_w + bar_w + 70, height, title)]
    for i, bar in enumerate(bars):
        y = pad + i * row_h
        width = 0 if top == 0 else max(1, round(bar_w * bar.count / top)) if bar.count else 0
        parts.append(Markup(
            '<text x="{}" y="{}" text-anchor="end" class="label">{}</text>'
            '<rect x="{}" y="{}" width="{}" height="{}" fill="{}"><title>{}: {}</title></rect>'
            '<text x="{}" y="{}" class="count">{}</text>').format(
            label_w - 8, y + 15, _short(bar.label), label_w, y + 3, width, row_h - 6,
            bar.colour, bar.label, bar.count, label_w + width + 6, y + 15, bar.count))
    parts.append(Markup("</svg>"))
    return Markup("").join(parts)


def _short(label: str, limit: int = 28) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "…"


def _key_label(asset: CertificateAsset | KeyAsset) -> str:
    if asset.curve and asset.curve.lower() != asset.key_algorithm.lower():
        return f"{asset.key_algorithm} {asset.curve}"
    if asset.key_size is not None and asset.key_algorithm not in ("Ed25519", "Ed448"):
        return f"{asset.key_algorithm} {asset.key_size}"
    return asset.key_algorithm


def _protocols_accepted(report: Report, by_asset: dict[str, list[Finding]]) -> Counter[str]:
    """Endpoints accepting each protocol version: from details["protocols"] when the TLS
    source gives it, else from the endpoint's tls.protocol findings."""
    counts: Counter[str] = Counter()
    for asset in report.assets:
        if not (isinstance(asset, EndpointAsset) and asset.type == "tls-endpoint"):
            continue
        names = set(accepted_protocols(asset))
        if not names:
            names = {f.usage.algorithm for f in by_asset.get(asset.id, [])
                     if f.usage.context == "tls.protocol"}
        counts.update(names)
    return counts


def _expiry_bars(certs: Sequence[CertificateAsset], as_of: date) -> list[Bar]:
    expired, later = 0, 0
    months: Counter[str] = Counter()
    first = (as_of.year, as_of.month)
    keys = []
    for i in range(EXPIRY_MONTHS):
        year, month = divmod(first[1] - 1 + i, 12)
        keys.append(f"{first[0] + year:04d}-{month + 1:02d}")
    for cert in certs:
        day = cert.not_after.date() if isinstance(cert.not_after, datetime) else cert.not_after
        if day < as_of:
            expired += 1
            continue
        key = f"{day.year:04d}-{day.month:02d}"
        if key in keys:
            months[key] += 1
        else:
            later += 1
    bars = [Bar("expired", expired, STATUS_COLOUR["disallowed"])]
    bars += [Bar(key, months.get(key, 0), STATUS_COLOUR["deprecated"] if i < 3 else _NEUTRAL)
             for i, key in enumerate(keys)]
    bars.append(Bar(f"after {keys[-1]}", later, STATUS_COLOUR["approved"]))
    return bars


def _worst_by(findings: Sequence[Finding], contexts: tuple[str, ...],
              key: Callable[[Finding], str]) -> dict[str, str]:
    """The worst status the policy gave, per value (protocol version, hash), in ``contexts``."""
    worst: dict[str, Status] = {}
    for finding in findings:
        if finding.usage.context in contexts:
            value = key(finding)
            if value not in worst or finding.status.rank > worst[value].rank:
                worst[value] = finding.status
    return {value: status.value for value, status in worst.items()}


def charts(report: Report, by_asset: dict[str, list[Finding]]) -> list[dict[str, Any]]:
    """The six charts: id, title, a sentence saying what is counted, and the SVG."""
    status_counts = Counter(f.status.value for f in report.findings)
    keys = Counter(_key_label(a) for a in report.assets
                   if isinstance(a, (CertificateAsset, KeyAsset)))
    hashes = Counter((a.signature_hash or f"none ({a.signature_scheme})")
                     for a in report.assets if isinstance(a, CertificateAsset))
    protocols = _protocols_accepted(report, by_asset)
    ordered = [p for p in PROTOCOL_ORDER if p in protocols] + sorted(
        p for p in protocols if p not in PROTOCOL_ORDER)
    # Bars are coloured by the policy's own worst status for that value, never by a list
    # kept here: the reporter decides nothing.
    protocol_status = _worst_by(report.findings, ("tls.protocol",), lambda f: f.usage.algorithm)
    hash_status = _worst_by(report.findings, ("certificate.signature", "certificate.self-signature"),
                            lambda f: f.usage.hash or "")
    certs = [a for a in report.assets if isinstance(a, CertificateAsset)]
    quantum: Counter[str] = Counter()
    for finding in report.findings:
        if finding.usage.context in ("certificate.validity", "tls.protocol", "ssh.compression"):
            continue
        vulnerable = finding.usage.quantum_vulnerable
        quantum["quantum-vulnerable" if vulnerable else "quantum-safe" if vulnerable is False
                else "not known"] += 1
    specs = [
        ("chart-status", "Findings by status", "Every finding of the run, by the policy's status.",
         [Bar(s, status_counts.get(s, 0), STATUS_COLOUR[s]) for s in reversed(STATUS_ORDER)],
         "No findings."),
        ("chart-keys", "Key algorithms and sizes",
         "Certificates' subject keys and keys found on their own.",
         [Bar(k, n) for k, n in keys.most_common(15)], "No certificates or keys."),
        ("chart-hashes", "Certificate signature hashes", "The hash of each certificate's signature.",
         [Bar(h, n, STATUS_COLOUR.get(hash_status.get(h, ""), _NEUTRAL))
          for h, n in hashes.most_common(10)], "No certificates."),
        ("chart-protocols", "Protocol versions accepted",
         "TLS endpoints accepting each protocol version.",
         [Bar(p, protocols[p], STATUS_COLOUR.get(protocol_status.get(p, ""), _NEUTRAL))
          for p in ordered], "No TLS endpoints in this report."),
        ("chart-expiry", "Certificate expiry by month",
         f"Certificates by the month their validity ends, from {iso_date(report.as_of)[:7]}.",
         _expiry_bars(certs, report.as_of) if certs else [], "No certificates."),
        ("chart-pq", "Post-quantum readiness",
         ("Algorithm usages a cryptographically relevant quantum computer would break "
          "(NIST IR 8547) against those it would not."),
         [Bar(k, quantum.get(k, 0), c) for k, c in (
             ("quantum-vulnerable", STATUS_COLOUR["disallowed"]),
             ("quantum-safe", STATUS_COLOUR["approved"]), ("not known", STATUS_COLOUR["none"]))],
         "No algorithm usages."),
    ]
    return [{"id": cid, "title": title, "caption": caption,
             "svg": bar_chart(cid, title, bars, empty)}
            for cid, title, caption, bars, empty in specs]


def _worst(findings: Sequence[Finding]) -> str:
    judged = [f for f in findings if not f.waived]
    worst = max((f.status for f in judged), key=lambda s: s.rank, default=None)
    return worst.value if worst else ("waived" if findings else "none")


def _asset_row(asset: Asset, findings: Sequence[Finding]) -> dict[str, Any]:
    algorithm, size, expires = "", "", ""
    if isinstance(asset, (CertificateAsset, KeyAsset)):
        algorithm = asset.key_algorithm
        size = asset.curve or (str(asset.key_size) if asset.key_size is not None else "")
    if isinstance(asset, CertificateAsset):
        expires = iso_date(asset.not_after)
    elif isinstance(asset, EndpointAsset):
        algorithm = asset.service
    elif not isinstance(asset, KeyAsset):
        algorithm = asset.directive
    return {"id": asset.id, "kind": asset.type, "name": asset_name(asset),
            "location": str(asset.location), "algorithm": algorithm, "size": size,
            "expires": expires, "status": _worst(findings), "findings": len(findings),
            "rank": Status(_worst(findings)).rank if _worst(findings) in STATUS_ORDER else -1}


def _rule_groups(report: Report, names: dict[str, str]) -> list[dict[str, Any]]:
    groups: dict[str, list[Finding]] = {}
    for finding in report.findings:
        groups.setdefault(finding.rule, []).append(finding)
    result: list[dict[str, Any]] = []
    for rule, findings in groups.items():
        statuses = Counter(f.status.value for f in findings)
        worst = max((f.status for f in findings), key=lambda s: s.rank)
        citations = list(dict.fromkeys(c for f in findings for c in f.citations))
        affected = list(dict.fromkeys(f.asset_id for f in findings))
        result.append({
            "rule": rule, "worst": worst.value, "rank": worst.rank, "count": len(findings),
            "statuses": [(s, statuses[s]) for s in reversed(STATUS_ORDER) if statuses.get(s)],
            "message": findings[0].message, "citations": citations,
            "waived": sum(1 for f in findings if f.waived),
            "affected": [{"id": a, "name": names.get(a, a)} for a in affected[:AFFECTED_SHOWN]],
            "more": max(0, len(affected) - AFFECTED_SHOWN),
            "findings": [{"where": str(f.location), "message": f.message,
                          "status": f.status.value, "waiver": f.waiver,
                          "fingerprint": finding_fingerprint(f)}
                         for f in findings[:AFFECTED_SHOWN]],
        })
    result.sort(key=lambda g: (-g["rank"], g["rule"]))
    return result


@cache
def _environment() -> Environment:
    env = Environment(loader=PackageLoader("cryptocheck.report", "templates"),
                      autoescape=select_autoescape(default=True, default_for_string=True),
                      trim_blocks=True, lstrip_blocks=True)
    env.filters["p"] = lambda value: printable(str(value)) if value is not None else ""
    return env


def _csp_hash(text: str) -> str:
    return "sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode()


def render_html(report: Report, *, fail_on: Status = Status.DISALLOWED) -> str:
    """The report as one self-contained HTML page (deterministic for the same report)."""
    env = _environment()
    by_asset: dict[str, list[Finding]] = {}
    for finding in report.findings:
        by_asset.setdefault(finding.asset_id, []).append(finding)
    names = {a.id: asset_name(a) for a in report.assets}
    script = env.get_template("report.js.j2").render()
    style = env.get_template("report.css.j2").render()
    kinds = Counter(a.type for a in report.assets)
    applied = {f.waiver.id: f.waiver for f in report.findings if f.waiver is not None}
    waived_counts = Counter(f.waiver.id for f in report.findings if f.waiver is not None)
    waivers = list(report.waivers) + [w for k, w in applied.items()
                                      if k not in {x.id for x in report.waivers}]
    context = {
        "report": report, "policy": report.policy, "fail_on": fail_on.value,
        "verdict": verdict(report, fail_on),
        "failing": len(failing_findings(report.findings, fail_on)),
        "status_counts": [(s, sum(1 for f in report.findings if f.status.value == s))
                          for s in reversed(STATUS_ORDER)],
        "kind_counts": sorted(kinds.items()), "colour": STATUS_COLOUR,
        "charts": charts(report, by_asset), "rules": _rule_groups(report, names),
        "assets": [_asset_row(a, by_asset.get(a.id, [])) for a in report.assets],
        "kinds": sorted(kinds), "statuses": list(reversed(STATUS_ORDER)),
        "waivers": [{"waiver": w, "applied": waived_counts.get(w.id, 0),
                     "expired": w.expires < report.as_of} for w in waivers],
        "expired_notes": [f for f in report.findings if f.waiver_note],
        "errors": report.errors, "as_of": iso_date(report.as_of),
        "started": utc_timestamp(report.started), "finished": utc_timestamp(report.finished),
        "schema_version": SCHEMA_VERSION, "iso_date": iso_date,
        "waived_total": sum(1 for f in report.findings if f.waived),
        "script": Markup(script), "style": Markup(style),
        "csp": (f"default-src 'none'; style-src 'unsafe-inline'; "
                f"script-src '{_csp_hash(script)}'; img-src data:; base-uri 'none'; "
                "form-action 'none'"),
    }
    return env.get_template("report.html.j2").render(context) + "\n"


class HtmlReporter(CollectingReporter):
    """Writes :func:`render_html` of the whole run at ``end``."""

    def render(self, report: Report) -> str:
        return render_html(report, fail_on=self.options.fail_on)


__all__ = ["HtmlReporter", "bar_chart", "charts", "render_html"]
