"""Passkeys in real Chromium with its virtual authenticator (CDP WebAuthn domain): register a
passkey on /accounts/security/passkeys, sign in with it as the second factor, and see a key
of another authenticator (never registered for the user) refused.

Served on http://localhost:<port> (a secure context; RP id `localhost` = the page's host)."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from barong.extensions import db
from barong.models import Activity, SessionRecord, WebAuthnCredential
from tests.browser.support import LiveServer, sign_in
from tests.helpers import DEFAULT_PASSWORD

pytestmark = pytest.mark.browser


@pytest.fixture
def localhost_server(app):
    server = LiveServer(app, host="localhost").start()
    saved = app.config["BARONG_DOMAIN"]
    app.config["BARONG_DOMAIN"] = server.url
    yield server.url
    app.config["BARONG_DOMAIN"] = saved
    server.stop()


def _virtual_authenticator(page):
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable", {"enableUI": False})
    result = cdp.send("WebAuthn.addVirtualAuthenticator", {"options": {
        "protocol": "ctap2", "transport": "internal", "hasResidentKey": True, "hasUserVerification": True,
        "isUserVerified": True, "automaticPresenceSimulation": True}})
    return cdp, result["authenticatorId"]


def test_register_a_passkey_and_sign_in_with_it_wrong_key_refused(app, localhost_server, browser, make_user):
    app.config["WTF_CSRF_ENABLED"] = True
    user = make_user()
    db.session.commit()
    base = localhost_server
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="en-US")
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        cdp, authenticator = _virtual_authenticator(page)
        page.goto(f"{base}/accounts/login")
        sign_in(page, user.email, DEFAULT_PASSWORD)
        page.wait_for_url(lambda url: "/login" not in url)

        # register
        page.goto(f"{base}/accounts/security/passkeys")
        expect(page.locator("#no-passkeys")).to_be_visible()
        page.get_by_label("Name").fill("Chromium key")
        page.get_by_label("Your password").fill(DEFAULT_PASSWORD)
        page.get_by_role("button", name="Add a passkey").click()
        expect(page.get_by_role("heading", name="Save your recovery codes")).to_be_visible()
        assert page.locator("#recovery-codes li").count() == 10
        db.session.expire_all()
        row = db.session.query(WebAuthnCredential).filter_by(user_id=user.id).one()
        assert row.name == "Chromium key"
        creds = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator})["credentials"]
        assert len(creds) == 1
        page.goto(f"{base}/accounts/security/passkeys")
        expect(page.locator("#passkeys")).to_contain_text("Chromium key")

        # sign out, sign in again: password, then the passkey
        page.goto(f"{base}/accounts/")
        page.get_by_role("button", name="Sign out").first.click()
        page.wait_for_url("**/accounts/login")
        sign_in(page, user.email, DEFAULT_PASSWORD)
        page.wait_for_url("**/accounts/login/code**")
        page.get_by_role("button", name="Use my passkey").click()
        page.wait_for_url(lambda url: "/login" not in url)
        expect(page.get_by_text("You are signed in.")).to_be_visible()
        db.session.expire_all()
        row = db.session.query(WebAuthnCredential).filter_by(user_id=user.id).one()
        assert row.last_used_at is not None and row.sign_count >= 1
        session = db.session.query(SessionRecord).filter_by(uid=user.uid).one()
        assert session.amr == "pwd,webauthn"

        # a wrong key: the registered authenticator is gone, another one answers instead
        page.get_by_role("button", name="Sign out").first.click()
        page.wait_for_url("**/accounts/login")
        cdp.send("WebAuthn.removeVirtualAuthenticator", {"authenticatorId": authenticator})
        other = cdp.send("WebAuthn.addVirtualAuthenticator", {"options": {
            "protocol": "ctap2", "transport": "internal", "hasResidentKey": True, "hasUserVerification": True,
            "isUserVerified": True, "automaticPresenceSimulation": True}})["authenticatorId"]
        assert cdp.send("WebAuthn.getCredentials", {"authenticatorId": other})["credentials"] == []
        sign_in(page, user.email, DEFAULT_PASSWORD)
        page.wait_for_url("**/accounts/login/code**")
        page.get_by_role("button", name="Use my passkey").click()
        # this authenticator holds no key registered for the user: nothing is signed, the form says so
        expect(page.locator("#passkey-login-form [data-webauthn-status]")).to_have_text(
            "The passkey did not answer. Please try again.")
        assert "/accounts/login/code" in page.url
        db.session.expire_all()
        assert db.session.query(SessionRecord).filter_by(uid=user.uid).count() == 0
    finally:
        context.close()


def test_wrong_key_sent_to_the_server_is_refused(app, localhost_server, browser, make_user):
    """A key the browser does offer (a discoverable credential of this site, for another
    account) reaches the server and is refused there: no session, a failed activity."""
    app.config["WTF_CSRF_ENABLED"] = True
    owner, intruder = make_user(), make_user()
    db.session.commit()
    base = localhost_server
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="en-US")
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        _cdp, _authenticator = _virtual_authenticator(page)
        for who in (owner, intruder):
            page.goto(f"{base}/accounts/login")
            sign_in(page, who.email, DEFAULT_PASSWORD)
            page.wait_for_url(lambda url: "/login" not in url)
            page.goto(f"{base}/accounts/security/passkeys")
            page.get_by_label("Name").fill(f"key of {who.email}")
            page.get_by_label("Your password").fill(DEFAULT_PASSWORD)
            page.get_by_role("button", name="Add a passkey").click()
            expect(page.get_by_role("heading", name="Save your recovery codes")).to_be_visible()
            page.goto(f"{base}/accounts/")
            page.get_by_role("button", name="Sign out").first.click()
            page.wait_for_url("**/accounts/login")
        # the owner's login challenge, answered with the intruder's credential (same
        # authenticator, so the browser has both): swap the options' allowCredentials
        intruder_id = db.session.query(WebAuthnCredential).filter_by(user_id=intruder.id).one().credential_id

        def swap(route):
            resp = route.fetch()
            body = resp.json()
            body["publicKey"]["allowCredentials"] = [{"type": "public-key", "id": intruder_id}]
            route.fulfill(response=resp, json=body)

        page.route("**/accounts/login/passkey/options", swap)
        sign_in(page, owner.email, DEFAULT_PASSWORD)
        page.wait_for_url("**/accounts/login/code**")
        page.get_by_role("button", name="Use my passkey").click()
        expect(page.get_by_text("This passkey was not accepted")).to_be_visible()
        db.session.expire_all()
        assert db.session.query(SessionRecord).filter_by(uid=owner.uid).count() == 0
        assert db.session.query(Activity).filter_by(user_id=owner.id, action="login::2fa", result="failed").count() == 1
    finally:
        context.close()


def test_passwordless_sign_in_when_enabled(app, localhost_server, browser, make_user):
    """BARONG_WEBAUTHN_PASSWORDLESS: the login page offers "Sign in with a passkey" (a
    discoverable credential, user verified by the authenticator) — no password typed."""
    app.config["WTF_CSRF_ENABLED"] = True
    user = make_user()
    db.session.commit()
    base = localhost_server
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="en-US")
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        cdp, authenticator = _virtual_authenticator(page)
        page.goto(f"{base}/accounts/login")
        sign_in(page, user.email, DEFAULT_PASSWORD)
        page.wait_for_url(lambda url: "/login" not in url)
        app.config["BARONG_WEBAUTHN_PASSWORDLESS"] = True  # (the helper above clicks the one "Sign in" button)
        page.goto(f"{base}/accounts/security/passkeys")
        page.get_by_label("Name").fill("Resident key")
        page.get_by_label("Your password").fill(DEFAULT_PASSWORD)
        page.get_by_role("button", name="Add a passkey").click()
        expect(page.get_by_role("heading", name="Save your recovery codes")).to_be_visible()
        creds = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator})["credentials"]
        assert creds[0]["isResidentCredential"] is True
        page.goto(f"{base}/accounts/")
        page.get_by_role("button", name="Sign out").first.click()
        page.wait_for_url("**/accounts/login")
        page.get_by_role("button", name="Sign in with a passkey").click()
        page.wait_for_url(lambda url: "/login" not in url)
        expect(page.get_by_text("You are signed in.")).to_be_visible()
        db.session.expire_all()
        assert db.session.query(SessionRecord).filter_by(uid=user.uid).one().amr == "webauthn"
    finally:
        context.close()
