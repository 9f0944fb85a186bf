"""RBAC (reference/authz.md §6): ACCEPT / DROP / AUDIT, denied and audit activities."""
from __future__ import annotations

import json

import pytest

from barong.extensions import db
from barong.models import Activity, Permission
from barong.services.access import permissions
from tests.helpers import login_as, totp_now

from .support import auth, signed


def _only(*rows):
    """Replace the permission table with `rows` of (role, verb, path, action[, topic])."""
    db.session.query(Permission).delete()
    for row in rows:
        role, verb, path, action, *topic = row
        db.session.add(Permission(role=role, verb=verb, path=path, action=action, topic=topic[0] if topic else None))
    db.session.commit()


def _admin_activities():
    return db.session.query(Activity).filter_by(category="admin").order_by(Activity.id).all()


@pytest.fixture
def superadmin(make_user):
    return make_user(role="superadmin", otp=True)


def test_rbac_scenario(client, superadmin, make_api_key):
    key, secret = make_api_key(superadmin)
    _only(("superadmin", "GET", "api/v2/admin/users/list", "ACCEPT"))
    csrf = login_as(client, superadmin, otp_code=totp_now(superadmin))
    h = {"X-CSRF-Token": csrf}
    assert auth(client, "GET", "api/v2/accountant/documents").get_json() == {"errors": ["authz.invalid_permission"]}
    assert auth(client, "POST", "api/v2/admin/users/list", headers=h).status_code == 401
    ok = auth(client, "GET", "api/v2/admin/users/list")
    assert ok.status_code == 200 and "Authorization" in ok.headers
    assert auth(client, "GET", "api/v2/admon/users/list").get_json() == {"errors": ["authz.invalid_permission"]}
    api = client.application.test_client()
    headers = signed(key.kid, secret)
    assert auth(api, "GET", "api/v2/admin/users/list", headers=headers).status_code == 200
    resp = auth(api, "POST", "api/v2/accountant/documents", headers=headers)
    assert resp.status_code == 401 and resp.get_json() == {"errors": ["authz.invalid_permission"]}
    assert auth(api, "GET", "api/v2/admin/users/list", headers=headers).status_code == 200  # nonce reused


def test_drop_wins_over_accept(client, make_user):
    user = make_user()
    _only(("member", "ALL", "api/v2", "ACCEPT"), ("member", "GET", "api/v2/secret", "DROP"))
    login_as(client, user)
    assert auth(client, "GET", "api/v2/public_thing").status_code == 200
    assert auth(client, "GET", "api/v2/secret/x").get_json() == {"errors": ["authz.invalid_permission"]}
    assert [(a.result, a.topic, a.action) for a in _admin_activities()] == [("denied", "general", "read")]


def test_leading_slash_row_never_matches(client, make_user):
    user = make_user()
    _only(("member", "ALL", "/api/v2", "ACCEPT"))
    login_as(client, user)
    assert auth(client, "GET", "api/v2/x").status_code == 401


def test_no_permissions_denied_activities(client, make_user):
    user = make_user(role="accountant")
    _only()
    csrf = login_as(client, user)
    for method in ("DELETE", "POST", "PUT"):
        resp = auth(client, method, "api/v2/admin", headers={"X-CSRF-Token": csrf})
    assert resp.status_code == 401
    acts = _admin_activities()
    assert [(a.action, a.result, a.topic, a.user_id) for a in acts] == [
        ("delete", "denied", "general", user.id), ("create", "denied", "general", user.id),
        ("update", "denied", "general", user.id)]


@pytest.mark.parametrize("method,action", [("GET", "read"), ("PATCH", "update"), ("HEAD", "system")])
def test_audit_alone_does_not_grant(client, make_user, method, action):
    user = make_user(role="admin")
    _only(("admin", "ALL", "api/v2/admin", "AUDIT", "tech_support"))
    csrf = login_as(client, user)
    resp = auth(client, method, "api/v2/admin", headers={"X-CSRF-Token": csrf})
    assert resp.status_code == 401
    (act,) = _admin_activities()
    assert (act.topic, act.action, act.result) == ("general", action, "denied")


@pytest.mark.parametrize("role,method,path,topic", [
    ("accountant", "DELETE", "api/v2/admin/markets", "markets"),
    ("admin", "PUT", "api/v2/admin/users", "users"),
    ("technical", "POST", "api/v2/barong/admin/wallets/7", "wallets"),
])
def test_denied_topic_is_the_segment_after_admin(client, make_user, role, method, path, topic):
    user = make_user(role=role)
    _only((role, method, "api/v2", "AUDIT", "accounting"))
    csrf = login_as(client, user)
    assert auth(client, method, path, headers={"X-CSRF-Token": csrf}).status_code == 401
    (act,) = _admin_activities()
    assert (act.topic, act.result) == (topic, "denied")


@pytest.mark.parametrize("role,topic", [("accountant", "accounting"), ("technical", "tech_support"),
                                        ("admin", "administrating")])
def test_accept_and_audit_records_success_with_the_audit_topic(client, make_user, role, topic):
    user = make_user(role=role)
    _only((role, "ALL", "api/v2", "ACCEPT"), (role, "POST", "api/v2/", "AUDIT", topic),
          (role, "POST", "api/v2/admin", "AUDIT", "second"))
    csrf = login_as(client, user)
    resp = auth(client, "POST", "api/v2/admin/markets", headers={"X-CSRF-Token": csrf}, json={"name": "x"})
    assert resp.status_code == 200 and "Authorization" in resp.headers
    (act,) = _admin_activities()
    assert (act.topic, act.action, act.result, act.category) == (topic, "create", "succeed", "admin")
    data = json.loads(act.data)
    assert data["path"] == "api/v2/admin/markets" and data["name"] == "x"


@pytest.mark.parametrize("path,topic", [("api/v2/admin/markets", "markets"), ("api/v2/admin/wallets", "wallets"),
                                        ("api/v2/barong/admin/users", "users")])
def test_accept_and_audit_without_topic_uses_the_path(client, make_user, path, topic):
    user = make_user(role="admin")
    target = make_user()
    _only(("admin", "ALL", "api/v2", "ACCEPT"), ("admin", "PUT", "api/v2/", "AUDIT"))
    client.environ_base["HTTP_USER_AGENT"] = "weird-client/1.0"  # not a known browser: `note` is added
    csrf = login_as(client, user)
    resp = auth(client, "PUT", path, headers={"X-CSRF-Token": csrf}, json={"user_uid": target.uid, "password": "x1"})
    assert resp.status_code == 200
    (act,) = _admin_activities()
    assert (act.topic, act.action, act.result, act.target_uid) == (topic, "update", "succeed", target.uid)
    data = json.loads(act.data)
    assert {"user_uid", "path", "note"} <= set(data)
    assert data["password"] == "[FILTERED]"


def test_denied_with_user_uid_param(client, make_user):
    user = make_user(role="admin")
    target = make_user()
    _only(("admin", "GET", "api/v2/admin", "AUDIT"))
    login_as(client, user)
    assert auth(client, "GET", f"api/v2/admin/users?uid={target.uid}").status_code == 401
    (act,) = _admin_activities()
    assert (act.topic, act.result, act.target_uid) == ("users", "denied", target.uid)


def test_unknown_target_uid_is_dropped(client, make_user):
    user = make_user(role="admin")
    _only(("admin", "ALL", "api/v2", "ACCEPT"), ("admin", "GET", "api/v2", "AUDIT"))
    login_as(client, user)
    assert auth(client, "GET", "api/v2/admin/users?uid=IDNOPE").status_code == 200
    (act,) = _admin_activities()
    assert act.target_uid is None


def test_service_account_denial_records_nothing(client, make_user, make_service_account, make_api_key):
    sa = make_service_account(make_user(otp=True))
    key, secret = make_api_key(sa)
    resp = auth(client, "GET", "api/v2/admin/users", headers=signed(key.kid, secret))
    assert resp.get_json() == {"errors": ["authz.invalid_permission"]}
    assert _admin_activities() == []


def test_permission_changes_apply_at_once(client, make_user):
    user = make_user()
    login_as(client, user)
    assert auth(client, "GET", "api/v2/custom/x").status_code == 401
    perm = permissions.create("member", "get", "api/v2/custom", "accept")
    db.session.commit()
    assert auth(client, "GET", "api/v2/custom/x").status_code == 200
    permissions.update(perm, action="drop")
    db.session.commit()
    assert auth(client, "GET", "api/v2/custom/x").status_code == 401
    permissions.delete(perm)
    db.session.commit()
    assert auth(client, "GET", "api/v2/custom/x").status_code == 401


def test_decide_is_pure_prefix_matching(app):
    _only(("r", "ALL", "api/v2/x", "ACCEPT"), ("r", "GET", "api/v2/x/y", "AUDIT", "t"))
    assert permissions.decide("r", "GET", "api/v2/xyz") == permissions.Decision(True)
    assert permissions.decide("r", "get", "api/v2/x/y/z") == permissions.Decision(True, True, "t")
    assert permissions.decide("r", "GET", "api/v2") == permissions.Decision(False)
    assert permissions.decide("other", "GET", "api/v2/x") == permissions.Decision(False)
