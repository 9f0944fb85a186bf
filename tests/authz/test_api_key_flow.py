"""API-key flow (reference/authz.md §5): every check in Barong's order."""
from __future__ import annotations

import hashlib
import time

import pytest

from barong.extensions import db
from barong.services.accounts import users

from .support import ME, auth, signed

PATH = "api/v2/peatio/account/balances"


@pytest.fixture
def holder(make_user):
    return make_user(otp=True)


def test_valid_signature(client, holder, make_api_key):
    key, secret = make_api_key(holder)
    resp = auth(client, "GET", PATH, headers=signed(key.kid, secret))
    assert resp.status_code == 200 and resp.data == b""
    assert resp.headers["Authorization"].startswith("Bearer ")


def test_returned_jwt_works_on_users_me(client, app, holder, make_api_key):
    key, secret = make_api_key(holder)
    token = auth(client, "GET", PATH, headers=signed(key.kid, secret)).headers["Authorization"]
    resp = app.test_client().get("/" + ME, headers={"Authorization": token})
    assert resp.status_code == 200 and resp.get_json()["uid"] == holder.uid


def test_no_csrf_needed(client, holder, make_api_key):
    key, secret = make_api_key(holder)
    for method in ("POST", "PUT", "DELETE", "PATCH"):
        assert auth(client, method, PATH, headers=signed(key.kid, secret)).status_code == 200


def test_same_nonce_reused_within_window(client, holder, make_api_key):
    key, secret = make_api_key(holder)
    headers = signed(key.kid, secret)
    assert auth(client, "GET", PATH, headers=headers).status_code == 200
    assert auth(client, "GET", PATH, headers=headers).status_code == 200


@pytest.mark.parametrize("drop", ["X-Auth-Signature", "X-Auth-Apikey", "X-Auth-Nonce"])
def test_missing_header(client, holder, make_api_key, drop):
    key, secret = make_api_key(holder)
    headers = signed(key.kid, secret)
    del headers[drop]
    resp = auth(client, "GET", PATH, headers=headers)
    assert resp.status_code == 422
    assert resp.get_json() == {"errors": ["authz.invalid_api_key_headers"]}


def test_blank_signature(client, holder, make_api_key):
    key, secret = make_api_key(holder)
    headers = {**signed(key.kid, secret), "X-Auth-Signature": " "}
    resp = auth(client, "GET", PATH, headers=headers)
    assert resp.status_code == 422
    assert resp.get_json() == {"errors": ["authz.invalid_api_key_headers"]}


def test_unknown_kid(client):
    resp = auth(client, "GET", PATH, headers=signed("nope", "secret"))
    assert resp.status_code == 401
    assert resp.get_json() == {"errors": ["authz.unexistent_apikey"]}


@pytest.mark.parametrize("nonce", ["nonce", "0", "-5"])
def test_nonce_not_a_timestamp(client, holder, make_api_key, nonce):
    key, secret = make_api_key(holder)
    resp = auth(client, "GET", PATH, headers=signed(key.kid, secret, nonce=nonce))
    assert resp.status_code == 401
    assert resp.get_json() == {"errors": ["authz.nonce_not_valid_timestamp"]}


@pytest.mark.parametrize("shift_ms", [-10_000, 10_000, -5_000])
def test_nonce_outside_the_window(client, holder, make_api_key, shift_ms):
    key, secret = make_api_key(holder)
    nonce = int(time.time() * 1000) + shift_ms
    resp = auth(client, "GET", PATH, headers=signed(key.kid, secret, nonce=nonce))
    assert resp.status_code == 401
    assert resp.get_json() == {"errors": ["authz.nonce_expired"]}


def test_nonce_window_is_configurable(client, app, holder, make_api_key):
    app.config["BARONG_APIKEY_NONCE_LIFETIME"] = 30_000
    key, secret = make_api_key(holder)
    nonce = int(time.time() * 1000) - 20_000
    assert auth(client, "GET", PATH, headers=signed(key.kid, secret, nonce=nonce)).status_code == 200


def test_wrong_signature(client, holder, make_api_key):
    key, secret = make_api_key(holder)
    resp = auth(client, "GET", PATH, headers=signed(key.kid, "not-the-secret"))
    assert resp.status_code == 401
    assert resp.get_json() == {"errors": ["authz.invalid_signature"]}


def test_signature_compared_case_insensitively(client, holder, make_api_key):
    key, secret = make_api_key(holder)
    headers = signed(key.kid, secret)
    headers["X-Auth-Signature"] = headers["X-Auth-Signature"].upper()
    assert auth(client, "GET", PATH, headers=headers).status_code == 200


def test_hs512_key(client, holder, make_api_key):
    key, secret = make_api_key(holder, algorithm="HS512")
    assert auth(client, "GET", PATH, headers=signed(key.kid, secret)).status_code == 401
    assert auth(client, "GET", PATH, headers=signed(key.kid, secret, digest=hashlib.sha512)).status_code == 200


def test_inactive_key(client, holder, make_api_key):
    key, secret = make_api_key(holder, state="banned")
    resp = auth(client, "GET", PATH, headers=signed(key.kid, secret))
    assert resp.status_code == 401
    assert resp.get_json() == {"errors": ["authz.apikey_not_active"]}


def test_key_state_change_is_seen_at_once(client, holder, make_api_key):
    """The key lookup is cached; a state change through the ORM drops the entry."""
    key, secret = make_api_key(holder)
    assert auth(client, "GET", PATH, headers=signed(key.kid, secret)).status_code == 200
    key.state = "inactive"
    db.session.commit()
    assert auth(client, "GET", PATH, headers=signed(key.kid, secret)).get_json() == {
        "errors": ["authz.apikey_not_active"]}
    db.session.delete(key)
    db.session.commit()
    assert auth(client, "GET", PATH, headers=signed(key.kid, secret)).get_json() == {
        "errors": ["authz.unexistent_apikey"]}


def test_owner_banned_deactivates_the_key(client, holder, make_api_key):
    key, secret = make_api_key(holder)
    users.apply_state(holder, "banned")
    db.session.commit()
    resp = auth(client, "GET", PATH, headers=signed(key.kid, secret))
    assert resp.get_json() == {"errors": ["authz.apikey_not_active"]}


def test_holder_not_active_with_active_key(client, holder, make_api_key):
    key, secret = make_api_key(holder)
    holder.state = "banned"  # bypassing the service: the key stayed active
    db.session.commit()
    resp = auth(client, "GET", PATH, headers=signed(key.kid, secret))
    assert resp.status_code == 401
    assert resp.get_json() == {"errors": ["authz.invalid_session"]}


def test_holder_without_2fa(client, holder, make_api_key):
    key, secret = make_api_key(holder)
    holder.otp = False  # bypassing the service: the key stayed active
    db.session.commit()
    resp = auth(client, "GET", PATH, headers=signed(key.kid, secret))
    assert resp.status_code == 401
    assert resp.get_json() == {"errors": ["authz.disabled_2fa"]}


def test_owner_disabling_2fa_deactivates_the_key(client, holder, make_api_key):
    key, secret = make_api_key(holder)
    users.set_otp(holder, False)
    db.session.commit()
    assert auth(client, "GET", PATH, headers=signed(key.kid, secret)).get_json() == {
        "errors": ["authz.apikey_not_active"]}


def test_service_account_holder(client, holder, make_api_key, make_service_account):
    from barong.models import Permission

    sa = make_service_account(holder, role="sa_maker")
    key, secret = make_api_key(sa)
    db.session.add(Permission(role="sa_maker", verb="ALL", path="api/v2/peatio/account", action="ACCEPT"))
    db.session.commit()
    resp = auth(client, "GET", PATH, headers=signed(key.kid, secret))
    assert resp.status_code == 200, resp.get_json()
    import jwt

    claims = jwt.decode(resp.headers["Authorization"][7:], options={"verify_signature": False})
    assert claims["uid"] == sa.uid and claims["role"] == "sa_maker" and claims["email"] == sa.email
    assert claims["sub"] == "session" and claims["aud"] == ["peatio", "barong"]


def test_service_account_not_active(client, holder, make_api_key, make_service_account):
    sa = make_service_account(holder, state="disabled")
    key, secret = make_api_key(sa)
    assert auth(client, "GET", PATH, headers=signed(key.kid, secret)).get_json() == {
        "errors": ["authz.invalid_session"]}


def test_block_and_pass_lists_apply_to_api_keys(client, holder, make_api_key):
    key, secret = make_api_key(holder)
    blocked = auth(client, "GET", "api/v2/barong/management/users", headers=signed(key.kid, secret))
    assert blocked.status_code == 401 and blocked.get_json() == {"errors": ["authz.permission_denied"]}
    passed = auth(client, "GET", "api/v2/barong/public/ping", headers=signed(key.kid, secret))
    assert passed.status_code == 200 and "Authorization" not in passed.headers


def test_api_key_in_process_on_users_me(client, holder, make_api_key):
    key, secret = make_api_key(holder)
    resp = client.get("/" + ME, headers=signed(key.kid, secret))
    assert resp.status_code == 200 and resp.get_json()["uid"] == holder.uid
    resp = client.get("/" + ME, headers=signed(key.kid, "wrong"))
    assert resp.status_code == 401 and resp.get_json() == {"errors": ["authz.invalid_signature"]}
