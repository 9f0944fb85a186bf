"""The user page's API keys card: an operator disables or removes a user's API key; both
ask first (page without JS, in place under htmx), act only on confirm=1, are audited, and
the key stops working at once. The same service as PUT|DELETE admin/users/api_keys."""
from __future__ import annotations

import hashlib
import hmac
import json
import re
import time

import pytest

from barong.extensions import db
from barong.models import APIKey
from barong.services.accounts import api_keys
from barong.services.infra import unit_of_work
from tests.web.console.support import admin_activities, hx


def _key(user, algorithm="HS256"):
    key, secret = api_keys.create(user, algorithm, require_otp=False)
    unit_of_work.commit()
    return key.kid, secret


def _signed(kid, secret):
    nonce = str(int(time.time() * 1000))
    sig = hmac.new(secret.encode(), (nonce + kid).encode(), hashlib.sha256).hexdigest()
    return {"X-Auth-Apikey": kid, "X-Auth-Nonce": nonce, "X-Auth-Signature": sig}


def _state(kid):
    db.session.expire_all()
    key = db.session.query(APIKey).filter_by(kid=kid).first()
    return key.state if key else None


def _works(app, kid, secret) -> bool:
    return app.test_client().get("/api/v2/barong/resource/users/me", headers=_signed(kid, secret)).status_code == 200


ACTIONS = [
    # path, consequence shown, the key's state afterwards, audit action
    ("delete", "deleted for good", None, "delete api key"),
    ("disable", "refused from now on", "inactive", "disable api key"),
]


@pytest.mark.parametrize("path,consequence,after,audit_action", ACTIONS, ids=[a[0] for a in ACTIONS])
def test_without_js_it_asks_then_acts_on_confirm(operator, console, make_user, app, path, consequence, after,
                                                 audit_action):
    me = operator("superadmin")
    client = console(me)
    user = make_user(otp=True)
    kid, secret = _key(user)
    assert _works(app, kid, secret)
    page = client.get(f"/admin/users/{user.uid}").get_data(as_text=True)
    assert f'data-kid="{kid}"' in page and secret not in page

    resp = client.post(f"/admin/users/{user.uid}/api-keys/{kid}/{path}")
    body = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "<html" in body
    assert user.email in body and user.uid in body and kid in body and consequence in body
    assert 'name="confirm" value="1"' in body and f'action="/admin/users/{user.uid}/api-keys/{kid}/{path}"' in body
    assert _state(kid) == "active" and not admin_activities(me, "api_keys") and _works(app, kid, secret)

    resp = client.post(f"/admin/users/{user.uid}/api-keys/{kid}/{path}", data={"confirm": "1"})
    assert resp.status_code == 302 and resp.headers["Location"].endswith(f"/admin/users/{user.uid}")
    assert _state(kid) == after
    rows = admin_activities(me, "api_keys")
    assert [r.action for r in rows] == [audit_action] and rows[0].target_uid == user.uid
    assert json.loads(rows[0].data)["kid"] == kid and secret not in rows[0].data
    assert not _works(app, kid, secret)  # refused from the very next request


@pytest.mark.parametrize("path,consequence,after,audit_action", ACTIONS, ids=[a[0] for a in ACTIONS])
def test_htmx_asks_in_place_then_swaps_the_card(operator, console, make_user, path, consequence, after,
                                                audit_action):
    me = operator("admin")
    client = console(me)
    user = make_user(otp=True)
    kid, _secret = _key(user)
    resp = client.post(f"/admin/users/{user.uid}/api-keys/{kid}/{path}", headers=hx(**{"HX-Target": "user-api-keys"}))
    body = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "<html" not in body and 'id="user-api-keys"' in body
    assert 'hx-target="#user-api-keys"' in body and consequence in body and user.email in body
    assert _state(kid) == "active" and not admin_activities(me, "api_keys")

    resp = client.post(f"/admin/users/{user.uid}/api-keys/{kid}/{path}", data={"confirm": "1"},
                       headers=hx(**{"HX-Target": "user-api-keys"}))
    body = resp.get_data(as_text=True)
    assert resp.status_code == 200 and body.lstrip().startswith("<section") and 'id="user-api-keys"' in body
    assert "toast" in resp.headers["HX-Trigger"] and kid in json.loads(resp.headers["HX-Trigger"])["toast"]["message"]
    assert _state(kid) == after
    assert (f'data-kid="{kid}"' in body) == (after is not None)
    if after == "inactive":  # no Disable button for a key that is off, Remove stays
        assert f"/api-keys/{kid}/disable" not in body and f"/api-keys/{kid}/delete" in body
    assert [r.action for r in admin_activities(me, "api_keys")] == [audit_action]


def test_the_confirmation_carries_the_csrf_token(operator, console, make_user, app):
    me = operator("superadmin")
    client = console(me)
    user = make_user(otp=True)
    kid, _secret = _key(user)
    app.config["WTF_CSRF_ENABLED"] = True
    page = client.get(f"/admin/users/{user.uid}").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    assert client.post(f"/admin/users/{user.uid}/api-keys/{kid}/delete").status_code == 400  # no token
    body = client.post(f"/admin/users/{user.uid}/api-keys/{kid}/delete",
                       data={"csrf_token": token}).get_data(as_text=True)
    confirm_token = re.search(r'name="csrf_token" value="([^"]+)"', body).group(1)
    resp = client.post(f"/admin/users/{user.uid}/api-keys/{kid}/delete",
                       data={"csrf_token": confirm_token, "confirm": "1"})
    assert resp.status_code == 302 and _state(kid) is None


def test_refusals_are_toasts_and_change_nothing(operator, console, make_user):
    me = operator("admin")
    client = console(me)
    user, boss = make_user(otp=True), make_user(role="superadmin", otp=True)
    kid, _ = _key(user)
    boss_kid, _ = _key(boss)
    confirm = {"confirm": "1"}
    resp = client.post(f"/admin/users/{user.uid}/api-keys/0000000000000000/delete", data=confirm, headers=hx())
    assert resp.status_code == 404 and "no longer exists" in resp.headers["HX-Trigger"]
    resp = client.post(f"/admin/users/{boss.uid}/api-keys/{boss_kid}/delete", data=confirm, headers=hx())
    assert resp.status_code == 422 and _state(boss_kid) == "active"
    # another user's kid under this user's page is not found
    resp = client.post(f"/admin/users/{user.uid}/api-keys/{boss_kid}/disable", data=confirm, headers=hx())
    assert resp.status_code == 404 and _state(boss_kid) == "active"
    client.post(f"/admin/users/{user.uid}/api-keys/{kid}/disable", data=confirm, headers=hx())
    resp = client.post(f"/admin/users/{user.uid}/api-keys/{kid}/disable", data=confirm, headers=hx())
    assert resp.status_code == 422 and "already off" in resp.headers["HX-Trigger"]
    assert [r.action for r in admin_activities(me, "api_keys")] == ["disable api key"]
    # without JS a refusal is a flash + redirect, and nothing is kept
    resp = client.post(f"/admin/users/{boss.uid}/api-keys/{boss_kid}/delete", data=confirm)
    assert resp.status_code == 302 and _state(boss_kid) == "active"


@pytest.mark.parametrize("role", ["technical", "support", "compliance", "accountant"])
def test_roles_that_may_not_change_keys_see_no_buttons_and_are_refused(operator, console, make_user, role):
    me = operator(role)
    client = console(me)
    user = make_user(otp=True)
    kid, _ = _key(user)
    page = client.get(f"/admin/users/{user.uid}").get_data(as_text=True)
    assert f"/api-keys/{kid}/delete" not in page and f"/api-keys/{kid}/disable" not in page
    for path in ("delete", "disable"):
        resp = client.post(f"/admin/users/{user.uid}/api-keys/{kid}/{path}", data={"confirm": "1"})
        assert resp.status_code == 403
    assert _state(kid) == "active" and not admin_activities(me, "api_keys")
    denied = [r for r in admin_activities(me, "console") if r.result == "denied"]
    assert len(denied) == 2
