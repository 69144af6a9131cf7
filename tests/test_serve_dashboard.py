"""The dashboard renders in headless Chromium, after logging in with a token, with no console
error; without a session it sends the browser to the login page."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import ConsoleMessage
from servers.browser import chromium
from servers.service import Server, make_token, write_config

from cryptocheck.report import FORMATS

pytestmark = [pytest.mark.service, pytest.mark.browser]
CERTS = Path(__file__).parent / "corpus" / "certs"


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, str]]:
    folder = tmp_path_factory.mktemp("serve-dashboard")
    url = f"sqlite:///{folder / 'serve.db'}"
    config = write_config(folder / "serve.toml", poll_seconds=0.1)
    token = make_token(url, "scan", "dashboard-user")
    server = Server(url, folder / "server.log", config).start()
    try:
        files = [{"name": p.name, "content": base64.b64encode(p.read_bytes()).decode()}
                 for p in (CERTS / "chain-leaf-rsa-2048.pem", CERTS / "leaf-ec-p192.pem")]
        answer = server.request("POST", "/v1/scans", token=token,
                                json_body={"kind": "certs", "files": files})
        assert answer.status == 202
        assert server.wait_scan(token, answer.json()["id"])["state"] == "finished"
        yield server, token
    finally:
        server.stop()


def test_dashboard_renders_without_console_errors(service: tuple[Server, str]) -> None:
    server, token = service
    problems: list[str] = []
    with chromium() as browser:
        try:
            page = browser.new_page()

            def console(message: ConsoleMessage) -> None:
                if message.type in ("error", "warning"):
                    problems.append(f"{message.type}: {message.text}")
            page.on("console", console)
            page.on("pageerror", lambda exc: problems.append(f"pageerror: {exc}"))

            page.goto(server.base + "/")
            assert page.url.endswith("/login")
            page.fill("#token", "cct_wrong")
            page.click("button[type=submit]")
            assert "not valid" in page.inner_text("[role=alert]")
            problems.clear()  # the 401 of a wrong token is reported by Chromium on purpose

            page.fill("#token", token)
            page.click("button[type=submit]")
            page.wait_for_url(server.base + "/")
            assert page.inner_text("#assets-total") == "4"
            assert "Post-quantum readiness" in page.inner_text("#pq")
            assert "of 4 assets" in page.inner_text("#pq")
            worst = page.inner_text("#worst")
            assert "disallowed" in worst and "leaf-ec-p192.pem" in worst
            assert "#1" in page.inner_text("#scans")
            color = page.eval_on_selector("header", "e => getComputedStyle(e).backgroundColor")
            assert color == "rgb(29, 35, 48)"  # the stylesheet loaded
            # An asset's page: its status scan after scan.
            page.click("#worst a[href^='/asset/']")
            assert "disallowed" in page.inner_text("#history")
            assert "leaf-ec-p192.pem" in page.inner_text("#asset")
            assert page.inner_text("#findings").count("disallowed") >= 1
            page.go_back()
            # Report links use the session (GET only).
            href = page.get_attribute("#scans a", "href")
            assert href is not None
            assert page.request.get(server.base + href.split("?")[0]).status == 200
            # The HTML report the dashboard links to renders under its own policy (its
            # inline style and script allowed by hash), with no console error either.
            if "html" in FORMATS:
                page.goto(server.base + href.split("?")[0] + "?format=html")
                assert "leaf-ec-p192.pem" in page.content()
                font = page.eval_on_selector(
                    "body", "e => getComputedStyle(e).fontFamily")
                assert font and "Times" not in font  # its inline style applied
                page.go_back()
            page.click("header button")
            page.wait_for_url(server.base + "/login")
            assert page.request.get(server.base + "/v1/scans").status == 401
        finally:
            browser.close()
    assert problems == []
