"""html: the report of a mixed scan (certificates and keys scanned for real, a TLS endpoint
and a configuration setting as records, see test_report_load) opens in headless Chromium
with no console error and no network request, filters and sorts its inventory, and prints
to a PDF that has every section. The screenshot and PDF are kept in tests/artifacts/.

Chromium is the system one (/usr/bin/chromium), driven by Playwright; no browser is
downloaded.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from playwright.sync_api import Browser
from pypdf import PdfReader
from servers.browser import chromium
from servers.needs import declares
from test_report_load import config_setting, mixed_report, tls_endpoint, write_mixed

from cryptocheck.cli import main
from cryptocheck.report.html import STATUS_COLOUR, render_html
from cryptocheck.report.sample import empty_report, sample_report

ARTIFACTS = Path(__file__).parent / "artifacts"
SECTIONS = ("Executive summary", "Charts", "Findings by rule", "Asset inventory", "Waivers",
            "Unreadable inputs", "Scope and evidence")
CHARTS = ("Findings by status", "Key algorithms and sizes", "Certificate signature hashes",
          "Protocol versions accepted", "Certificate expiry by month", "Post-quantum readiness")


@pytest.fixture(scope="module")
@declares("browser")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


@pytest.fixture(scope="module")
@declares("tls_server")  # the mixed report scans a live s_server
def mixed_html(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The mixed report rendered by the CLI from its saved JSON, as an auditor would."""
    root = tmp_path_factory.mktemp("html")
    saved = write_mixed(root / "mixed.json")
    out = root / "report.html"
    result = CliRunner().invoke(main, ["report", str(saved), "--format", "html", "-o", str(out)])
    assert result.exit_code == 0, result.output
    return out


def _open(browser: Browser, path: Path) -> tuple[Any, list[str], list[str]]:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    problems: list[str] = []
    requests: list[str] = []
    page.on("console", lambda m: problems.append(f"{m.type}: {m.text}")
            if m.type in ("error", "warning") else None)
    page.on("pageerror", lambda e: problems.append(f"pageerror: {e}"))
    page.on("request", lambda r: requests.append(r.url))
    page.goto(path.as_uri())
    page.wait_for_load_state("load")
    return page, problems, requests


def test_opens_without_errors_or_network_and_prints_every_section(
        browser: Browser, mixed_html: Path) -> None:
    page, problems, requests = _open(browser, mixed_html)
    try:
        ARTIFACTS.mkdir(exist_ok=True)
        # The first screen (summary) and the charts; a full-page capture costs seconds more.
        page.screenshot(path=str(ARTIFACTS / "report-html.png"))
        page.locator("#charts").screenshot(path=str(ARTIFACTS / "report-html-charts.png"))
        assert problems == []
        assert requests == [mixed_html.as_uri()]  # the page itself, nothing else
        for title in CHARTS:
            assert page.locator("figure", has_text=title).count() == 1
        assert page.locator("svg.chart").count() >= 5  # charts with data
        pdf = ARTIFACTS / "report-html.pdf"
        page.pdf(path=str(pdf), format="A4", print_background=True)
        assert requests == [mixed_html.as_uri()]
    finally:
        page.close()
    # NFKC undoes the ligatures (fi, fl) the PDF's fonts use.
    text = unicodedata.normalize("NFKC", " ".join(p.extract_text() for p in PdfReader(pdf).pages))
    text = re.sub(r"\s+", " ", text)
    for heading in (*SECTIONS, *CHARTS):
        assert heading in text, heading
    report = mixed_report()
    assert report.policy.sha256 in text
    assert "W-42" in text and "pki-team@example.org" in text and "2026-12-31" in text
    assert str(tls_endpoint(report).location) in text
    assert Path(str(config_setting(report).location.path)).name in text
    assert "TLSv1.0" in text  # the protocol chart's label


def test_inventory_filters_and_sorts_in_the_page(browser: Browser, mixed_html: Path) -> None:
    page, problems, _ = _open(browser, mixed_html)
    try:
        total = len(mixed_report().assets)
        assert page.inner_text("#shown-count") == f"{total} of {total} shown"
        page.select_option("#filter-kind", "tls-endpoint")
        assert page.inner_text("#shown-count") == f"1 of {total} shown"
        port = str(tls_endpoint(mixed_report()).location.port)
        assert page.locator("#asset-table tbody tr:visible").first.inner_text().startswith(
            "tls-endpoint")
        page.select_option("#filter-kind", "")
        page.fill("#filter-text", port)  # the endpoint and the certificate it served
        served = sum(1 for a in mixed_report().assets if a.location.port == int(port))
        assert served >= 2
        assert page.inner_text("#shown-count") == f"{served} of {total} shown"
        page.fill("#filter-text", "")
        page.click("#asset-table th[data-key=rank]")  # ascending, then descending
        page.click("#asset-table th[data-key=rank]")
        first = page.locator("#asset-table tbody tr").first.get_attribute("data-status")
        assert first == "disallowed"
        assert problems == []
    finally:
        page.close()


def test_hostile_text_is_escaped() -> None:
    page = render_html(sample_report())
    assert "\x1b" not in page and "\u202e" not in page
    assert "\\x1b[31m" in page and "\\u202e" in page  # shown, not obeyed
    assert "<script>" not in page.replace("<script>(function", "", 1)


def test_empty_report_renders() -> None:
    page = render_html(empty_report())
    assert "No assets." in page and "PASS" in page and "No TLS endpoints" in page


@pytest.mark.tls_server  # mixed_report scans a live s_server
def test_content_security_policy_allows_nothing_remote() -> None:
    page = render_html(mixed_report())
    csp = re.search(r'Content-Security-Policy" content="([^"]+)"', page)
    assert csp is not None
    policy = html.unescape(csp.group(1))
    assert "default-src 'none'" in policy and "script-src 'sha256-" in policy
    assert "http" not in policy
    assert not re.search(r'\ssrc=', page)  # nothing loaded: citations are plain links
    assert all(url.startswith(("#", "https://", "http://"))
               for url in re.findall(r'href="([^"]*)"', page))
    assert "<link" not in page and "@import" not in page


@pytest.mark.tls_server  # mixed_report scans a live s_server
def test_chart_colours_are_the_policys_statuses() -> None:
    report = mixed_report()
    page = render_html(report)
    chart = page[page.index('<svg id="chart-protocols"'):]
    chart = chart[:chart.index("</svg>")]
    for version in ("TLSv1.0", "TLSv1.3"):
        worst = max((f.status for f in report.findings
                     if f.usage.context == "tls.protocol" and f.usage.algorithm == version),
                    key=lambda s: s.rank)
        bar = re.search(rf'fill="(#[0-9a-f]{{6}})"><title>{re.escape(version)}: ', chart)
        assert bar is not None and bar.group(1) == STATUS_COLOUR[worst.value]
