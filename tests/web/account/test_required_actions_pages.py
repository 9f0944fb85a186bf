"""Required actions on the site: a user an operator made change the password / enrol 2FA is
led to that page from every other page (site and console) until it is done."""
from __future__ import annotations

from barong.services.accounts import otp, required_actions
from barong.services.infra import unit_of_work
from tests.helpers import DEFAULT_PASSWORD, login_as
from tests.web.account.pages import html

NEW = "Nevv-Passw0rd-x"


def _require(user, *actions):
    required_actions.add(user, list(actions))
    unit_of_work.commit()


def test_change_password_before_anything_else(client, make_user):
    user = make_user()
    _require(user, "change_password")
    login_as(client, user)
    for path in ("/accounts/", "/accounts/api-keys", "/accounts/sessions", "/"):
        resp = client.get(path)
        assert resp.status_code == 302 and resp.headers["Location"].endswith("/accounts/security/password"), path
    page = client.get("/accounts/security/password")
    assert page.status_code == 200 and "asks you to change your password" in html(page)
    hx = client.get("/accounts/", headers={"HX-Request": "true"})
    assert hx.headers.get("HX-Redirect", "").endswith("/accounts/security/password")
    ok = client.post("/accounts/security/password", data={"old_password": DEFAULT_PASSWORD, "new_password": NEW,
                                                          "confirm_password": NEW})
    assert ok.status_code == 303
    assert required_actions.pending(user.uid) == ()
    assert client.get("/accounts/").status_code == 200


def test_enrol_2fa_before_anything_else(client, make_user, totp):
    user = make_user()
    _require(user, "enable_2fa")
    login_as(client, user)
    resp = client.get("/accounts/")
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/accounts/security/2fa")
    assert client.get("/accounts/security/2fa").status_code == 200
    assert client.post("/accounts/security/2fa/setup").status_code in (200, 303)
    unit_of_work.commit()
    assert otp.secret_for(user)
    resp = client.post("/accounts/security/2fa/enable", data={"code": totp(user)})
    assert resp.status_code in (200, 303), resp.get_data(as_text=True)[:300]
    assert required_actions.pending(user.uid) == ()
    assert client.get("/accounts/").status_code == 200


def test_sign_out_stays_open_and_operators_are_led_too(client, make_user):
    admin = make_user(role="admin")
    _require(admin, "change_password")
    login_as(client, admin)
    resp = client.get("/admin/users")
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/accounts/security/password")
    assert client.post("/accounts/logout").status_code in (200, 302, 303)


def test_without_pending_actions_nothing_changes(client, make_user):
    login_as(client, make_user())
    assert client.get("/accounts/").status_code == 200
