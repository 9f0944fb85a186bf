"""Passkeys (issue 15): registration, login second factor, passwordless, reauth and the
step-up claims, recovery-code regeneration — through the JSON API, with a software
authenticator (tests/soft_authenticator.py) against the real verification (py_webauthn)."""
from __future__ import annotations

import time

import jwt
import pyotp
import pytest

from barong.extensions import db
from barong.models import Activity, SessionRecord, User, WebAuthnCredential
from barong.services.accounts import otp as otp_service
from tests.helpers import DEFAULT_PASSWORD, UA, login_as
from tests.soft_authenticator import SoftAuthenticator

I = "/api/v2/barong/identity"
R = "/api/v2/barong/resource"


def _auth(app, **kw) -> SoftAuthenticator:
    return SoftAuthenticator(app.config["BARONG_DOMAIN"], **kw)


def _register(client, csrf, authn, name="Laptop key", password=DEFAULT_PASSWORD):
    opts = client.post(f"{R}/webauthn/credentials/options", headers={"X-CSRF-Token": csrf})
    assert opts.status_code == 201, opts.get_json()
    cred = authn.create(opts.get_json())
    return client.post(f"{R}/webauthn/credentials", headers={"X-CSRF-Token": csrf},
                       json={"name": name, "credential": cred, "password": password})


@pytest.fixture
def passkey_user(app, client, make_user):
    """A user with one registered passkey (no TOTP), signed out; returns (user, authenticator)."""
    user = make_user()
    csrf = login_as(client, user)
    authn = _auth(app)
    resp = _register(client, csrf, authn)
    assert resp.status_code == 201, resp.get_json()
    client.delete(f"{I}/sessions", headers={"X-CSRF-Token": csrf})
    client.delete_cookie(app.config["BARONG_SESSION_NAME"])
    return user, authn


def _login_options(client, email):
    resp = client.post(f"{I}/sessions/webauthn/options", json={"email": email})
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()


# ---- registration ---------------------------------------------------------------------------

def test_register_lists_and_first_key_gives_recovery_codes(app, client, make_user):
    user = make_user()
    other = app.test_client()
    other.environ_base["HTTP_USER_AGENT"] = UA
    login_as(other, user)  # a second session: signed out when the first second factor arrives
    csrf = login_as(client, user)
    resp = _register(client, csrf, _auth(app), name="  My   YubiKey ")
    assert resp.status_code == 201, resp.get_json()
    body = resp.get_json()
    assert body["name"] == "My YubiKey" and body["last_used_at"] is None and body["transports"] == ["internal"]
    assert len(body["recovery_codes"]) == 10
    row = db.session.query(WebAuthnCredential).filter_by(user_id=user.id).one()
    assert row.public_key and row.sign_count == 0 and row.credential_id == body["credential_id"]
    assert db.session.query(SessionRecord).filter_by(uid=user.uid).count() == 1
    listed = client.get(f"{R}/webauthn/credentials").get_json()
    assert [c["id"] for c in listed] == [row.id]
    # a second key: no new recovery codes, the user's otp flag stays off (API keys still need TOTP)
    resp2 = _register(client, csrf, _auth(app), name="Phone")
    assert resp2.status_code == 201 and "recovery_codes" not in resp2.get_json()
    db.session.refresh(user)
    assert user.otp is False
    acts = db.session.query(Activity).filter_by(user_id=user.id, action="add passkey", result="succeed").count()
    assert acts == 2


@pytest.mark.parametrize("body, code", [
    ({"password": "wrong-Passw0rd"}, "resource.webauthn.invalid_confirmation"),
    ({}, "resource.webauthn.missing_confirmation"),
    ({"password": DEFAULT_PASSWORD, "name": " "}, "resource.webauthn.empty_name"),
])
def test_register_refusals_write_nothing(app, client, make_user, body, code):
    user = make_user()
    csrf = login_as(client, user)
    authn = _auth(app)
    opts = client.post(f"{R}/webauthn/credentials/options", headers={"X-CSRF-Token": csrf}).get_json()
    payload = {"name": "Key", "credential": authn.create(opts), **body}
    resp = client.post(f"{R}/webauthn/credentials", headers={"X-CSRF-Token": csrf}, json=payload)
    assert resp.status_code in (400, 422) and resp.get_json() == {"errors": [code]}
    assert db.session.query(WebAuthnCredential).count() == 0
    db.session.refresh(user)
    assert user.otp_recovery_codes is None


def test_register_refuses_wrong_origin_and_reused_challenge(app, client, make_user):
    user = make_user()
    csrf = login_as(client, user)
    authn = _auth(app)
    opts = client.post(f"{R}/webauthn/credentials/options", headers={"X-CSRF-Token": csrf}).get_json()
    evil = authn.create(opts, origin="https://evil.example")
    resp = client.post(f"{R}/webauthn/credentials", headers={"X-CSRF-Token": csrf},
                       json={"name": "Key", "credential": evil, "password": DEFAULT_PASSWORD})
    assert resp.status_code == 422 and resp.get_json() == {"errors": ["resource.webauthn.invalid_credential"]}
    opts = client.post(f"{R}/webauthn/credentials/options", headers={"X-CSRF-Token": csrf}).get_json()
    good = authn.create(opts)
    first = client.post(f"{R}/webauthn/credentials", headers={"X-CSRF-Token": csrf},
                        json={"name": "Key", "credential": good, "password": DEFAULT_PASSWORD})
    assert first.status_code == 201
    again = client.post(f"{R}/webauthn/credentials", headers={"X-CSRF-Token": csrf},
                        json={"name": "Key 2", "credential": good, "password": DEFAULT_PASSWORD})
    assert again.status_code == 422 and again.get_json() == {"errors": ["resource.webauthn.invalid_credential"]}
    assert db.session.query(WebAuthnCredential).filter_by(user_id=user.id).count() == 1
    failed = db.session.query(Activity).filter_by(user_id=user.id, action="add passkey", result="failed").count()
    assert failed == 2


def test_register_needs_a_session_and_csrf(app, client, make_user):
    assert client.post(f"{R}/webauthn/credentials/options").status_code == 401
    user = make_user()
    login_as(client, user)
    resp = client.post(f"{R}/webauthn/credentials/options")
    assert resp.status_code == 401 and resp.get_json() == {"errors": ["authz.missing_csrf_token"]}


# ---- login ----------------------------------------------------------------------------------

def test_login_with_passkey_and_amr_in_the_gateway_jwt(app, client, passkey_user):
    user, authn = passkey_user
    resp = client.post(f"{I}/sessions", json={"email": user.email, "password": DEFAULT_PASSWORD})
    assert resp.status_code == 401 and resp.get_json() == {"errors": ["identity.session.missing_webauthn"]}
    assertion = authn.get(_login_options(client, user.email))
    before = int(time.time())
    resp = client.post(f"{I}/sessions", json={"email": user.email, "password": DEFAULT_PASSWORD,
                                              "webauthn_assertion": assertion})
    assert resp.status_code == 201, resp.get_json()
    row = db.session.query(WebAuthnCredential).filter_by(user_id=user.id).one()
    assert row.sign_count == 1 and row.last_used_at is not None
    auth = client.get("/api/v2/auth/api/v2/peatio/account/balances")
    assert auth.status_code == 200
    claims = jwt.decode(auth.headers["Authorization"].split()[1], options={"verify_signature": False})
    assert claims["amr"] == ["pwd", "webauthn"] and claims["auth_time"] >= before
    act = db.session.query(Activity).filter_by(user_id=user.id, action="login::webauthn", result="succeed").count()
    assert act == 1


def test_login_refuses_replay_wrong_key_and_clone(app, client, passkey_user, make_user):
    user, authn = passkey_user
    opts = _login_options(client, user.email)
    assertion = authn.get(opts)
    ok = client.post(f"{I}/sessions", json={"email": user.email, "password": DEFAULT_PASSWORD,
                                            "webauthn_assertion": assertion})
    assert ok.status_code == 201
    client.delete_cookie(app.config["BARONG_SESSION_NAME"])
    replay = client.post(f"{I}/sessions", json={"email": user.email, "password": DEFAULT_PASSWORD,
                                                "webauthn_assertion": assertion})
    assert replay.status_code == 403 and replay.get_json() == {"errors": ["identity.session.invalid_webauthn"]}
    # another authenticator's key, never registered for this user
    stranger = _auth(app)
    wrong = stranger.get(_login_options(client, user.email))
    resp = client.post(f"{I}/sessions", json={"email": user.email, "password": DEFAULT_PASSWORD,
                                              "webauthn_assertion": wrong})
    assert resp.status_code == 403 and resp.get_json() == {"errors": ["identity.session.invalid_webauthn"]}
    # the same credential with a counter that did not grow: a clone
    clone = authn.get(_login_options(client, user.email), sign_count=1)
    resp = client.post(f"{I}/sessions", json={"email": user.email, "password": DEFAULT_PASSWORD,
                                              "webauthn_assertion": clone})
    assert resp.status_code == 403 and resp.get_json() == {"errors": ["identity.session.webauthn_cloned"]}
    assert db.session.query(Activity).filter_by(user_id=user.id, action="passkey counter did not increase").count() == 1
    # options for one user cannot serve another's login
    other = make_user()
    resp = client.post(f"{I}/sessions", json={"email": other.email, "password": DEFAULT_PASSWORD,
                                              "webauthn_assertion": authn.get(_login_options(client, user.email))})
    assert resp.status_code == 201  # other has no second factor: the assertion is not needed …
    assert db.session.query(SessionRecord).filter_by(uid=user.uid).count() == 1  # … and user got no session
    failures = db.session.query(Activity).filter_by(user_id=user.id, action="login::2fa", result="failed").count()
    assert failures == 3


def test_login_options_look_alike_for_unknown_addresses(app, client, passkey_user):
    user, _authn = passkey_user
    known = _login_options(client, user.email)["publicKey"]
    unknown = _login_options(client, "nobody@example.com")["publicKey"]
    again = _login_options(client, "nobody@example.com")["publicKey"]
    assert set(known) == set(unknown)
    assert len(unknown["allowCredentials"]) == 1 and unknown["allowCredentials"] == again["allowCredentials"]
    assert known["challenge"] != unknown["challenge"] and known["rpId"] == "127.0.0.1"


def test_recovery_code_logs_in_a_passkey_only_user(app, client, make_user):
    user = make_user()
    csrf = login_as(client, user)
    codes = _register(client, csrf, _auth(app)).get_json()["recovery_codes"]
    client.delete_cookie(app.config["BARONG_SESSION_NAME"])
    resp = client.post(f"{I}/sessions", json={"email": user.email, "password": DEFAULT_PASSWORD, "otp_code": codes[0]})
    assert resp.status_code == 201
    client.delete_cookie(app.config["BARONG_SESSION_NAME"])
    resp = client.post(f"{I}/sessions", json={"email": user.email, "password": DEFAULT_PASSWORD, "otp_code": codes[0]})
    assert resp.status_code == 403 and resp.get_json() == {"errors": ["identity.session.invalid_otp"]}


def test_totp_user_with_passkey_keeps_the_original_answers(app, client, make_user):
    user = make_user()
    csrf = login_as(client, user)
    secret = otp_service.generate_secret(user)[0]
    db.session.commit()
    client.post(f"{R}/otp/enable", headers={"X-CSRF-Token": csrf}, json={"code": pyotp.TOTP(secret).now()})
    authn = _auth(app)
    resp = _register(client, csrf, authn)
    assert resp.status_code == 201 and "recovery_codes" not in resp.get_json()
    client.delete_cookie(app.config["BARONG_SESSION_NAME"])
    resp = client.post(f"{I}/sessions", json={"email": user.email, "password": DEFAULT_PASSWORD})
    assert resp.get_json() == {"errors": ["identity.session.missing_otp"]}
    resp = client.post(f"{I}/sessions", json={"email": user.email, "password": DEFAULT_PASSWORD,
                                              "webauthn_assertion": authn.get(_login_options(client, user.email))})
    assert resp.status_code == 201


def test_passwordless_is_off_by_default_and_works_when_on(app, client, passkey_user):
    user, authn = passkey_user
    resp = client.post(f"{I}/sessions/webauthn/options", json={})
    assert resp.status_code == 422 and resp.get_json() == {"errors": ["identity.session.missing_email"]}
    resp = client.post(f"{I}/sessions/webauthn", json={"webauthn_assertion": {"id": "x"}})
    assert resp.status_code == 404 and resp.get_json() == {"errors": ["identity.session.passwordless_disabled"]}
    app.config["BARONG_WEBAUTHN_PASSWORDLESS"] = True
    opts = client.post(f"{I}/sessions/webauthn/options", json={}).get_json()
    assert opts["publicKey"]["allowCredentials"] == [] and opts["publicKey"]["userVerification"] == "required"
    # a login challenge (bound to the second factor) is not a passwordless one
    resp = client.post(f"{I}/sessions/webauthn",
                       json={"webauthn_assertion": authn.get(_login_options(client, user.email))})
    assert resp.status_code == 403
    resp = client.post(f"{I}/sessions/webauthn", json={"webauthn_assertion": authn.get(opts)})
    assert resp.status_code == 201 and resp.get_json()["uid"] == user.uid
    auth = client.get("/api/v2/auth/api/v2/peatio/account/balances")
    claims = jwt.decode(auth.headers["Authorization"].split()[1], options={"verify_signature": False})
    assert claims["amr"] == ["webauthn"]
    # without user verification (no PIN / biometrics) a passkey alone is not enough
    opts = client.post(f"{I}/sessions/webauthn/options", json={}).get_json()
    resp = client.post(f"{I}/sessions/webauthn", json={"webauthn_assertion": authn.get(opts, flags=0x01)})
    assert resp.status_code == 403 and resp.get_json() == {"errors": ["identity.session.invalid_webauthn"]}


def test_passwordless_refuses_banned_user(app, client, passkey_user):
    user, authn = passkey_user
    app.config["BARONG_WEBAUTHN_PASSWORDLESS"] = True
    user.state = "banned"
    db.session.commit()
    opts = client.post(f"{I}/sessions/webauthn/options", json={}).get_json()
    resp = client.post(f"{I}/sessions/webauthn", json={"webauthn_assertion": authn.get(opts)})
    assert resp.status_code == 401 and resp.get_json() == {"errors": ["identity.session.banned"]}
    assert db.session.query(SessionRecord).filter_by(uid=user.uid).count() == 0


# ---- reauth and the step-up claims ------------------------------------------------------------

def _claims(client):
    auth = client.get("/api/v2/auth/api/v2/peatio/account/balances")
    assert auth.status_code == 200, auth.get_json()
    return jwt.decode(auth.headers["Authorization"].split()[1], options={"verify_signature": False}), \
        auth.headers["Authorization"]


def test_reauth_with_passkey_refreshes_auth_time_and_the_token(app, client, passkey_user, monkeypatch):
    user, authn = passkey_user
    resp = client.post(f"{I}/sessions", json={"email": user.email, "password": DEFAULT_PASSWORD,
                                              "webauthn_assertion": authn.get(_login_options(client, user.email))})
    csrf = resp.get_json()["csrf_token"]
    claims, token = _claims(client)
    assert _claims(client)[1] == token  # cached while the claims are unchanged
    sid = db.session.query(SessionRecord).filter_by(uid=user.uid).one().id
    db.session.query(SessionRecord).filter_by(id=sid).update({"auth_time": claims["auth_time"] - 600})
    db.session.commit()
    from barong.authz import account_cache

    account_cache.invalidate()
    stale, stale_token = _claims(client)
    assert stale["auth_time"] == claims["auth_time"] - 600 and stale_token != token
    opts = client.post(f"{I}/sessions/reauth/options", headers={"X-CSRF-Token": csrf})
    assert opts.status_code == 201
    resp = client.post(f"{I}/sessions/reauth", headers={"X-CSRF-Token": csrf},
                       json={"webauthn_assertion": authn.get(opts.get_json())})
    assert resp.status_code == 201, resp.get_json()
    assert resp.get_json()["amr"] == ["pwd", "webauthn"] and resp.get_json()["auth_time"] >= claims["auth_time"]
    fresh, fresh_token = _claims(client)
    assert fresh["auth_time"] == resp.get_json()["auth_time"] and fresh_token != stale_token
    assert db.session.query(Activity).filter_by(user_id=user.id, action="reauth", result="succeed").count() == 1


def test_reauth_with_totp_and_refusals(app, client, make_user):
    user = make_user()
    csrf = login_as(client, user)
    resp = client.post(f"{I}/sessions/reauth", headers={"X-CSRF-Token": csrf}, json={"otp_code": "123456"})
    assert resp.status_code == 422 and resp.get_json() == {"errors": ["identity.session.2fa_not_enabled"]}
    secret = otp_service.generate_secret(user)[0]
    db.session.commit()
    assert client.post(f"{R}/otp/enable", headers={"X-CSRF-Token": csrf},
                       json={"code": pyotp.TOTP(secret).now()}).status_code == 201
    before = db.session.query(SessionRecord).filter_by(uid=user.uid).one().auth_time
    resp = client.post(f"{I}/sessions/reauth", json={"otp_code": "000000"})
    assert resp.status_code == 401 and resp.get_json() == {"errors": ["authz.missing_csrf_token"]}
    resp = client.post(f"{I}/sessions/reauth", headers={"X-CSRF-Token": csrf}, json={})
    assert resp.status_code == 401 and resp.get_json() == {"errors": ["identity.session.missing_otp"]}
    resp = client.post(f"{I}/sessions/reauth", headers={"X-CSRF-Token": csrf}, json={"otp_code": "000000"})
    assert resp.status_code == 403 and resp.get_json() == {"errors": ["identity.session.invalid_otp"]}
    db.session.expire_all()
    assert db.session.query(SessionRecord).filter_by(uid=user.uid).one().auth_time == before
    user.otp_last_step = None
    db.session.commit()
    resp = client.post(f"{I}/sessions/reauth", headers={"X-CSRF-Token": csrf},
                       json={"otp_code": pyotp.TOTP(secret).now()})
    assert resp.status_code == 201 and resp.get_json()["amr"] == ["pwd", "otp"]
    assert client.post(f"{I}/sessions/reauth", json={"otp_code": "1"}).status_code == 401  # no CSRF
    client.delete_cookie(app.config["BARONG_SESSION_NAME"])
    resp = client.post(f"{I}/sessions/reauth", headers={"X-CSRF-Token": csrf}, json={"otp_code": "1"})
    assert resp.status_code == 401 and resp.get_json() == {"errors": ["authz.csrf_token_mismatch"]}


def test_api_key_token_says_apikey_without_auth_time(app, client, make_user):
    from barong.security import access_tokens

    user = make_user()
    token = access_tokens.mint(user, (None, ("apikey",)))
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["amr"] == ["apikey"] and "auth_time" not in claims
    assert access_tokens.mint(user, (None, ("apikey",))) == token
    assert access_tokens.mint(user, (100, ("pwd",))) != token


# ---- removal ----------------------------------------------------------------------------------

def test_remove_needs_confirmation_and_last_factor_takes_recovery_codes(app, client, make_user):
    user = make_user()
    csrf = login_as(client, user)
    cred = _register(client, csrf, _auth(app)).get_json()
    h = {"X-CSRF-Token": csrf}
    resp = client.delete(f"{R}/webauthn/credentials/{cred['id']}", headers=h, json={"password": "Wrong-pass1"})
    assert resp.status_code == 422 and resp.get_json() == {"errors": ["resource.webauthn.invalid_confirmation"]}
    assert client.delete(f"{R}/webauthn/credentials/999999", headers=h,
                         json={"password": DEFAULT_PASSWORD}).status_code == 404
    assert db.session.query(WebAuthnCredential).count() == 1
    other = make_user()
    c2 = app.test_client()
    c2.environ_base["HTTP_USER_AGENT"] = UA
    csrf2 = login_as(c2, other)
    assert c2.delete(f"{R}/webauthn/credentials/{cred['id']}", headers={"X-CSRF-Token": csrf2},
                     json={"password": DEFAULT_PASSWORD}).status_code == 404
    resp = client.delete(f"{R}/webauthn/credentials/{cred['id']}", headers=h, json={"password": DEFAULT_PASSWORD})
    assert resp.status_code == 204
    assert db.session.query(WebAuthnCredential).count() == 0
    db.session.expire_all()
    assert db.session.get(User, user.id).otp_recovery_codes is None
    assert db.session.query(Activity).filter_by(user_id=user.id, action="remove passkey").count() == 1


# ---- recovery codes -----------------------------------------------------------------------------

def test_regenerate_recovery_codes_with_totp_and_with_passkey(app, client, make_user):
    user = make_user()
    csrf = login_as(client, user)
    h = {"X-CSRF-Token": csrf}
    resp = client.post(f"{R}/otp/recovery_codes", headers=h, json={"code": "123456"})
    assert resp.status_code == 400 and resp.get_json() == {"errors": ["resource.otp.not_enabled"]}
    secret = otp_service.generate_secret(user)[0]
    db.session.commit()
    old = client.post(f"{R}/otp/enable", headers=h, json={"code": pyotp.TOTP(secret).now()}).get_json()["recovery_codes"]
    resp = client.post(f"{R}/otp/recovery_codes", headers=h, json={"code": old[0]})  # a recovery code is not enough
    assert resp.status_code == 422 and resp.get_json() == {"errors": ["resource.otp.invalid"]}
    assert client.post(f"{R}/otp/recovery_codes", headers=h, json={}).get_json() == {
        "errors": ["resource.otp.missing_code"]}
    user.otp_last_step = None
    db.session.commit()
    resp = client.post(f"{R}/otp/recovery_codes", headers=h, json={"code": pyotp.TOTP(secret).now()})
    assert resp.status_code == 201
    new = resp.get_json()["recovery_codes"]
    assert len(new) == 10 and not set(new) & set(old)
    db.session.expire_all()
    fresh = db.session.get(User, user.id)
    assert not otp_service.use_recovery_code(fresh, old[1])
    assert otp_service.use_recovery_code(fresh, new[1])
    db.session.rollback()
    assert db.session.query(Activity).filter_by(user_id=user.id, action="regenerate recovery codes",
                                                result="succeed").count() == 1
    # with a passkey assertion instead of a code
    authn = _auth(app)
    assert _register(client, csrf, authn).status_code == 201
    opts = client.post(f"{I}/sessions/reauth/options", headers=h).get_json()
    resp = client.post(f"{R}/otp/recovery_codes", headers=h, json={"webauthn_assertion": authn.get(opts)})
    assert resp.status_code == 201 and not set(resp.get_json()["recovery_codes"]) & set(new)


def test_passwordless_login_from_a_new_network_is_refused(app, client, passkey_user, mailbox):
    """New-network approval (BARONG_LOGIN_NEW_NETWORK_APPROVAL) holds for a passkey alone too."""
    user, authn = passkey_user  # registered from 127.0.0.1: the account's known network
    app.config["BARONG_WEBAUTHN_PASSWORDLESS"] = True
    app.config["BARONG_LOGIN_NEW_NETWORK_APPROVAL"] = True
    away = {"REMOTE_ADDR": "198.51.100.7"}
    opts = client.post(f"{I}/sessions/webauthn/options", json={}, environ_base=away).get_json()
    resp = client.post(f"{I}/sessions/webauthn", json={"webauthn_assertion": authn.get(opts)}, environ_base=away)
    assert resp.status_code == 403 and resp.get_json() == {"errors": ["identity.session.new_network"]}
    assert db.session.query(SessionRecord).filter_by(uid=user.uid).count() == 0
    opts = client.post(f"{I}/sessions/webauthn/options", json={}).get_json()
    assert client.post(f"{I}/sessions/webauthn", json={"webauthn_assertion": authn.get(opts)}).status_code == 201


def test_rp_id_and_origin_follow_the_domain_or_their_overrides(app, client, passkey_user):
    from barong.services.accounts import webauthn

    app.config["BARONG_DOMAIN"] = "https://exchange.example.com"
    assert (webauthn.rp_id(), webauthn.origin()) == ("exchange.example.com", "https://exchange.example.com")
    app.config.update(BARONG_WEBAUTHN_RP_ID="example.com", BARONG_WEBAUTHN_ORIGIN="https://auth.example.com/")
    assert (webauthn.rp_id(), webauthn.origin()) == ("example.com", "https://auth.example.com")
    user, authn = passkey_user  # registered for 127.0.0.1: another RP's answer is refused
    opts = _login_options(client, user.email)
    assert opts["publicKey"]["rpId"] == "example.com"
    resp = client.post(f"{I}/sessions", json={"email": user.email, "password": DEFAULT_PASSWORD,
                                              "webauthn_assertion": authn.get(opts)})
    assert resp.status_code == 403 and resp.get_json() == {"errors": ["identity.session.invalid_webauthn"]}
