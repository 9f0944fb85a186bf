"""POST/DELETE identity/sessions: login and logout (reference/identity-public.md §sessions)."""
from __future__ import annotations

import bcrypt
import pytest

from barong.extensions import db
from barong.models import Profile, SessionRecord
from barong.services.accounts import users
from tests.helpers import DEFAULT_PASSWORD, UA, logout, totp_now

from .support import API, activities_of, counts, events_named

ME = "/api/v2/barong/resource/users/me"
FULL_KEYS = {"email", "uid", "role", "level", "otp", "state", "referral_uid", "csrf_token", "data", "labels",
             "phones", "profiles", "data_storages", "created_at", "updated_at", "username"}


def login(client, email, password=DEFAULT_PASSWORD, **extra):
    return client.post(f"{API}/sessions", json={"email": email, "password": password, **extra})


def test_login_opens_a_session(client, make_user, app):
    """Does a good login answer 201 UserWithFullInfo + csrf_token, set the cookie, record and emit?"""
    user = make_user()
    resp = login(client, user.email)
    assert resp.status_code == 201
    body = resp.get_json()
    assert set(body) == FULL_KEYS
    assert body["uid"] == user.uid and len(body["csrf_token"]) == 20
    assert app.config["BARONG_SESSION_NAME"] in resp.headers["Set-Cookie"]
    assert "HttpOnly" in resp.headers["Set-Cookie"]
    [rec] = db.session.query(SessionRecord).all()
    assert (rec.uid, rec.user_agent, rec.csrf_token) == (user.uid, UA, body["csrf_token"])
    assert activities_of(user) == [("session", "login", "succeed")]
    [event] = events_named("system.session.create")
    assert event["record"]["user"]["uid"] == user.uid
    assert event["record"]["user_ip"] == "127.0.0.1" and event["record"]["user_agent"] == UA
    assert client.get(ME).status_code == 200


def test_login_masks_profiles(client, make_user):
    user = make_user()
    profile = Profile(user_id=user.id)
    profile.first_name, profile.last_name, profile.dob = "Test", "Xavier", "1990-05-17"
    db.session.add(profile)
    db.session.commit()
    body = login(client, user.email).get_json()
    assert body["profiles"][0]["last_name"] == "X*****"
    assert body["profiles"][0]["dob"] == "1990-05-**"


def test_email_is_case_insensitive(client, make_user):
    user = make_user(email="Mixed.Case@Example.com")
    assert login(client, "mixed.case@EXAMPLE.com").status_code == 201


@pytest.mark.parametrize("body,codes", [
    ({}, ["identity.session.missing_email", "identity.session.missing_password"]),
    ({"email": "a@b.io"}, ["identity.session.missing_password"]),
    ({"password": "x"}, ["identity.session.missing_email"]),
])
def test_missing_params_400(client, body, codes):
    resp = client.post(f"{API}/sessions", json=body)
    assert resp.status_code == 400 and resp.get_json() == {"errors": codes}


def test_blank_params_are_wrong_credentials(client, make_user):
    """Barong declares no allow_blank: false on login — blanks fail as bad credentials."""
    resp = client.post(f"{API}/sessions", data={"email": "", "password": ""})
    assert resp.status_code == 401 and resp.get_json() == {"errors": ["identity.session.invalid_params"]}


def test_wrong_password_401_with_failed_activity(client, make_user):
    user = make_user()
    before = counts()
    resp = login(client, user.email, "Wrong-Passw0rd")
    assert resp.status_code == 401 and resp.get_json() == {"errors": ["identity.session.invalid_params"]}
    assert activities_of(user) == [("session", "login", "failed")]
    after = counts()
    assert after["SessionRecord"] == before["SessionRecord"] == 0
    assert after["OutboxEvent"] == before["OutboxEvent"]


def test_unknown_email_401_same_answer_no_activity(client, make_user):
    user = make_user()
    resp = login(client, "nobody@example.com", "Wrong-Passw0rd")
    assert resp.status_code == 401 and resp.get_json() == {"errors": ["identity.session.invalid_params"]}
    assert activities_of(user) == []


@pytest.mark.parametrize("state,code", [("banned", "identity.session.banned"),
                                        ("deleted", "identity.session.deleted"),
                                        ("locked", "identity.session.not_active"),
                                        ("not-active", "identity.session.not_active")])
@pytest.mark.parametrize("password", [DEFAULT_PASSWORD, "Wrong-Passw0rd"])
def test_state_checked_before_password(client, make_user, state, code, password):
    user = make_user()
    user.state = state
    db.session.commit()
    resp = login(client, user.email, password)
    assert resp.status_code == 401 and resp.get_json() == {"errors": [code]}
    assert activities_of(user) == [("session", "login", "failed")]
    assert db.session.query(SessionRecord).count() == 0


def test_pending_user_may_log_in(client, make_user):
    user = make_user(state="pending")
    resp = login(client, user.email)
    assert resp.status_code == 201 and resp.get_json()["state"] == "pending"


class TestOtp:
    def test_missing_otp_401_without_activity(self, client, make_user):
        user = make_user(otp=True)
        resp = login(client, user.email)
        assert resp.status_code == 401 and resp.get_json() == {"errors": ["identity.session.missing_otp"]}
        assert activities_of(user) == []

    def test_wrong_otp_403(self, client, make_user):
        user = make_user(otp=True)
        resp = login(client, user.email, otp_code="000000" if totp_now(user) != "000000" else "111111")
        assert resp.status_code == 403 and resp.get_json() == {"errors": ["identity.session.invalid_otp"]}
        assert activities_of(user) == [("session", "login::2fa", "failed")]
        assert db.session.query(SessionRecord).count() == 0

    def test_wrong_password_before_otp(self, client, make_user):
        user = make_user(otp=True)
        resp = login(client, user.email, "Wrong-Passw0rd", otp_code=totp_now(user))
        assert resp.status_code == 401 and resp.get_json() == {"errors": ["identity.session.invalid_params"]}

    def test_right_otp_201(self, client, make_user):
        user = make_user(otp=True)
        resp = login(client, user.email, otp_code=totp_now(user))
        assert resp.status_code == 201, resp.get_json()
        assert activities_of(user) == [("session", "login::2fa", "succeed")]


def test_bcrypt_digest_from_ruby_barong_logs_in_and_is_rehashed(client, make_user):
    user = make_user()
    user.password_digest = bcrypt.hashpw(b"Ruby-Imported-9", bcrypt.gensalt(4)).decode().replace("$2b$", "$2a$")
    db.session.commit()
    assert login(client, user.email, "Ruby-Imported-9").status_code == 201
    db.session.refresh(user)
    assert user.password_digest.startswith("$argon2id$")
    client.delete(f"{API}/sessions")
    assert login(client, user.email, "Ruby-Imported-9").status_code == 201


class TestLogout:
    def test_without_session_404(self, client):
        resp = client.delete(f"{API}/sessions")
        assert resp.status_code == 404 and resp.get_json() == {"errors": ["identity.session.not_found"]}

    def test_with_unknown_cookie_404(self, client, app):
        client.set_cookie(app.config["BARONG_SESSION_NAME"], "not-a-session")
        resp = client.delete(f"{API}/sessions")
        assert resp.status_code == 404 and resp.get_json() == {"errors": ["identity.session.not_found"]}

    def test_logout_destroys_the_session(self, client, make_user, app):
        user = make_user()
        login(client, user.email)
        resp = logout(client)
        assert resp.status_code == 204 and resp.data == b""
        assert app.config["BARONG_SESSION_NAME"] in resp.headers["Set-Cookie"]
        assert db.session.query(SessionRecord).count() == 0
        assert activities_of(user) == [("session", "login", "succeed"), ("session", "logout", "succeed")]
        assert client.get(ME).status_code == 401
        assert client.delete(f"{API}/sessions").status_code == 404

    def test_old_cookie_is_dead_after_logout(self, client, make_user, app):
        user = make_user()
        login(client, user.email)
        cookie = client.get_cookie(app.config["BARONG_SESSION_NAME"]).value
        logout(client)
        client.set_cookie(app.config["BARONG_SESSION_NAME"], cookie)
        assert client.get(ME).status_code == 401

    def test_logout_ignores_user_agent(self, client, make_user):
        """Logout uses the cookie only (no UA/IP check), as Barong."""
        user = make_user()
        login(client, user.email)
        resp = logout(client, headers={"User-Agent": "other-agent"})
        assert resp.status_code == 204


class TestBinding:
    def test_other_user_agent_is_refused(self, client, make_user):
        user = make_user()
        login(client, user.email)
        assert client.get(ME, headers={"User-Agent": "other-agent"}).status_code == 401

    def test_same_16_network_ok_other_network_refused(self, client, make_user):
        user = make_user()
        client.environ_base["REMOTE_ADDR"] = "203.0.113.5"
        login(client, user.email)
        assert client.get(ME, environ_base={"REMOTE_ADDR": "203.0.200.9", "HTTP_USER_AGENT": UA}).status_code == 200
        assert client.get(ME, environ_base={"REMOTE_ADDR": "198.51.100.1", "HTTP_USER_AGENT": UA}).status_code == 401


def test_password_change_elsewhere_does_not_break_login(client, make_user):
    user = make_user()
    users.set_password(user, "Another-Passw0rd-1")
    db.session.commit()
    assert login(client, user.email, "Another-Passw0rd-1").status_code == 201
    assert login(client, user.email).status_code == 401


def test_idle_session_expires(client, make_user, app):
    """After session_expire_time without use, the cookie no longer works (and the session is gone)."""
    user = make_user()
    login(client, user.email)
    rec = db.session.query(SessionRecord).one()
    rec.expire_time = int(__import__("time").time()) - 1
    db.session.commit()
    assert client.get(ME).status_code == 401
    db.session.expire_all()
    assert db.session.query(SessionRecord).count() == 0


def test_use_slides_the_expiry(client, make_user, app):
    import time as _time

    user = make_user()
    login(client, user.email)
    rec = db.session.query(SessionRecord).one()
    rec.expire_time = int(_time.time()) + 60  # nearly idle for the whole window
    db.session.commit()
    assert client.get(ME).status_code == 200
    db.session.expire_all()
    rec = db.session.query(SessionRecord).one()
    assert rec.expire_time >= int(_time.time()) + app.config["BARONG_SESSION_EXPIRE_TIME"] - 5
