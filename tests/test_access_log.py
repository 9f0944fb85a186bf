"""barong.access_log (no secret in a log line) and barong.gunicorn_conf (JSON for requests
gunicorn refuses) as units; tests/live/test_log_secrets.py checks the real server's log."""
from __future__ import annotations

import datetime
import json
import logging

import pytest

from barong import access_log, gunicorn_conf
from barong.access_log import FILTERED, redact_atoms, redact_query, redact_text, redact_uri

JWT = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJyZXNldCIsImp0aSI6IjEyMyJ9.c2lnbmF0dXJlLXNpZ25hdHVyZQ"


@pytest.mark.parametrize("name", ["token", "reset_token", "confirmation_token", "reset_password_token",
                                  "whitelink_token", "password", "confirm_password", "old_password", "otp_code",
                                  "code", "totp_code", "csrf_token", "captcha_response", "X-Auth-Signature",
                                  "jwt", "secret"])
def test_secret_query_values_are_filtered(name):
    assert redact_query(f"lang=en&{name}=s3cr3t&page=2") == f"lang=en&{name}={FILTERED}&page=2"
    assert redact_uri(f"/accounts/x?{name}=s3cr3t") == f"/accounts/x?{name}={FILTERED}"
    assert "s3cr3t" not in redact_text(f'"GET /a?b=1&{name}=s3cr3t HTTP/1.1" 200')


def test_other_query_values_and_paths_are_kept():
    assert redact_uri("/api/v2/barong/admin/users?page=2&limit=10&email=a@b.c") == \
        "/api/v2/barong/admin/users?page=2&limit=10&email=a@b.c"
    assert redact_uri("/api/v2/barong/identity/ping") == "/api/v2/barong/identity/ping"
    assert redact_query("") == "" and redact_query(None) is None


def test_jwts_and_password_digests_are_filtered_anywhere():
    digest = "$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA"
    bcrypt = "$2a$12$" + "a" * 53
    text = redact_text(f"Bearer {JWT} and (password_digest)s: '{digest}' or {bcrypt}")
    assert JWT not in text and digest not in text and bcrypt not in text
    assert redact_uri(f"/x/{JWT}") == f"/x/{FILTERED}"


def _atoms(raw_uri, headers, referer="-"):
    environ = {"REQUEST_METHOD": "GET", "RAW_URI": raw_uri, "SERVER_PROTOCOL": "HTTP/1.1",
               "PATH_INFO": raw_uri.split("?")[0], "QUERY_STRING": raw_uri.partition("?")[2],
               "HTTP_REFERER": referer, "HTTP_COOKIE": "_barong_session=c00kie"}
    return {"r": f"GET {raw_uri} HTTP/1.1", "q": environ["QUERY_STRING"], "f": referer, "U": environ["PATH_INFO"],
            **{f"{{{k.lower()}}}i": v for k, v in headers.items()},
            "{set-cookie}o": "_barong_session=c00kie; HttpOnly",
            **{f"{{{k.lower()}}}e": v for k, v in environ.items()}}


def test_access_atoms_hold_no_secret():
    headers = {"Cookie": "_barong_session=c00kie", "X-CSRF-Token": "csrfv4lue", "X-Auth-Signature": "s1gn4ture",
               "X-Auth-Apikey": "k1d", "Authorization": f"Bearer {JWT}", "User-Agent": "ua"}
    atoms = redact_atoms(_atoms("/accounts/password_reset?token=t0ken&lang=en", headers,
                                referer="http://h/accounts/confirmation?confirmation_token=t0ken"))
    dump = json.dumps(atoms)
    for secret in ("t0ken", "c00kie", "csrfv4lue", "s1gn4ture", JWT):
        assert secret not in dump
    assert atoms["r"] == f"GET /accounts/password_reset?token={FILTERED}&lang=en HTTP/1.1"
    assert atoms["f"] == f"http://h/accounts/confirmation?confirmation_token={FILTERED}"
    assert atoms["{user-agent}i"] == "ua"


def test_gunicorn_logger_formats_redacted_lines():
    from gunicorn.config import Config

    cfg = Config()
    cfg.set("accesslog", "-")
    cfg.set("access_log_format", '%(h)s "%(r)s" %(s)s "%(f)s" %({cookie}i)s %({x-csrf-token}i)s')
    logger = access_log.RedactingLogger(cfg)
    records = []

    class Keep(logging.Handler):
        def emit(self, record):
            records.append(self.format(record))

    keep = Keep()
    keep.addFilter(access_log.RedactFilter())
    logger.access_log.addHandler(keep)

    class Resp:
        status, sent, headers = "200 OK", 10, [("Set-Cookie", "_barong_session=c00kie")]

    class Req:
        headers = [("COOKIE", "_barong_session=c00kie"), ("X-CSRF-TOKEN", "csrfv4lue")]

    environ = {"REQUEST_METHOD": "GET", "RAW_URI": "/accounts/confirmation?token=t0ken", "SERVER_PROTOCOL":
               "HTTP/1.1", "PATH_INFO": "/accounts/confirmation", "QUERY_STRING": "token=t0ken",
               "REMOTE_ADDR": "127.0.0.1", "HTTP_REFERER": "/accounts/password_reset?reset_token=t0ken"}
    logger.access(Resp(), Req(), environ, datetime.timedelta(seconds=0))
    assert records, "nothing logged"
    line = records[-1]
    assert "t0ken" not in line and "c00kie" not in line and "csrfv4lue" not in line
    assert f"/accounts/confirmation?token={FILTERED}" in line


def test_filter_redacts_messages_and_tracebacks():
    records = []

    class Keep(logging.Handler):
        def emit(self, record):
            records.append(self.format(record))

    log = logging.getLogger("barong.test_access_log")
    log.propagate = False
    keep = Keep()
    log.addHandler(keep)
    access_log.install(log)
    try:
        try:
            raise ValueError(f"INSERT … password_digest='$argon2id$v=19$m=65536,t=3,p=4$abc$def' {JWT}")
        except ValueError:
            log.exception("Error handling request /accounts/password_reset?token=%s", "t0ken")
    finally:
        log.removeHandler(keep)
    assert records and "t0ken" not in records[0] and JWT not in records[0] and "$argon2id$" not in records[0]
    assert "Error handling request /accounts/password_reset?token=[FILTERED]" in records[0]


def test_gunicorn_refusals_answer_json():
    from gunicorn.http import errors

    assert gunicorn_conf.classify(errors.LimitRequestLine(9000, 4094))[::2] == (414, "server.uri_too_long")
    assert gunicorn_conf.classify(errors.LimitRequestHeaders("too many"))[::2] == (431, "server.headers_too_large")
    assert gunicorn_conf.classify(errors.InvalidRequestLine("x"))[::2] == (400, "server.bad_request")
    assert gunicorn_conf.classify(RuntimeError())[::2] == (500, "server.internal_error")
    raw = gunicorn_conf.json_error_response(414, "URI Too Long", "server.uri_too_long").decode()
    head, body = raw.split("\r\n\r\n", 1)
    assert head.startswith("HTTP/1.1 414 URI Too Long") and "Content-Type: application/json" in head
    assert json.loads(body) == {"errors": ["server.uri_too_long"]}
    assert f"Content-Length: {len(body)}" in head


def test_make_run_uses_the_config():
    from barong.serve import gunicorn_argv

    argv = gunicorn_argv("127.0.0.1", "8000", "2")
    assert argv[argv.index("--config") + 1] == "python:barong.gunicorn_conf"
    assert gunicorn_conf.logger_class == "barong.access_log.RedactingLogger"
