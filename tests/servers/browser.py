"""The system Chromium (/usr/bin/chromium), headless, driven by Playwright; no browser is
downloaded. Tests that use it are marked ``browser``."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from servers.needs import require

if TYPE_CHECKING:
    from playwright.sync_api import Browser

CHROMIUM = "/usr/bin/chromium"
# No sandbox (the tests may run as root in a container), and nothing that reaches out to
# the network on its own: a test that checks the page makes no request must see only its own.
ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]


@contextlib.contextmanager
def chromium() -> Iterator[Browser]:
    """Headless Chromium until the block ends; the browser and Playwright's driver are
    stopped then."""
    require("browser", "Chromium")
    assert Path(CHROMIUM).exists(), "the system chromium is needed (see README set-up)"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield browser
        finally:
            browser.close()
