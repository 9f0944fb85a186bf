"""The end-user journey in a real browser: signup → mail → confirm → login → enable 2FA →
log out → log in with TOTP → add phone → profile → upload a document → create an API key
and use it against /api/v2/auth/…"""
from __future__ import annotations

import hashlib
import hmac
import json
import re
import time
import urllib.error
import urllib.request
from datetime import date

import pytest
from playwright.sync_api import expect

from barong.extensions import db
from barong.models import APIKey, Document, Phone, Profile, User
from tests.browser.support import PROFILE, png_bytes, sign_in, submit, submit_profile
from tests.helpers import DEFAULT_PASSWORD

pytestmark = pytest.mark.browser


def _user(email):
    db.session.expire_all()
    return db.session.query(User).filter_by(email_lower=email.lower()).one()


def _call_with_api_key(url: str, kid: str, secret: str):
    nonce = str(int(time.time() * 1000))
    signature = hmac.new(secret.encode(), (nonce + kid).encode(), hashlib.sha256).hexdigest()
    req = urllib.request.Request(url, headers={"X-Auth-Apikey": kid, "X-Auth-Nonce": nonce,
                                               "X-Auth-Signature": signature})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), err.read()


def test_signup_to_api_key(app, live_server, page, mailbox, totp_clock):
    app.config["BARONG_FIRST_REGISTRATION_SUPERADMIN"] = False
    app.config["WTF_CSRF_ENABLED"] = True  # forms carry the token, htmx sends it as X-CSRFToken
    email = "journey@example.com"

    # sign up, with the live strength hint
    page.goto(f"{live_server}/accounts/signup")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password", exact=True).fill("abc")
    expect(page.locator("#password-strength")).to_contain_text("8 to 80 characters")
    page.get_by_label("Password", exact=True).fill(DEFAULT_PASSWORD)
    expect(page.locator("#password-strength")).to_contain_text("Strong")
    page.get_by_role("button", name="Create account").click()
    page.wait_for_url("**/accounts/confirmation/sent")
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
    assert _user(email).state == "pending"

    # the mail's link confirms
    mails = mailbox(to=email)
    assert len(mails) == 1
    body = mails[0].get_body(preferencelist=("plain",)).get_content()
    link = re.search(r"(http://\S+/accounts/confirmation\?token=\S+)", body).group(1)
    assert link.startswith(live_server)
    page.goto(link)
    page.get_by_role("button", name="Confirm my email").click()
    page.wait_for_url("**/accounts/")
    expect(page.locator("#flashes")).to_contain_text("Your email is confirmed")
    assert _user(email).state == "active" and _user(email).level == 1

    # log out, log in
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/accounts/login")
    sign_in(page, email, DEFAULT_PASSWORD)
    page.wait_for_url("**/accounts/")

    # enable 2FA: QR code + secret, confirm with a code, recovery codes shown once
    page.get_by_role("link", name="Two-factor").click()
    page.get_by_role("button", name="Set up").click()
    qr = page.get_by_role("img", name="QR code for your authenticator app")
    assert qr.get_attribute("src").startswith("data:image/png;base64,")
    secret = page.locator("#otp-secret").get_attribute("data-secret")
    submit(page, "Turn on", {"6-digit code": "000000"})
    expect(page.locator("#otp-enable-form .error")).to_be_visible()  # 422 swapped next to the field
    submit(page, "Turn on", {"6-digit code": totp_clock.next_code(secret)})
    expect(page.get_by_role("heading", name="Save your recovery codes")).to_be_visible()
    assert page.locator("#recovery-codes li").count() == 10
    assert _user(email).otp is True

    # log out, log in with the password then a TOTP code
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/accounts/login")
    sign_in(page, email, DEFAULT_PASSWORD)
    page.wait_for_url("**/accounts/login/code")
    submit(page, "Verify", {"Authentication code": totp_clock.next_code(secret)})
    page.wait_for_url("**/accounts/")
    expect(page.locator("#flashes")).to_contain_text("You are signed in")

    # phone: add, code from the mock provider (BARONG_MOCK_SMS_CODE=12345), verify
    page.get_by_role("link", name="Phone").click()
    submit(page, "Send code", {"Phone number": "+44 7418 084106"})
    expect(page.get_by_role("button", name=re.compile("Send a new code"))).to_be_disabled()  # the wait is shown
    submit(page, "Verify", {"Code": "12345"})
    expect(page.locator("#flashes")).to_contain_text("Your phone number is verified")
    user = _user(email)
    assert user.level == 2
    assert db.session.query(Phone).filter(Phone.user_id == user.id, Phone.validated_at.isnot(None)).count() == 1

    # profile, submitted for verification
    page.get_by_role("link", name="Profile").click()
    submit_profile(page)
    expect(page.locator("#flashes")).to_contain_text("submitted for verification")
    profile = db.session.query(Profile).filter_by(user_id=user.id).one()
    assert profile.state == "submitted" and profile.first_name == PROFILE["First name"] and profile.country == "GB"

    # identity document with front side and selfie; progress bar during the upload
    page.get_by_role("link", name="Documents").click()
    page.get_by_label("Document type").select_option("Passport")
    page.get_by_label("Document number").fill("AB1234567")
    page.get_by_label("Expiry date").fill(date(date.today().year + 5, 1, 31).isoformat())
    page.get_by_label("Front side").set_input_files({"name": "front.png", "mimeType": "image/png",
                                                      "buffer": png_bytes()})
    page.get_by_label("Selfie holding the document").set_input_files(
        {"name": "selfie.png", "mimeType": "image/png", "buffer": png_bytes(rgb=(200, 90, 40))})
    page.get_by_role("button", name="Upload").click()
    expect(page.locator("#flashes")).to_contain_text("waiting for review")
    docs = db.session.query(Document).filter_by(user_id=user.id).all()
    assert sorted(d.doc_category for d in docs) == ["front_side", "selfie"]
    assert len({d.identificator for d in docs}) == 1
    assert _user(email).private_labels()["document"] == "pending"

    # API key: needs a TOTP code; the secret is shown once; it works against /api/v2/auth
    page.get_by_role("link", name="API keys").click()
    submit(page, "Create key", {"2FA code": totp_clock.next_code(secret)})
    expect(page.get_by_role("heading", name="Your new API key")).to_be_visible()
    kid = page.locator("#new-key-kid").inner_text().strip()
    key_secret = page.locator("#new-key-secret").inner_text().strip()
    assert db.session.query(APIKey).filter_by(kid=kid, key_holder_account_id=user.id).one().state == "active"
    page.reload()
    expect(page.get_by_role("heading", name="Your new API key")).to_have_count(0)
    assert key_secret not in page.content()

    status, headers, body = _call_with_api_key(f"{live_server}/api/v2/auth/api/v2/barong/resource/users/me",
                                               kid, key_secret)
    assert status == 200, body
    assert headers.get("Authorization", "").startswith("Bearer ")
    me = urllib.request.Request(f"{live_server}/api/v2/barong/resource/users/me")
    nonce = str(int(time.time() * 1000))
    for name, value in (("X-Auth-Apikey", kid), ("X-Auth-Nonce", nonce),
                        ("X-Auth-Signature", hmac.new(key_secret.encode(), (nonce + kid).encode(),
                                                      hashlib.sha256).hexdigest())):
        me.add_header(name, value)
    with urllib.request.urlopen(me, timeout=10) as resp:
        assert json.loads(resp.read())["email"] == email
