"""The generic request path (barong/request_path.py): what was taken off every request is
really gone, and what it did still happens where it applies."""
from __future__ import annotations

from flask import Flask

from barong import request_path
from barong.extensions import db, limiter
from tests.helpers import DEFAULT_PASSWORD

B = "/api/v2/barong"


def test_limiter_check_runs_only_in_limited_views(app):
    assert limiter._check_request_limit not in app.before_request_funcs[None]


def test_rate_limit_still_refuses_with_its_headers(app, client, make_user):
    app.config["BARONG_RATELIMIT_ENABLED"] = True
    user = make_user()
    statuses = [client.post(f"{B}/identity/sessions", json={"email": user.email, "password": "Wrong-1x"}).status_code
                for _ in range(21)]
    assert statuses[:20] == [401] * 20
    resp = client.post(f"{B}/identity/sessions", json={"email": user.email, "password": DEFAULT_PASSWORD})
    assert resp.status_code == 429
    assert resp.get_json() == {"errors": ["identity.session.too_many_requests"]}
    assert resp.headers["X-RateLimit-Limit"] == "20" and resp.headers["Retry-After"]
    ping = client.get(f"{B}/identity/ping")  # no limit: no limiter headers
    assert ping.status_code == 200 and "X-RateLimit-Limit" not in ping.headers


def test_request_without_cookie_gets_the_empty_session_without_a_serializer(app, monkeypatch):
    calls = []
    interface = app.session_interface
    assert isinstance(interface, request_path.LeanCookieSessionInterface)
    monkeypatch.setattr(interface, "_serializers", {})
    real = request_path.SecureCookieSessionInterface.get_signing_serializer
    monkeypatch.setattr(request_path.SecureCookieSessionInterface, "get_signing_serializer",
                        lambda self, a: (calls.append(1), real(self, a))[1])
    client = app.test_client()
    resp = client.get(f"{B}/identity/ping")
    assert resp.status_code == 200 and "Set-Cookie" not in resp.headers
    assert resp.headers["Vary"] == "Cookie"  # Flask-Login still reads the (empty) session, as before
    assert calls == []


def test_flask_session_and_csrf_still_work(app):
    """The site's CSRF token lives in Flask's signed cookie (`barong_ui`): one serializer,
    built once, signs it and reads it back; a POST without the token is still refused."""
    import re

    app.config["WTF_CSRF_ENABLED"] = True
    client = app.test_client()
    page = client.get("/accounts/login")
    assert page.status_code == 200
    assert client.get_cookie(app.config["SESSION_COOKIE_NAME"]) is not None
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.get_data(as_text=True)).group(1)
    refused = client.post("/accounts/login", data={"email": "x@example.com", "password": "Wrong-1x"})
    assert refused.status_code == 400
    accepted = client.post("/accounts/login", data={"email": "x@example.com", "password": "Wrong-1x",
                                                   "csrf_token": token})
    assert accepted.status_code != 400  # past the CSRF check: the login's own refusal
    assert len(app.session_interface._serializers) == 1


def test_ensure_sync_asks_once_per_function(monkeypatch):
    app = Flask(__name__)
    asked = []
    monkeypatch.setattr(app, "ensure_sync", lambda f: (asked.append(f), f)[1])

    @app.get("/s")
    def s():
        return "sync"

    request_path._memoized_ensure_sync(app)
    client = app.test_client()
    assert client.get("/s").data == b"sync" and client.get("/s").data == b"sync"
    assert asked.count(app.view_functions["s"]) == 1


def test_request_that_never_used_the_orm_opens_no_session(app, client, monkeypatch):
    assert client.get(f"{B}/identity/ping").status_code == 200  # warm: restrictions cached
    db.session.remove()  # the test's own app context holds one
    opened = []
    real = db.session.registry.createfunc
    monkeypatch.setattr(db.session.registry, "createfunc", lambda: (opened.append(1), real())[1])
    assert client.get(f"{B}/identity/ping").status_code == 200
    assert opened == []
    assert client.get(f"{B}/identity/nothing").status_code == 404  # the refusal path too
    assert opened == []
