"""Redis cut or hung behind a TCP proxy (the machine's Redis is never touched): requests
that need Redis answer 503 server.redis.unavailable quickly, never hang or let a caller
through, and the service recovers by itself once Redis answers again.

In-process (the test app with BARONG_REDIS_URL pointing at the proxy); the real-server
version is tests/faults/test_live_outages.py."""
from __future__ import annotations

import time

import pytest
import redis

from barong.authz import process_cache
from barong.services.accounts import sessions
from barong.services.infra import redis_client
from tests.faults.tcp_proxy import TCPProxy
from tests.helpers import login_as

TIMEOUT = 0.3  # BARONG_REDIS_TIMEOUT in these tests
#: a request may not take longer than this (gunicorn's worker timeout is 30 s); a hang guard, not a benchmark
HANG_GUARD = 10.0
ME = "/api/v2/barong/resource/users/me"
UNAVAILABLE = {"errors": ["server.redis.unavailable"]}


@pytest.fixture
def redis_proxy():
    from tests.services.test_sessions import _redis_or_skip

    _redis_or_skip()
    with TCPProxy("127.0.0.1", 6379) as proxy:
        yield proxy


@pytest.fixture
def redis_app(app, redis_proxy, monkeypatch):
    """The app with sessions, kv marks and cache generations in Redis behind the proxy."""
    url = f"redis://127.0.0.1:{redis_proxy.port}/15"
    monkeypatch.setattr(redis_client, "RETRY", 0.2)  # recovery within the test's patience
    monkeypatch.setattr(process_cache, "_redis_down_until", [0.0])  # no back-off left by an earlier test
    redis_client.reset()
    app.config.update(BARONG_REDIS_URL=url, BARONG_REDIS_TIMEOUT=TIMEOUT)
    for name in ("barong_redis", "barong_generation_redis"):
        app.extensions.pop(name, None)
    app.extensions["barong_session_store"] = sessions.RedisStore(url, TIMEOUT)
    yield app
    for name in ("barong_redis", "barong_generation_redis"):
        app.extensions.pop(name, None)
    app.extensions["barong_session_store"] = sessions.DatabaseStore()
    redis_client.reset()


def _timed(fn, *args, **kwargs):
    started = time.monotonic()
    resp = fn(*args, **kwargs)
    elapsed = time.monotonic() - started
    assert elapsed < HANG_GUARD, f"request took {elapsed:.1f} s"
    return resp


def _until(predicate, patience: float = 8.0):
    deadline = time.monotonic() + patience
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.1)


# ---- the proxy itself ----------------------------------------------------------------------

def test_the_proxy_forwards_hangs_cuts_and_restores(redis_proxy):
    """Does the proxy do what the fault tests rely on?"""
    r = redis.Redis(host="127.0.0.1", port=redis_proxy.port, db=15, socket_timeout=0.3, socket_connect_timeout=0.3,
                    retry=redis_client.options("redis://")["retry"])
    assert r.ping()
    redis_proxy.hang()
    with pytest.raises(redis.exceptions.TimeoutError):
        r.ping()  # accepted, nothing comes back
    redis_proxy.cut()
    with pytest.raises(redis.exceptions.ConnectionError):
        r.ping()  # refused
    redis_proxy.restore()
    assert r.ping()


# ---- hang / cut ----------------------------------------------------------------------------

@pytest.mark.parametrize("fault", ["hang", "cut"])
def test_login_answers_503_when_redis_is_out(client, make_user, redis_app, redis_proxy, fault):
    user = make_user()
    getattr(redis_proxy, fault)()
    resp = _timed(client.post, "/api/v2/barong/identity/sessions", json={"email": user.email,
                                                                        "password": "Tecohvi0-Strong"})
    assert resp.status_code == 503
    assert resp.get_json() == UNAVAILABLE
    assert resp.headers["Retry-After"]
    assert sessions.DatabaseStore().list_for_user(user.uid) == []  # nothing fell back to the database


@pytest.mark.parametrize("fault", ["hang", "cut"])
def test_cookie_requests_and_the_gateway_check_refuse_when_redis_is_out(client, make_user, redis_app, redis_proxy,
                                                                        fault):
    """A session made before the outage: the API, the gateway check and the pages refuse
    (503, never 200, never a hang), pages with the plain error page."""
    login_as(client, make_user())
    assert client.get(ME).status_code == 200
    getattr(redis_proxy, fault)()
    time.sleep(0.06)  # the cache generations' Redis counter is re-read every 50 ms
    for path in (ME, "/api/v2/auth/api/v2/resource/users/me", "/api/v2/auth/api/v2/peatio/account/balances"):
        resp = _timed(client.get, path)
        assert resp.status_code == 503, (path, resp.status_code, resp.get_data(as_text=True)[:200])
        assert resp.get_json() == UNAVAILABLE
        assert "Authorization" not in resp.headers
    page = _timed(client.get, "/accounts/profile")
    assert page.status_code == 503
    assert page.mimetype == "text/html"
    assert "briefly unavailable" in page.get_data(as_text=True)


def test_a_blackholed_redis_costs_the_timeout_once_then_fails_fast(client, make_user, redis_app, redis_proxy,
                                                                   monkeypatch):
    """The circuit breaker: after the first timed-out call the next ones do not wait."""
    monkeypatch.setattr(redis_client, "RETRY", 30.0)
    user = make_user()
    redis_proxy.hang()
    body = {"email": user.email, "password": "Tecohvi0-Strong"}
    assert _timed(client.post, "/api/v2/barong/identity/sessions", json=body).status_code == 503
    connections = redis_proxy.connections
    for _ in range(5):
        assert _timed(client.post, "/api/v2/barong/identity/sessions", json=body).get_json() == UNAVAILABLE
    assert redis_proxy.connections == connections  # answered without dialling Redis again


def test_requests_that_need_no_redis_keep_working(client, redis_app, redis_proxy):
    redis_proxy.hang()
    assert _timed(client.get, "/api/v2/barong/identity/ping").status_code == 200
    assert _timed(client.get, "/.well-known/jwks.json").status_code == 200


# ---- recovery ------------------------------------------------------------------------------

@pytest.mark.parametrize("fault", ["hang", "cut"])
def test_login_and_cookie_requests_work_again_after_restore(client, make_user, redis_app, redis_proxy, fault):
    user = make_user()
    getattr(redis_proxy, fault)()
    body = {"email": user.email, "password": "Tecohvi0-Strong"}
    assert _timed(client.post, "/api/v2/barong/identity/sessions", json=body).status_code == 503
    redis_proxy.restore()  # no restart, no reset of the breaker: it probes again by itself
    resp = _until(lambda: (r := client.post("/api/v2/barong/identity/sessions", json=body)).status_code == 201 and r)
    assert resp, "login did not recover"
    assert client.get(ME).get_json()["email"] == user.email
    assert len(sessions.store().list_for_user(user.uid)) == 1  # the session is in Redis again


def test_an_outage_is_logged_once_without_secrets(client, make_user, redis_app, redis_proxy, caplog):
    user = make_user()
    redis_proxy.cut()
    for _ in range(3):
        client.post("/api/v2/barong/identity/sessions", json={"email": user.email, "password": "Tecohvi0-Strong"})
    lines = [r.getMessage() for r in caplog.records if "unavailable" in r.getMessage()]
    assert len(lines) == 1
    assert "Tecohvi0" not in caplog.text and user.email not in caplog.text
