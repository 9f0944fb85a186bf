"""admin/users support-desk endpoints: sessions, mails, unlock, required actions — abilities
(allowed and refused roles), 4xx paths, DB/store state, mail, audit row."""
from __future__ import annotations

from datetime import timedelta

import pytest

from barong.extensions import db
from barong.models import Activity, utcnow
from barong.services.accounts import sessions
from tests.helpers import UA, login_as


@pytest.fixture
def signed_in(app):
    """signed_in(user) → a test client with a session of `user`."""
    def factory(user):
        c = app.test_client()
        c.environ_base["HTTP_USER_AGENT"] = UA
        login_as(c, user)
        return c
    return factory


def _audit_rows(target):
    return db.session.query(Activity).filter_by(category="admin", target_uid=target.uid).all()


def test_list_sessions(sa, make_user, signed_in):
    user = make_user()
    signed_in(user), signed_in(user)
    resp = sa.get(f"/users/sessions?uid={user.uid}")
    assert resp.status_code == 200
    body = resp.get_json()
    assert len(body) == 2 and {"id", "user_agent", "user_ip", "user_ip_country", "last_seen_at"} <= set(body[0])
    assert body[0]["user_agent"] == UA


def test_revoke_one_session_then_its_cookie_is_dead(sa, make_user, signed_in):
    user = make_user()
    first, second = signed_in(user), signed_in(user)
    ids = [s["id"] for s in sa.get(f"/users/sessions?uid={user.uid}").get_json()]
    resp = sa.delete("/users/sessions", json={"uid": user.uid, "id": ids[0]})
    assert resp.status_code == 204
    assert len(sessions.list_for_user(user.uid)) == 1
    codes = {c.get("/api/v2/barong/resource/users/me").status_code for c in (first, second)}
    assert codes == {200, 401}
    assert _audit_rows(user)


def test_revoke_all_sessions(sa, make_user, signed_in):
    user = make_user()
    client = signed_in(user)
    assert sa.delete("/users/sessions", json={"uid": user.uid}).status_code == 204
    assert sessions.list_for_user(user.uid) == []
    assert client.get("/api/v2/barong/resource/users/me").status_code == 401


def test_unknown_session_and_unknown_uid_are_404(sa, make_user):
    user = make_user()
    resp = sa.delete("/users/sessions", json={"uid": user.uid, "id": "nope"})
    assert resp.status_code == 404 and resp.get_json() == {"errors": ["admin.session.doesnt_exist"]}
    for call in (lambda: sa.get("/users/sessions?uid=UNKNOWN1"),
                 lambda: sa.delete("/users/sessions", json={"uid": "UNKNOWN1"}),
                 lambda: sa.post("/users/password_reset", json={"uid": "UNKNOWN1"}),
                 lambda: sa.post("/users/required_actions", json={"uid": "UNKNOWN1", "action": "enable_2fa"})):
        resp = call()
        assert resp.status_code == 404 and resp.get_json() == {"errors": ["admin.user.doesnt_exist"]}


def test_missing_uid_is_400(sa):
    resp = sa.post("/users/password_reset", json={})
    assert resp.status_code == 400 and "admin.user.missing_uid" in resp.get_json()["errors"]


def test_password_reset_mail(sa, make_user, mailbox, app):
    user = make_user()
    resp = sa.post("/users/password_reset", json={"uid": user.uid})
    assert resp.status_code == 201 and resp.get_json()["uid"] == user.uid
    assert any("reset" in (m["Subject"] or "").lower() or "password" in (m["Subject"] or "").lower()
               for m in mailbox(user.email))
    assert _audit_rows(user)


def test_password_reset_refused_for_banned(sa, make_user):
    user = make_user(state="banned")
    resp = sa.post("/users/password_reset", json={"uid": user.uid})
    assert resp.status_code == 422 and resp.get_json() == {"errors": ["admin.user.not_active"]}


def test_confirmation_mail_only_when_unconfirmed(sa, make_user, mailbox):
    pending = make_user(state="pending")
    assert sa.post("/users/email_confirmation", json={"uid": pending.uid}).status_code == 201
    assert mailbox(pending.email)
    confirmed = make_user()
    resp = sa.post("/users/email_confirmation", json={"uid": confirmed.uid})
    assert resp.status_code == 422 and resp.get_json() == {"errors": ["admin.user.already_confirmed"]}


def test_unlock(sa, make_user):
    user = make_user()
    user.locked_until, user.failed_logins = utcnow() + timedelta(minutes=5), 4
    db.session.commit()
    assert sa.post("/users/unlock", json={"uid": user.uid}).status_code == 201
    db.session.expire_all()
    assert user.locked_until is None and user.failed_logins == 0


def test_required_actions_set_list_clear(sa, make_user):
    user = make_user()
    resp = sa.post("/users/required_actions", json={"uid": user.uid, "action": "change_password"})
    assert resp.status_code == 201 and resp.get_json()["required_actions"] == ["change_password"]
    sa.post("/users/required_actions", json={"uid": user.uid, "action": "enable_2fa"})
    assert sa.get(f"/users/required_actions?uid={user.uid}").get_json()["required_actions"] == [
        "change_password", "enable_2fa"]
    resp = sa.delete("/users/required_actions", json={"uid": user.uid, "action": "enable_2fa"})
    assert resp.status_code == 200 and resp.get_json()["required_actions"] == ["change_password"]
    resp = sa.delete("/users/required_actions", json={"uid": user.uid, "action": "enable_2fa"})
    assert resp.status_code == 404 and resp.get_json() == {"errors": ["admin.required_action.doesnt_exist"]}
    assert sa.delete("/users/required_actions", json={"uid": user.uid}).get_json()["required_actions"] == []


def test_required_action_invalid_and_2fa_already_on(sa, make_user):
    user = make_user(otp=True)
    resp = sa.post("/users/required_actions", json={"uid": user.uid, "action": "dance"})
    assert resp.status_code == 422 and resp.get_json() == {"errors": ["admin.required_action.invalid"]}
    resp = sa.post("/users/required_actions", json={"uid": user.uid, "action": "enable_2fa"})
    assert resp.status_code == 422 and resp.get_json() == {"errors": ["admin.required_action.enable_2fa_done"]}


def test_admin_may_not_touch_a_superadmin(api, make_user):
    root = make_user(role="superadmin")
    resp = api("admin").post("/users/required_actions", json={"uid": root.uid, "action": "change_password"})
    assert resp.status_code == 422 and resp.get_json() == {"errors": ["admin.user.superadmin_change"]}


@pytest.mark.parametrize("role,allowed", [("support", True), ("admin", True), ("compliance", False),
                                          ("technical", False), ("accountant", False), ("member", False)])
def test_who_may_revoke_sessions(api, make_user, signed_in, role, allowed):
    user = make_user()
    signed_in(user)
    resp = api(role).delete("/users/sessions", json={"uid": user.uid})
    assert (resp.status_code == 204) is allowed
    if not allowed:
        assert resp.status_code == 401 and resp.get_json()["errors"][0] in (
            "admin.ability.not_permitted", "authz.invalid_permission")
        assert len(sessions.list_for_user(user.uid)) == 1


@pytest.mark.parametrize("role,status", [("support", 200), ("technical", 200), ("accountant", 401)])
def test_who_may_list_sessions(api, make_user, role, status):
    user = make_user()
    resp = api(role).get(f"/users/sessions?uid={user.uid}")
    assert resp.status_code == status
    if status == 401:
        assert resp.get_json() == {"errors": ["admin.ability.not_permitted"]}


@pytest.mark.parametrize("role,allowed", [("support", True), ("compliance", False), ("technical", False)])
def test_who_may_require_actions(api, make_user, role, allowed):
    user = make_user()
    resp = api(role).post("/users/required_actions", json={"uid": user.uid, "action": "change_password"})
    assert (resp.status_code == 201) is allowed
    if not allowed:
        assert resp.status_code == 401


def test_abilities_endpoint_keeps_the_original_map(api):
    body = api("support").get("/abilities").get_json()
    assert "Session" not in str(body) and "RequiredAction" not in str(body)
