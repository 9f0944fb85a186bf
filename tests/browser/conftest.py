"""Browser fixtures (Playwright driving Debian's chromium headless), shared by the
account journeys and the console's browser tests:

* `live_server`: base URL of the test `app` served in-process by a threaded werkzeug
  server on a free port (so `make_user` and database asserts work in this process);
  `BARONG_DOMAIN` points at it, so links in mails open the live server;
* `browser`: one Chromium per test session;
* `page`: a fresh context and page per test (1280×800, English).

Without chromium these tests fail; they never skip.
"""
from __future__ import annotations

import pytest

from tests.browser.support import DESKTOP, LiveServer, TotpClock, launch_chromium


class LiveURL(str):
    """The base URL (a str), also carrying `.app` as pytest-flask's plugin expects."""

    app = None


@pytest.fixture
def live_server(app):
    server = LiveServer(app).start()
    app.config["BARONG_DOMAIN"] = server.url
    url = LiveURL(server.url)
    url.app = app
    yield url
    server.stop()


@pytest.fixture(scope="session")
def _playwright():
    from playwright.sync_api import sync_playwright

    pw = sync_playwright().start()
    yield pw
    pw.stop()


@pytest.fixture(scope="session")
def browser(_playwright):
    b = launch_chromium(_playwright)
    yield b
    b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport=DESKTOP, locale="en-US")
    context.set_default_timeout(10_000)
    p = context.new_page()
    yield p
    context.close()


@pytest.fixture
def totp_clock(monkeypatch):
    """`totp_clock.next_code(secret)`: a TOTP code one 30 s step later than the last one."""
    return TotpClock().install(monkeypatch)
