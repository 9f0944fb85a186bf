"""resource/users: me, data, self-delete, password change, activity."""
from __future__ import annotations

import json
import time
from datetime import timedelta

from barong.extensions import db
from barong.models import Activity, OutboxEvent, User, utcnow
from barong.services.accounts import sessions
from tests.api.resource.conftest import R, errors
from tests.helpers import DEFAULT_PASSWORD, UA, login_as


def test_me_requires_auth(client):
    resp = client.get(f"{R}/users/me")
    assert resp.status_code == 401


def test_me(api):
    resp = api.get("users/me")
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["email"] == api.user.email
    assert "csrf_token" not in body
    assert {"labels", "phones", "profiles", "data_storages"} <= set(body)


def test_state_changing_call_needs_csrf(api):
    resp = api.client.put(f"{R}/users/me", json={"data": "{}"})
    assert resp.status_code == 401
    assert errors(resp) == ["authz.missing_csrf_token"]


def test_update_data(api):
    resp = api.put("users/me", json={"data": '{"bar":"baz"}'})
    assert resp.status_code == 200
    assert resp.get_json()["data"] == '{"bar":"baz"}'
    assert api.reload().data == '{"bar":"baz"}'


def test_update_data_errors(api):
    assert errors(api.put("users/me", json={})) == ["resource.user.missing_data", "resource.user.empty_data"]
    resp = api.put("users/me", json={"data": "  "})
    assert resp.status_code == 400 and errors(resp) == ["resource.user.empty_data"]
    resp = api.put("users/me", json={"data": "random string"})
    assert resp.status_code == 422 and errors(resp) == ["data.invalid_format"]
    resp = api.put("users/me", json={"data": json.dumps({"a": "x" * 1100})})
    assert resp.status_code == 422 and errors(resp) == ["data.too_long"]
    assert api.reload().data is None


def test_delete_me_wrong_password(api):
    resp = api.delete("users/me", query_string={"password": "Wrong-pass1"})
    assert resp.status_code == 422 and errors(resp) == ["resource.user.invalid_password"]
    assert api.reload().state == "active"
    assert not any(l.key == "delete" for l in api.user.labels)


def test_delete_me_missing_password(api):
    resp = api.delete("users/me")
    assert resp.status_code == 400
    assert errors(resp) == ["resource.user.missing_password", "resource.user.empty_password"]


def test_delete_me(api):
    resp = api.delete("users/me", query_string={"password": DEFAULT_PASSWORD})
    assert resp.status_code == 204 and resp.data == b""
    user = api.reload()
    assert user.state == "deleted"
    assert user.private_labels()["delete"] == "by_user"
    assert sessions.list_for_user(user.uid) == []
    assert db.session.query(OutboxEvent).filter_by(name="system.user.account.deleted").count() == 1
    assert api.get("users/me").status_code == 401


def test_delete_me_empty_otp_without_2fa(api):
    resp = api.delete("users/me", query_string={"password": DEFAULT_PASSWORD, "otp_code": ""})
    assert resp.status_code == 400 and errors(resp) == ["resource.user.empty_otp_code"]
    assert api.reload().state == "active"


def test_delete_me_with_2fa(otp_api):
    api = otp_api
    resp = api.delete("users/me", query_string={"password": DEFAULT_PASSWORD})
    assert resp.status_code == 422 and errors(resp) == ["resource.user.missing_otp_code"]
    resp = api.delete("users/me", query_string={"password": DEFAULT_PASSWORD, "otp_code": ""})
    assert resp.status_code == 422 and errors(resp) == ["resource.user.empty_otp_code"]
    resp = api.delete("users/me", query_string={"password": DEFAULT_PASSWORD, "otp_code": "000000"})
    assert resp.status_code == 422 and errors(resp) == ["resource.user.invalid_otp"]
    assert api.reload().state == "active"
    resp = api.delete("users/me", query_string={"password": DEFAULT_PASSWORD, "otp_code": api.totp()})
    assert resp.status_code == 204
    assert api.reload().state == "deleted"


def test_password_change_param_errors(api):
    resp = api.put("users/password", json={"old_password": "", "new_password": "", "confirm_password": ""})
    assert resp.status_code == 400
    assert errors(resp) == ["resource.user.empty_old_password", "resource.user.empty_new_password",
                            "resource.user.empty_confirm_password"]
    resp = api.put("users/password", json={})
    assert errors(resp)[:2] == ["resource.user.missing_old_password", "resource.user.empty_old_password"]


def _password_activities(user, result):
    return db.session.query(Activity).filter_by(user_id=user.id, topic="password", action="password change",
                                                result=result).count()


def test_password_change_refusals(api):
    cases = [
        ({"old_password": DEFAULT_PASSWORD, "new_password": "Gol4aid1x", "confirm_password": "Gol4aid1y"},
         422, "resource.password.doesnt_match"),
        ({"old_password": "Wrong-pass1", "new_password": "Gol4aid1", "confirm_password": "Gol4aid1"},
         400, "resource.password.prev_pass_not_correct"),
        ({"old_password": DEFAULT_PASSWORD, "new_password": DEFAULT_PASSWORD, "confirm_password": DEFAULT_PASSWORD},
         400, "resource.password.no_change_provided"),
        ({"old_password": DEFAULT_PASSWORD, "new_password": "Simple", "confirm_password": "Simple"},
         422, "password.requirements"),
        ({"old_password": DEFAULT_PASSWORD, "new_password": "Password1", "confirm_password": "Password1"},
         422, "password.weak"),
    ]
    digest = api.user.password_digest
    for n, (body, status, code) in enumerate(cases, start=1):
        resp = api.put("users/password", json=body)
        assert (resp.status_code, errors(resp)) == (status, [code])
        assert _password_activities(api.reload(), "failed") == n
    assert api.reload().password_digest == digest


def test_password_change_revokes_other_sessions(api, app):
    other = app.test_client()
    other.environ_base["HTTP_USER_AGENT"] = UA
    login_as(other, api.user)
    assert len(sessions.list_for_user(api.user.uid)) == 2
    resp = api.put("users/password", json={"old_password": DEFAULT_PASSWORD, "new_password": "Gol4aid1",
                                           "confirm_password": "Gol4aid1"})
    assert resp.status_code == 201
    assert len(sessions.list_for_user(api.user.uid)) == 1
    assert api.get("users/me").status_code == 200  # the current session survives
    assert other.get(f"{R}/users/me").status_code == 401
    assert _password_activities(api.reload(), "succeed") == 1
    assert db.session.query(OutboxEvent).filter_by(name="system.user.password.change").count() == 1
    fresh = app.test_client()
    fresh.environ_base["HTTP_USER_AGENT"] = UA
    assert fresh.post("/api/v2/barong/identity/sessions",
                      json={"email": api.user.email, "password": "Gol4aid1"}).status_code == 201


def _activity(user, topic, result="succeed", hours_ago=0):
    db.session.add(Activity(user_id=user.id, category="user", user_ip="127.0.0.1", user_agent=UA, topic=topic,
                            action="x", result=result, created_at=utcnow() - timedelta(hours=hours_ago)))


def test_activity(api):
    user = api.user
    db.session.query(Activity).filter_by(user_id=user.id).delete()
    for h, result in ((0, "succeed"), (2, "succeed"), (3, "failed"), (10, "succeed"), (11, "succeed")):
        _activity(user, "otp", result, h)
    db.session.commit()
    resp = api.get("users/activity/all")
    assert resp.status_code == 200
    items = resp.get_json()
    assert len(items) == 5 and items[0]["id"] > items[-1]["id"]
    assert resp.headers["Total"] == "5" and resp.headers["Page"] == "1" and resp.headers["Per-Page"] == "100"
    assert len(api.get("users/activity/otp", query_string={"result": "succeed"}).get_json()) == 4
    now = int(time.time())
    resp = api.get("users/activity/all", query_string={"time_from": now - 5 * 3600, "time_to": now - 3600})
    assert len(resp.get_json()) == 2
    assert len(api.get("users/activity/all", query_string={"time_from": now - 5 * 3600}).get_json()) == 3
    resp = api.get("users/activity/all", query_string={"limit": 2, "page": 2})
    assert len(resp.get_json()) == 2 and resp.headers["Total"] == "5"


def test_activity_errors(api):
    db.session.query(Activity).filter_by(user_id=api.user.id).delete()
    db.session.commit()
    resp = api.get("users/activity/invalid")
    assert resp.status_code == 422 and errors(resp) == ["resource.user.wrong_topic"]
    resp = api.get("users/activity/session")
    assert resp.status_code == 422 and errors(resp) == ["resource.user.no_activity"]
    resp = api.get("users/activity/all", query_string={"time_from": "abc"})
    assert resp.status_code == 422 and errors(resp) == ["resource.user.non_integer_time_from"]
    resp = api.get("users/activity/all", query_string={"time_to": ""})
    assert resp.status_code == 400 and errors(resp) == ["resource.user.empty_time_to"]
    resp = api.get("users/activity/all", query_string={"result": ""})
    assert errors(resp) == ["resource.user.empty_result"]
    resp = api.get("users/activity/all", query_string={"limit": 1000})
    assert resp.status_code == 422 and errors(resp) == ["invalid_limit"]


def test_service_account_jwt_is_not_a_user(api):
    assert isinstance(api.user, User)
