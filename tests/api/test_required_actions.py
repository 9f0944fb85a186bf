"""Required actions in the API: after an operator requires a password change / 2FA, the
login still succeeds, every resource call but the completing ones answers 403
authz.required_action.*, the gateway check too; completing the action clears it."""
from __future__ import annotations

import pyotp

from barong.services.accounts import required_actions
from barong.services.infra import unit_of_work
from tests.helpers import DEFAULT_PASSWORD, UA, login_as

R = "/api/v2/barong/resource"
NEW = "Xanadu-Quartz-77"


def _require(user, *actions):
    required_actions.add(user, list(actions))
    unit_of_work.commit()


def _client(app, user):
    c = app.test_client()
    c.environ_base["HTTP_USER_AGENT"] = UA
    return c, login_as(c, user)


def test_change_password_flow(app, make_user):
    user = make_user()
    _require(user, "change_password")
    c, csrf = _client(app, user)  # the login itself succeeds
    resp = c.get(R + "/api_keys")
    assert resp.status_code == 403 and resp.get_json() == {"errors": ["authz.required_action.change_password"]}
    assert c.get(R + "/users/me").status_code == 200  # who am I stays readable
    resp = c.put(R + "/users/me", json={"data": "{}"}, headers={"X-CSRF-Token": csrf})
    assert resp.status_code == 403
    gw = c.get("/api/v2/auth/api/v2/peatio/account/balances")
    assert gw.status_code == 403 and gw.get_json() == {"errors": ["authz.required_action.change_password"]}
    resp = c.put(R + "/users/password", json={"old_password": DEFAULT_PASSWORD, "new_password": NEW,
                                              "confirm_password": NEW}, headers={"X-CSRF-Token": csrf})
    assert resp.status_code in (200, 201), resp.get_json()
    assert required_actions.pending(user.uid) == ()
    assert c.get(R + "/api_keys").status_code == 200


def test_enable_2fa_flow(app, make_user):
    user = make_user()
    _require(user, "enable_2fa")
    c, csrf = _client(app, user)
    resp = c.get(R + "/api_keys")
    assert resp.status_code == 403 and resp.get_json() == {"errors": ["authz.required_action.enable_2fa"]}
    qr = c.post(R + "/otp/generate_qrcode", headers={"X-CSRF-Token": csrf})
    assert qr.status_code in (200, 201), qr.get_json()
    secret = qr.get_json()["data"]["url"].split("secret=")[1].split("&")[0]
    resp = c.post(R + "/otp/enable", json={"code": pyotp.TOTP(secret).now()}, headers={"X-CSRF-Token": csrf})
    assert resp.status_code in (200, 201), resp.get_json()
    assert required_actions.pending(user.uid) == ()
    assert c.get(R + "/api_keys").status_code == 200


def test_both_pending_lists_both_codes(app, make_user):
    user = make_user()
    _require(user, "enable_2fa", "change_password")
    c, _ = _client(app, user)
    assert c.get(R + "/api_keys").get_json() == {
        "errors": ["authz.required_action.change_password", "authz.required_action.enable_2fa"]}


def test_password_reset_by_mail_completes_change_password(app, make_user, mailbox):
    from barong.services.accounts import identity
    from barong.services.infra.request_info import RequestInfo
    from tests.helpers import token_from_mail

    user = make_user()
    _require(user, "change_password")
    identity.request_password_reset(user.email, RequestInfo())
    unit_of_work.commit()
    token = token_from_mail(mailbox(user.email)[-1])
    identity.reset_password(token, NEW, NEW, RequestInfo())
    unit_of_work.commit()
    assert required_actions.pending(user.uid) == ()


def test_others_are_not_affected(app, make_user):
    user, other = make_user(), make_user()
    _require(user, "change_password")
    c, _ = _client(app, other)
    assert c.get(R + "/api_keys").status_code == 200
