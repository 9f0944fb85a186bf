"""The site's passkey pages (test client; the browser ceremony is tests/browser/test_passkeys.py):
removal asks first and needs the password or a code, the login's second step offers the
factors the user has, recovery codes are regenerated from the 2FA page."""
from __future__ import annotations

import pyotp

from barong.extensions import db
from barong.models import Activity, User, WebAuthnCredential
from barong.services.accounts import otp as otp_service
from barong.services.accounts import second_factor
from barong.services.infra.request_info import RequestInfo
from tests.helpers import DEFAULT_PASSWORD, login_as
from tests.soft_authenticator import SoftAuthenticator


def _enrol(app, user, name="Key"):
    from barong.services.accounts import webauthn

    authn = SoftAuthenticator(app.config["BARONG_DOMAIN"])
    cred, codes = second_factor.enrol_passkey(user, authn.create(webauthn.registration_options(user)), name,
                                              RequestInfo(ip="127.0.0.1", user_agent="t"), password=DEFAULT_PASSWORD)
    db.session.commit()
    return cred, codes, authn


def test_passkeys_page_lists_and_remove_asks_first(app, client, signed_in):
    user = signed_in()
    page = client.get("/accounts/security/passkeys")
    assert page.status_code == 200 and b'id="no-passkeys"' in page.data and b"webauthn.js" in page.data
    cred, _codes, _a = _enrol(app, user, name="Work laptop")
    assert client.get("/accounts/security/passkeys").status_code == 302  # the first second factor ends other sessions
    login_as(client, user, otp_code=_codes[0])
    page = client.get("/accounts/security/passkeys").data.decode()
    assert "Work laptop" in page and "never" in page
    ask = client.post(f"/accounts/security/passkeys/{cred.id}/remove")
    assert ask.status_code == 200 and "Remove the passkey “Work laptop”?" in ask.data.decode()
    assert db.session.query(WebAuthnCredential).count() == 1
    wrong = client.post(f"/accounts/security/passkeys/{cred.id}/remove", data={"confirm": "1", "password": "Nope-1234"})
    assert wrong.status_code == 422 and "The password or code is not correct." in wrong.data.decode()
    assert db.session.query(WebAuthnCredential).count() == 1
    done = client.post(f"/accounts/security/passkeys/{cred.id}/remove",
                       data={"confirm": "1", "password": DEFAULT_PASSWORD})
    assert done.status_code == 303
    assert db.session.query(WebAuthnCredential).count() == 0
    assert client.post("/accounts/security/passkeys/999/remove").status_code == 303  # unknown: back to the list


def test_add_refusal_is_shown_and_writes_nothing(app, client, signed_in):
    user = signed_in()
    resp = client.post("/accounts/security/passkeys", data={"name": "K", "password": DEFAULT_PASSWORD,
                                                           "credential": "{}"})
    assert resp.status_code == 422 and "could not be verified" in resp.data.decode()
    assert db.session.query(WebAuthnCredential).filter_by(user_id=user.id).count() == 0


def test_login_second_step_offers_the_users_factors(app, client, make_user):
    user = make_user()
    _enrol(app, user)
    resp = client.post("/accounts/login", data={"email": user.email, "password": DEFAULT_PASSWORD})
    assert resp.status_code == 303 and "/accounts/login/code" in resp.headers["Location"]
    page = client.get("/accounts/login/code").data.decode()
    assert 'id="passkey-login-form"' in page and "Lost your passkey? Enter one of your recovery codes." in page
    opts = client.post("/accounts/login/passkey/options")
    assert opts.status_code == 200 and len(opts.get_json()["publicKey"]["allowCredentials"]) == 1
    assert b"Sign in with a passkey" not in client.get("/accounts/login").data  # passwordless off


def test_login_with_passkey_through_the_site_form(app, client, make_user):
    user = make_user()
    _cred, _codes, authn = _enrol(app, user)
    client.post("/accounts/login", data={"email": user.email, "password": DEFAULT_PASSWORD})
    opts = client.post("/accounts/login/passkey/options").get_json()
    import json

    resp = client.post("/accounts/login/passkey", data={"webauthn_assertion": json.dumps(authn.get(opts))})
    assert resp.status_code == 303 and "/login" not in resp.headers["Location"]
    assert client.get("/accounts/").status_code == 200
    assert db.session.query(Activity).filter_by(user_id=user.id, action="login::webauthn").count() == 1


def test_regenerate_recovery_codes_on_the_2fa_page(app, client, signed_in, totp):
    user = signed_in()
    secret = otp_service.generate_secret(user)[0]
    otp_service.enable(user, pyotp.TOTP(secret).now())
    db.session.commit()
    page = client.get("/accounts/security/2fa").data.decode()
    assert 'id="recovery-regenerate-form"' in page and "You have 10 unused recovery codes." in page
    bad = client.post("/accounts/security/2fa/recovery-codes", data={"code": "000000"})
    assert bad.status_code == 303
    before = db.session.get(User, user.id).otp_recovery_codes
    resp = client.post("/accounts/security/2fa/recovery-codes", data={"code": totp(user)})
    assert resp.status_code == 200 and resp.data.decode().count("<li>") >= 10
    assert resp.headers["Cache-Control"] == "no-store"
    db.session.expire_all()
    assert db.session.get(User, user.id).otp_recovery_codes != before
