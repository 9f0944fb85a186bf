"""Server-side sessions (CONTRACT §4) in both stores: the database (default) and the real
Redis at 127.0.0.1:6379 db 15 (BARONG_REDIS_URL)."""
from __future__ import annotations

import os
import time

import pytest

from barong.extensions import db
from barong.models import SessionRecord
from barong.services.accounts import sessions
from barong.services.infra import kv
from barong.services.infra.request_info import RequestInfo
from tests.helpers import UA, login_as, logout, token_from_mail

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
INFO = RequestInfo(ip="203.0.113.10", user_agent=UA)


def _redis_or_skip():
    import redis

    r = redis.Redis.from_url(REDIS_URL, decode_responses=True)
    try:
        r.ping()
    except redis.exceptions.ConnectionError:
        if os.environ.get("CI"):  # .ci/run starts Redis: missing there is a failure, not a skip
            pytest.fail(f"no Redis at {REDIS_URL}")
        pytest.skip(f"no Redis at {REDIS_URL}")
    return r


@pytest.fixture(params=["database", "redis"])
def store(request, app):
    """Runs the test once per store; in Redis mode kv marks go to Redis too."""
    saved = app.extensions["barong_session_store"]
    # no FLUSHDB: parallel test workers may share this Redis db; every key a test makes is
    # unique (random session ids, per-test users) and expires by itself
    if request.param == "redis":
        _redis_or_skip()
        app.config["BARONG_REDIS_URL"] = REDIS_URL
        app.extensions.pop("barong_redis", None)
        app.extensions["barong_session_store"] = sessions.RedisStore(REDIS_URL)
    yield request.param
    app.extensions["barong_session_store"] = saved
    app.extensions.pop("barong_redis", None)


def test_open_and_read_back(store, make_user):
    user = make_user()
    s = sessions.open_session(user, INFO)
    db.session.commit()
    got = sessions.store().get(s.id)
    assert (got.uid, got.user_ip, got.user_agent, got.csrf_token) == (user.uid, INFO.ip, UA, s.csrf_token)
    assert len(s.csrf_token) == 20 and len(s.id) == 64
    assert abs(got.expire_time - (time.time() + 1800)) < 5
    assert sessions.is_valid(got, INFO)


def test_list_and_invalidate_all(store, make_user):
    user, other = make_user(), make_user()
    ids = [sessions.open_session(user, INFO).id for _ in range(5)]
    theirs = sessions.open_session(other, INFO)
    db.session.commit()
    assert [s.id for s in sessions.list_for_user(user.uid)] == ids
    assert sessions.invalidate_all(user.uid, keep=ids[2]) == 4
    assert [s.id for s in sessions.list_for_user(user.uid)] == [ids[2]]
    assert sessions.invalidate_all(user.uid) == 1
    assert sessions.list_for_user(user.uid) == []
    assert [s.id for s in sessions.list_for_user(other.uid)] == [theirs.id]


def test_destroy(store, make_user):
    user = make_user()
    s = sessions.open_session(user, INFO)
    sessions.destroy(s)
    assert sessions.store().get(s.id) is None and sessions.list_for_user(user.uid) == []


def test_expired_sessions_are_invalid_and_not_listed(store, make_user):
    user = make_user()
    s = sessions.open_session(user, INFO)
    s.expire_time = int(time.time()) - 1
    sessions.store().save(s)
    db.session.commit()
    got = sessions.store().get(s.id)
    assert got is not None and got.expired and not sessions.is_valid(got, INFO)
    assert sessions.list_for_user(user.uid) == []


def test_touch_slides_expiry(store, make_user, app):
    user = make_user()
    s = sessions.open_session(user, INFO)
    s.expire_time = int(time.time()) + 60
    s.last_seen_at = time.time() - 100
    sessions.store().save(s)
    sessions.touch(s)
    got = sessions.store().get(s.id)
    assert abs(got.expire_time - (time.time() + app.config["BARONG_SESSION_EXPIRE_TIME"])) < 5


def test_touch_is_read_only_when_recent(store, make_user, monkeypatch):
    user = make_user()
    s = sessions.open_session(user, INFO)
    calls = []
    monkeypatch.setattr(sessions.store(), "save", lambda s: calls.append(s))
    sessions.touch(s)
    assert calls == []


@pytest.mark.parametrize("ip,ok", [("203.0.113.10", True), ("203.0.250.1", True), ("203.1.0.1", False),
                                   ("10.0.0.1", False), ("::1", False), ("garbage", False)])
def test_ipv4_network_binding(ip, ok):
    assert sessions.same_network("203.0.113.10", ip) is ok


@pytest.mark.parametrize("ip,ok", [("2001:db8::1:2", True), ("2001:db8::ffff:ffff", True),
                                   ("2001:db8:0:0:1::1", False), ("203.0.113.10", False)])
def test_ipv6_network_binding(ip, ok):
    assert sessions.same_network("2001:db8::1", ip) is ok


def test_user_agent_binding(store, make_user):
    user = make_user()
    s = sessions.open_session(user, INFO)
    assert not sessions.is_valid(s, RequestInfo(ip=INFO.ip, user_agent=UA + " "))
    assert not sessions.is_valid(s, RequestInfo(ip=INFO.ip, user_agent=""))


def test_database_store_cleans_expired_rows_at_login(make_user):
    user = make_user()
    old = sessions.open_session(user, INFO)
    old.expire_time = int(time.time()) - 10
    sessions.store().save(old)
    sessions.open_session(user, INFO)
    db.session.commit()
    assert db.session.query(SessionRecord).filter_by(uid=user.uid).count() == 1
    assert sessions.purge_expired() == 0


def test_redis_entry_ttl_follows_the_session(store, make_user):
    if store != "redis":
        pytest.skip("redis only")
    user = make_user()
    s = sessions.open_session(user, INFO)
    ttl = sessions.store().r.ttl(sessions.RedisStore._key(s.id))
    assert 1800 <= ttl <= 1800 + 60


def test_api_flow_in_each_store(store, client, make_user, mailbox, app):
    """login → me → reset revokes → logout, with sessions and kv marks in the chosen store."""
    user = make_user()
    login_as(client, user)
    assert client.get("/api/v2/barong/resource/users/me").status_code == 200
    assert len(sessions.list_for_user(user.uid)) == 1
    client.post("/api/v2/barong/identity/users/password/generate_code", json={"email": user.email})
    if store == "redis":
        r = sessions.store().r
        from barong.services.accounts.identity import email_key

        assert r.get(f"barong:kv:reset_password_{email_key(user.email)}") is not None
        assert db.session.query(SessionRecord).count() == 0
    token = token_from_mail([m for m in mailbox(user.email) if m["Subject"] == "Password Reset"][-1])
    resp = client.post("/api/v2/barong/identity/users/password/confirm_code", json={
        "reset_password_token": token, "password": "Redis-Passw0rd-1", "confirm_password": "Redis-Passw0rd-1"})
    assert resp.status_code == 201
    assert sessions.list_for_user(user.uid) == []
    assert client.get("/api/v2/barong/resource/users/me").status_code == 401
    resp = client.post("/api/v2/barong/identity/users/password/confirm_code", json={
        "reset_password_token": token, "password": "Redis-Passw0rd-2", "confirm_password": "Redis-Passw0rd-2"})
    assert resp.get_json() == {"errors": ["identity.user.utilized_token"]}
    login_as(client, user, "Redis-Passw0rd-1")
    assert logout(client).status_code == 204
    assert sessions.list_for_user(user.uid) == []


def test_kv_marks_in_each_store(store):
    key = f"probe:{time.time_ns()}"
    kv.set(key, "v", 60)
    assert kv.get(key) == "v"
    kv.delete(key)
    assert kv.get(key) is None
