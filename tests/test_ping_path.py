"""Issue 18, the generic path of a request like `identity/ping`: the access line redacts only
the atoms its format names (and still every secret), and a request that needs no session,
CSRF, language, rate limit or database touches none of them."""
from __future__ import annotations

import datetime
import logging

from gunicorn.config import Config
from gunicorn.glogging import SafeAtoms

from barong import access_log

JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJlLXZhbHVl"
FORMATS = [
    Config().access_log_format,  # gunicorn's default, what `make run` uses
    '%(h)s "%(r)s" %(s)s "%(f)s" "%(a)s" %({cookie}i)s %({X-CSRF-Token}i)s %({set-cookie}o)s %({location}o)s '
    '%({query_string}e)s %({raw_uri}e)s %({http_referer}e)s %({nope}i)s %(q)s %(U)s %(m)s %(H)s %(b)s %(zz)s '
    '%({user-agent}i)s %({authorization}i)s %({wsgi.version}e)s',
]


class _Resp:
    status, sent = "200 OK", 16
    headers = [("Set-Cookie", "_barong_session=c00kie; HttpOnly"), ("Location", '/x?token=t0ken&a="q"'),
               ("Vary", "Cookie"), ("X-Content-Type-Options", "nosniff")]


class _Req:
    headers = [("COOKIE", "_barong_session=c00kie"), ("X-CSRF-TOKEN", "csrfv4lue"),
               ("USER-AGENT", f'ua "quoted" {JWT}'), ("AUTHORIZATION", f"Bearer {JWT}")]


ENVIRON = {"REQUEST_METHOD": "GET", "RAW_URI": "/accounts/confirmation?token=t0ken&lang=ru&code=1",
           "SERVER_PROTOCOL": "HTTP/1.1", "PATH_INFO": "/accounts/confirmation", "QUERY_STRING": "token=t0ken&lang=ru",
           "REMOTE_ADDR": "127.0.0.1", "HTTP_REFERER": "/accounts/password_reset?reset_token=t0ken",
           "HTTP_USER_AGENT": f'ua "quoted" {JWT}', "HTTP_COOKIE": "_barong_session=c00kie", "wsgi.version": (1, 0)}


def _logger(fmt: str):
    cfg = Config()
    cfg.set("accesslog", "-")
    cfg.set("access_log_format", fmt)
    logger = access_log.RedactingLogger(cfg)
    lines = []

    class Keep(logging.Handler):
        def emit(self, record):
            lines.append(self.format(record))

    keep = Keep()
    keep.addFilter(access_log.RedactFilter())
    logger.access_log.handlers = [keep]
    return logger, lines


def test_access_line_is_the_eagerly_redacted_one():
    """Lazy redaction (RedactedAtoms) writes the line that redacting every atom first wrote."""
    request_time = datetime.timedelta(seconds=1, microseconds=5)
    for fmt in FORMATS:
        logger, lines = _logger(fmt)
        logger.now = lambda: "[04/Dec/2026:01:00:00 +0000]"
        logger.access(_Resp(), _Req(), ENVIRON, request_time)
        atoms = logger.atoms(_Resp(), _Req(), ENVIRON, request_time)  # redact_atoms over all of them
        assert lines == [access_log.redact_text(fmt % SafeAtoms(atoms))]
        for secret in ("t0ken", "c00kie", "csrfv4lue", JWT):
            assert secret not in lines[0]
        assert '"ua \\"quoted\\" [FILTERED]"' in lines[0]


def test_access_line_redacts_only_the_atoms_its_format_names(monkeypatch):
    calls = []
    real = access_log.redact_atom
    monkeypatch.setattr(access_log, "redact_atom", lambda k, v: (calls.append(k), real(k, v))[1])
    logger, lines = _logger(Config().access_log_format)
    logger.access(_Resp(), _Req(), ENVIRON, datetime.timedelta(seconds=0))
    assert lines and "t0ken" not in lines[0]
    # each named atom once (not ~40: every header and the environ; not again when the handler formats)
    assert sorted(calls) == sorted(["h", "l", "u", "t", "r", "s", "b", "f", "a"])


# ---- the app side: what a ping touches --------------------------------------------------------

B = "/api/v2/barong"


def _answer(resp):
    return resp.status_code, list(resp.headers.items()), resp.get_data()


def test_ping_touches_no_session_csrf_language_limit_or_database(app, monkeypatch):
    """A cookieless ping: no signing serializer, no ORM session or DB connection, no limiter
    state, no cookie; Vary: Cookie and the security headers as before."""
    from flask.sessions import SecureCookieSessionInterface
    from sqlalchemy import event

    from barong.extensions import db, login_manager

    client = app.test_client()
    assert client.get(f"{B}/identity/ping").status_code == 200  # warm: restrictions cached
    db.session.remove()  # the test's own app context holds one
    touched = []
    real = db.session.registry.createfunc
    monkeypatch.setattr(db.session.registry, "createfunc", lambda: (touched.append("orm session"), real())[1])
    monkeypatch.setattr(SecureCookieSessionInterface, "get_signing_serializer",
                        lambda *a: touched.append("session serializer"))
    monkeypatch.setattr(login_manager, "_set_cookie", lambda *a: touched.append("remember cookie"))
    remove = db.session.remove
    monkeypatch.setattr(db.session, "remove", lambda: (touched.append("orm teardown"), remove())[1])
    vary = app.response_class.vary  # parsing the absent header into a set, and back
    monkeypatch.setattr(app.response_class, "vary",
                        property(lambda self: (touched.append("Vary parsed"), vary.__get__(self))[1]))
    connect = lambda *a: touched.append("db connection")  # noqa: E731
    event.listen(db.engine, "checkout", connect)
    try:
        resp = client.get(f"{B}/identity/ping")
    finally:
        event.remove(db.engine, "checkout", connect)
    assert _answer(resp) == (200, [("Content-Type", "application/json"), ("Content-Length", "16"),
                                   ("X-Content-Type-Options", "nosniff"), ("Cache-Control", "no-store"),
                                   ("Vary", "Cookie")], b'{"ping":"pong"}\n')
    assert touched == []


def test_empty_session_hooks_skip_only_when_nothing_to_do(app):
    """Flask-Login's remember hook and the ORM teardown run as before when they have work:
    REMEMBER_COOKIE_REFRESH_EACH_REQUEST writes `_remember` into the session (Flask then deletes
    the empty, modified session's cookie), and an ORM session in the registry is removed."""
    from barong.extensions import db

    client = app.test_client()
    client.set_cookie(app.config["SESSION_COOKIE_NAME"], "x")  # an invalid cookie: an empty session
    app.config["REMEMBER_COOKIE_REFRESH_EACH_REQUEST"] = True
    try:
        resp = client.get(f"{B}/identity/ping")
    finally:
        app.config.pop("REMEMBER_COOKIE_REFRESH_EACH_REQUEST")
    cookie = resp.headers.get("Set-Cookie", "")
    assert cookie.startswith(app.config["SESSION_COOKIE_NAME"] + "=;") and "Max-Age=0" in cookie
    assert resp.headers.getlist("Vary") == ["Cookie"]
    assert "Set-Cookie" not in client.get(f"{B}/identity/ping").headers  # without the setting: nothing

    removed = []
    original = db.session.remove
    db.session()  # the test's app context holds an ORM session: the teardown must remove it
    try:
        db.session.remove = lambda: (removed.append(1), original())[1]
        with app.test_request_context(f"{B}/identity/ping"):
            pass
        with app.app_context():
            pass
    finally:
        del db.session.remove
    assert removed  # the app context's teardown ran Flask-SQLAlchemy's remove


def test_vary_cookie_joins_an_existing_vary(app):
    from barong import request_path

    resp = app.response_class("x")
    request_path.vary_cookie(resp)
    assert resp.headers.getlist("Vary") == ["Cookie"]
    resp = app.response_class("x", headers={"Vary": "Accept-Encoding"})
    request_path.vary_cookie(resp)
    assert resp.headers.getlist("Vary") == ["Accept-Encoding, Cookie"]
    request_path.vary_cookie(resp)
    assert resp.headers.getlist("Vary") == ["Accept-Encoding, Cookie"]


def test_security_headers_as_before(app):
    """One pass over the headers: what a response set itself is kept, HTML gets its policy,
    the gateway check nosniff only (tests/security covers each rule; this, the order)."""
    client = app.test_client()
    page = client.get("/accounts/login")
    policy = ["X-Content-Type-Options", "Content-Security-Policy", "X-Frame-Options", "Referrer-Policy",
              "Cache-Control"]
    assert [k for k, _ in page.headers.items() if k in policy] == policy
    assert page.headers["Content-Security-Policy"].startswith("default-src 'self'")
    gateway = client.get("/api/v2/auth/api/v2/barong/resource/users/me")
    assert gateway.headers["X-Content-Type-Options"] == "nosniff" and "Cache-Control" not in gateway.headers
