"""Session-cookie flow (reference/authz.md §4): CSRF first, binding to agent and network,
sliding expiry, user state."""
from __future__ import annotations

import pytest

from barong.extensions import db
from barong.models import SessionRecord
from barong.services.accounts import users
from tests.helpers import login_as

from .support import ME, auth

PATH = "api/v2/barong/resource/anything"


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH"])
def test_state_changing_verb_without_csrf_header(client, make_user, method):
    login_as(client, make_user())
    resp = auth(client, method, PATH)
    assert resp.status_code == 401
    assert resp.get_json() == {"errors": ["authz.missing_csrf_token"]}
    assert "Authorization" not in resp.headers


@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_safe_verbs_need_no_csrf(client, make_user, method):
    login_as(client, make_user())
    resp = auth(client, method, PATH)
    assert resp.status_code == 200 and resp.headers["Authorization"].startswith("Bearer ")


@pytest.mark.parametrize("method", ["POST", "GET", "PUT", "DELETE", "PATCH"])
def test_correct_csrf_token(client, make_user, method):
    csrf = login_as(client, make_user())
    resp = auth(client, method, PATH, headers={"X-CSRF-Token": csrf})
    assert resp.status_code == 200 and "Authorization" in resp.headers


def test_csrf_mismatch(client, make_user):
    login_as(client, make_user())
    resp = auth(client, "POST", PATH, headers={"X-CSRF-Token": "0" * 20})
    assert resp.status_code == 401
    assert resp.get_json() == {"errors": ["authz.csrf_token_mismatch"]}


def test_csrf_checked_before_the_session(client):
    """A POST with no session and no header says missing_csrf_token, not invalid_session."""
    assert auth(client, "POST", PATH).get_json() == {"errors": ["authz.missing_csrf_token"]}
    assert auth(client, "POST", PATH, headers={"X-CSRF-Token": "x"}).get_json() == {
        "errors": ["authz.csrf_token_mismatch"]}


def test_csrf_protection_off(client, make_user, app):
    app.config["BARONG_CSRF_PROTECTION"] = False
    login_as(client, make_user())
    assert auth(client, "POST", PATH).status_code == 200


def test_user_banned_after_login(client, make_user):
    user = make_user()
    login_as(client, user)
    user.state = "banned"
    db.session.commit()
    resp = auth(client, "GET", PATH)
    assert resp.status_code == 401
    assert resp.get_json() == {"errors": ["authz.user_not_active"]}


def test_pending_user_is_allowed(client, make_user):
    user = make_user()
    login_as(client, user)
    user.state = "pending"
    db.session.commit()
    assert auth(client, "GET", PATH).status_code == 200


def test_session_of_deleted_user_is_invalid(client, make_user):
    user = make_user()
    login_as(client, user)
    record = db.session.query(SessionRecord).filter_by(uid=user.uid).one()
    record.uid = "IDNOBODY00"
    db.session.commit()
    assert auth(client, "GET", PATH).get_json() == {"errors": ["authz.invalid_session"]}


def test_unknown_cookie_is_invalid_session(client, app):
    client.set_cookie(app.config["BARONG_SESSION_NAME"], "forged")
    assert auth(client, "GET", PATH).get_json() == {"errors": ["authz.invalid_session"]}


def test_same_legacy_user_agent(client, make_user):
    client.environ_base["HTTP_USER_AGENT"] = "legacy-browser"
    csrf = login_as(client, make_user())
    resp = auth(client, "POST", PATH, headers={"X-CSRF-Token": csrf})
    assert resp.status_code == 200 and "Authorization" in resp.headers


def test_other_user_agent_destroys_the_session(client, make_user):
    user = make_user()
    login_as(client, user)
    resp = auth(client, "GET", PATH, headers={"User-Agent": "other agent"})
    assert resp.status_code == 401
    assert resp.get_json() == {"errors": ["authz.client_session_mismatch"]}
    assert db.session.query(SessionRecord).filter_by(uid=user.uid).count() == 0
    # the original agent cannot use it any more: the session is gone
    assert auth(client, "GET", PATH).get_json() == {"errors": ["authz.invalid_session"]}


def test_remote_addr_in_another_network(client, make_user):
    client.environ_base["REMOTE_ADDR"] = "8.8.8.8"
    login_as(client, make_user())
    client.environ_base["REMOTE_ADDR"] = "8.8.200.1"  # same /16
    assert auth(client, "GET", PATH).status_code == 200
    client.environ_base["REMOTE_ADDR"] = "9.9.9.9"
    assert auth(client, "GET", PATH).get_json() == {"errors": ["authz.client_session_mismatch"]}


def test_agent_and_network_both_changed(client, make_user):
    client.environ_base["REMOTE_ADDR"] = "8.8.8.8"
    login_as(client, make_user())
    client.environ_base["REMOTE_ADDR"] = "9.9.9.9"
    resp = auth(client, "GET", PATH, headers={"User-Agent": "x"})
    assert resp.status_code == 401 and "Authorization" not in resp.headers


def test_forwarded_for_from_trusted_peer(client, make_user):
    """The test client's peer is 127.0.0.1, a trusted proxy: X-Forwarded-For names the client."""
    login_as_from(client, make_user(), "31.10.1.1")
    assert auth(client, "GET", PATH, headers={"X-Forwarded-For": "31.10.200.7"}).status_code == 200
    resp = auth(client, "GET", PATH, headers={"X-Forwarded-For": "32.10.1.1"})
    assert resp.status_code == 401 and "Authorization" not in resp.headers


def test_forwarded_for_ignored_from_untrusted_peer(client, make_user):
    client.environ_base["REMOTE_ADDR"] = "8.8.8.8"
    login_as(client, make_user())
    # a client cannot move itself into another network by sending the header
    assert auth(client, "GET", PATH, headers={"X-Forwarded-For": "9.9.9.9"}).status_code == 200


def test_akamai_true_client_ip(client, make_user, app):
    app.config["BARONG_GATEWAY"] = "akamai"
    user = make_user()
    resp = client.post("/api/v2/barong/identity/sessions", json={"email": user.email, "password": _pw()},
                       headers={"True-Client-Ip": "31.10.1.1", "X-Forwarded-For": "40.0.0.1"})
    assert resp.status_code == 201
    ok = auth(client, "GET", PATH, headers={"True-Client-Ip": "31.10.1.1", "X-Forwarded-For": "50.0.0.1"})
    assert ok.status_code == 200
    # missing or empty True-Client-Ip: X-Forwarded-For decides
    assert auth(client, "GET", PATH, headers={"X-Forwarded-For": "31.10.9.9"}).status_code == 200
    assert auth(client, "GET", PATH, headers={"True-Client-Ip": "", "X-Forwarded-For": "31.10.9.9"}).status_code == 200
    bad = auth(client, "GET", PATH, headers={"True-Client-Ip": "77.1.1.1", "X-Forwarded-For": "31.10.1.1"})
    assert bad.status_code == 401


def test_sliding_expiry_keeps_an_active_session(client, make_user, clock, app):
    expiry = app.config["BARONG_SESSION_EXPIRE_TIME"]
    login_as(client, make_user())
    for _ in range(30):
        clock.advance(expiry - 300)
        assert auth(client, "GET", PATH).status_code == 200


def test_idle_session_expires(client, make_user, clock, app):
    login_as(client, make_user())
    clock.advance(app.config["BARONG_SESSION_EXPIRE_TIME"] + 600)
    assert auth(client, "GET", PATH).get_json() == {"errors": ["authz.client_session_mismatch"]}


def test_logout_then_authz(client, make_user):
    csrf = login_as(client, make_user())
    assert client.delete("/api/v2/barong/identity/sessions", headers={"X-CSRF-Token": csrf}).status_code == 204
    assert auth(client, "GET", PATH).get_json() == {"errors": ["authz.invalid_session"]}


def _pw():
    from tests.helpers import DEFAULT_PASSWORD

    return DEFAULT_PASSWORD


def login_as_from(client, user, ip):
    resp = client.post("/api/v2/barong/identity/sessions", json={"email": user.email, "password": _pw()},
                       headers={"X-Forwarded-For": ip})
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()["csrf_token"]


def test_users_me_in_process_with_cookie(client, make_user):
    user = make_user()
    login_as(client, user)
    resp = client.get("/" + ME)
    assert resp.status_code == 200 and resp.get_json()["uid"] == user.uid
    assert users.by_uid(user.uid) is not None
