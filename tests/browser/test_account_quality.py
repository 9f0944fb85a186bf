"""The end-user site without JavaScript, and its accessibility basics, in a real browser."""
from __future__ import annotations

from datetime import date

import pytest
from playwright.sync_api import expect

from barong.extensions import db
from barong.models import Document
from tests.browser.support import DESKTOP, png_bytes
from tests.helpers import DEFAULT_PASSWORD

pytestmark = pytest.mark.browser

PAGES = ["/accounts/", "/accounts/profile", "/accounts/phone", "/accounts/documents", "/accounts/address",
         "/accounts/security/2fa", "/accounts/security/password", "/accounts/api-keys", "/accounts/sessions",
         "/accounts/activity"]
PUBLIC = ["/", "/accounts/signup", "/accounts/login", "/accounts/password/forgot", "/accounts/confirmation/resend",
          "/accounts/confirmation?token=x", "/accounts/password_reset?token=x"]

#: every visible form control must have an accessible name (a <label for>, a wrapping label or aria-label)
UNLABELLED = """() => [...document.querySelectorAll('input, select, textarea')]
  .filter(el => el.type !== 'hidden' && el.offsetParent !== null)
  .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label'))
  .map(el => el.outerHTML)"""


def _sign_in(page, base, user):
    page.goto(f"{base}/accounts/login")
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/accounts/")


def test_core_forms_work_without_javascript(app, live_server, browser, make_user):
    app.config["WTF_CSRF_ENABLED"] = True
    user = make_user()
    context = browser.new_context(viewport=DESKTOP, java_script_enabled=False)
    page = context.new_page()
    try:
        page.goto(f"{live_server}/accounts/login")
        page.get_by_label("Email").fill(user.email)
        page.get_by_label("Password").fill("Wrong-Passw0rd")
        page.get_by_role("button", name="Sign in").click()
        expect(page.locator("#login-form .form-errors")).to_contain_text("Wrong email or password")
        _sign_in(page, live_server, user)
        expect(page.locator("#flashes")).to_contain_text("You are signed in")

        page.goto(f"{live_server}/accounts/documents")
        page.get_by_label("Document type").select_option("Passport")
        page.get_by_label("Document number").fill("AB1234567")
        page.get_by_label("Expiry date").fill(date(date.today().year + 2, 5, 1).isoformat())
        page.get_by_label("Front side").set_input_files({"name": "id.png", "mimeType": "image/png",
                                                          "buffer": png_bytes()})
        page.get_by_role("button", name="Upload").click()
        expect(page.locator("#flashes")).to_contain_text("waiting for review")
        assert db.session.query(Document).filter_by(user_id=user.id).count() == 1

        page.goto(f"{live_server}/accounts/security/password")
        page.get_by_label("Current password").fill(DEFAULT_PASSWORD)
        page.get_by_label("New password", exact=True).fill("Nevv-Passw0rd-x")
        page.get_by_label("Repeat the new password").fill("different")
        page.get_by_role("button", name="Change password").click()
        expect(page.locator("#confirm_password-error")).to_contain_text("don't match")

        page.get_by_role("button", name="Sign out").click()
        page.wait_for_url("**/accounts/login")
    finally:
        context.close()


def test_pages_have_labels_one_heading_and_a_skip_link(live_server, page, make_user):
    errors = []
    page.on("console", lambda msg: errors.append(f"{page.url}: {msg.text}") if msg.type == "error" else None)
    for path in PUBLIC:
        page.goto(live_server + path)
        assert page.evaluate(UNLABELLED) == [], path
        assert page.locator("h1").count() == 1, path
    _sign_in(page, live_server, make_user())
    for path in PAGES:
        page.goto(live_server + path)
        assert page.evaluate(UNLABELLED) == [], path
        assert page.locator("h1").count() == 1, path
        assert page.locator("html").get_attribute("lang") == "en"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip-link"
    assert errors == []


def test_upload_progress_is_shown_while_sending(live_server, page, make_user):
    """htmx's xhr progress events drive the <progress> bar of the upload form."""
    user = make_user()
    _sign_in(page, live_server, user)
    page.goto(f"{live_server}/accounts/documents")
    page.evaluate("""() => document.addEventListener('htmx:xhr:progress', () => {
        const bar = document.querySelector('[data-upload-progress]');
        sessionStorage.setItem('progress', JSON.stringify({shown: !bar.hidden, value: bar.value}));
    })""")
    page.get_by_label("Document type").select_option("Identity card")
    page.get_by_label("Document number").fill("ID998877")
    page.get_by_label("Expiry date").fill(date(date.today().year + 1, 12, 1).isoformat())
    big = png_bytes() + b"\0" * 3_000_000  # a valid PNG start; large enough for several progress events
    page.get_by_label("Front side").set_input_files({"name": "card.png", "mimeType": "image/png", "buffer": big})
    page.get_by_role("button", name="Upload").click()
    expect(page.locator("#flashes")).to_contain_text("waiting for review")
    progress = page.evaluate("() => JSON.parse(sessionStorage.getItem('progress') || 'null')")
    assert progress == {"shown": True, "value": 100}
    assert db.session.query(Document).filter_by(user_id=user.id).count() == 1
