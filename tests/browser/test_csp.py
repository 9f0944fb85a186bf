"""The Content-Security-Policy breaks nothing: the site and console pages load htmx and
app.js, the QR code and document previews display, and Chromium reports no violation."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.test_console import make_applicant, sign_in

pytestmark = pytest.mark.browser


def test_pages_run_under_the_csp_without_violations(live_server, page, make_user):
    problems = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    applicant = make_applicant(make_user)
    admin = make_user(role="superadmin")
    sign_in(page, live_server, admin, "/admin/users")
    assert "frame-ancestors 'none'" in page.evaluate("() => fetch(location.href).then(r => "
                                                     "r.headers.get('content-security-policy'))")
    assert page.evaluate("() => typeof htmx") == "object"
    page.get_by_label("Search").fill("applicant@exa")  # htmx live search still swaps
    expect(page.locator("#users-table tbody tr")).to_have_count(1)
    page.goto(f"{live_server}/admin/users/{applicant.uid}")
    img = page.locator("#user-documents img")
    expect(img).to_be_visible()  # the sandboxed attachment still previews as an <img>
    assert page.evaluate("(el) => el.naturalWidth", img.element_handle()) > 0
    for path in ("/accounts/", "/accounts/security/2fa", "/accounts/api-keys", "/accounts/documents", "/admin/",
                 "/admin/kyc", "/accounts/no-such-page"):
        page.goto(f"{live_server}{path}")
        assert page.evaluate("() => typeof htmx") == "object", path
    csp = [p for p in problems if re.search(r"Content Security Policy|Refused to", p)]
    assert csp == [], csp
