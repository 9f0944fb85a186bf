"""barong.granian_entry: what `BARONG_SERVER=granian` does around the app that gunicorn did —
the proxy's scheme from loopback only, the redacted access line, deliverers once per process —
and barong.serve choosing the server by BARONG_SERVER."""
from __future__ import annotations

import logging
import os

import pytest

from barong import granian_entry, serve
from barong.granian_entry import GranianEntry


class Recorder:
    """A WSGI app that remembers the environ it was called with."""

    def __init__(self):
        self.config = {}
        self.environ = None

    def __call__(self, environ, start_response):
        self.environ = environ
        start_response("302 FOUND", [("Content-Length", "7"), ("Location", "/accounts/login")])
        return [b"moved.."]


def _call(entry, **environ):
    base = {"REQUEST_METHOD": "GET", "PATH_INFO": "/accounts", "QUERY_STRING": "",
            "SERVER_PROTOCOL": "HTTP/1.1", "wsgi.url_scheme": "http", "REMOTE_ADDR": "127.0.0.1"}
    statuses = []
    body = entry(base | environ, lambda status, headers, exc_info=None: statuses.append(status))
    return statuses, b"".join(body)


@pytest.mark.parametrize("peer, header, scheme", [
    ("127.0.0.1", "https", "https"),
    ("::1", "https", "https"),
    ("127.0.0.1", "gopher", "http"),        # not a scheme: ignored
    ("203.0.113.9", "https", "http"),       # not from a trusted proxy: ignored
])
def test_forwarded_proto_is_trusted_only_from_loopback(peer, header, scheme):
    app = Recorder()
    statuses, body = _call(GranianEntry(app), REMOTE_ADDR=peer, HTTP_X_FORWARDED_PROTO=header)
    assert statuses == ["302 FOUND"] and body == b"moved.."
    assert app.environ["wsgi.url_scheme"] == scheme


def test_the_access_line_has_gunicorns_format_and_no_secret(caplog):
    entry = GranianEntry(Recorder())
    granian_entry.access_log.propagate = True  # let caplog see it for this test
    try:
        with caplog.at_level(logging.INFO, logger="barong.access"):
            _call(entry, PATH_INFO="/api/v2/barong/identity/users/password/confirm_code",
                  QUERY_STRING="reset_password_token=abc123secret&lang=en",
                  HTTP_REFERER="https://ex.test/accounts/password_reset?reset_token=ref-secret",
                  HTTP_USER_AGENT="curl/8")
    finally:
        granian_entry.access_log.propagate = False
    [line] = [r.getMessage() for r in caplog.records if r.name == "barong.access"]
    assert line.startswith("127.0.0.1 - - [")
    assert ('"GET /api/v2/barong/identity/users/password/confirm_code?reset_password_token=[FILTERED]&lang=en '
            'HTTP/1.1" 302 7 "https://ex.test/accounts/password_reset?reset_token=[FILTERED]" "curl/8"') in line
    assert "abc123secret" not in line and "ref-secret" not in line


def test_a_quote_in_a_header_cannot_forge_a_field_and_the_handler_filters_the_line(caplog):
    entry = GranianEntry(Recorder())
    jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJlLXZhbHVl"
    granian_entry.access_log.propagate = True
    try:
        with caplog.at_level(logging.INFO, logger="barong.access"):
            _call(entry, HTTP_USER_AGENT='curl" 200 999 "forged', HTTP_REFERER="-")
    finally:
        granian_entry.access_log.propagate = False
    [record] = [r for r in caplog.records if r.name == "barong.access"]
    assert record.getMessage().endswith('"-" "curl\\" 200 999 \\"forged"')
    # the stdout handler carries the RedactFilter, as gunicorn's access log does
    [handler] = granian_entry.access_log.handlers
    record.msg, record.args = f"agent {jwt}", None
    assert handler.filter(record) and jwt not in record.getMessage()


def test_deliverers_start_once_per_process(monkeypatch):
    from barong.services.delivery import mail_worker, webhooks

    started = []
    monkeypatch.setattr(mail_worker, "start", lambda app: started.append(("mail", os.getpid())))
    monkeypatch.setattr(webhooks, "start", lambda app: started.append(("webhooks", os.getpid())))
    app = Recorder()
    app.config = {"BARONG_MAIL_DELIVERY": "background", "BARONG_WEBHOOK_DELIVERY": "background"}
    entry = GranianEntry(app)
    assert started == []  # not at import: granian loads the target before its workers serve
    for _ in range(3):
        _call(entry)
    assert started == [("mail", os.getpid()), ("webhooks", os.getpid())]


def test_inline_delivery_starts_no_deliverer(monkeypatch):
    from barong.services.delivery import mail_worker

    monkeypatch.setattr(mail_worker, "start", lambda app: pytest.fail("started"))
    app = Recorder()
    app.config = {"BARONG_MAIL_DELIVERY": "inline"}
    _call(GranianEntry(app))


@pytest.mark.parametrize("value, program", [(None, "gunicorn"), ("", "gunicorn"), ("gunicorn", "gunicorn"),
                                            ("Granian", "granian")])
def test_barong_server_chooses_the_web_server(value, program):
    env = {} if value is None else {"BARONG_SERVER": value}
    argv = serve.web_argv("127.0.0.1", "9000", "2", env=env)
    assert os.path.basename(argv[0]) == program
    if program == "granian":
        assert argv[-1] == "barong.granian_app:app"
        assert argv[argv.index("--port") + 1] == "9000" and argv[argv.index("--workers") + 1] == "2"
    else:
        assert "127.0.0.1:9000" in argv


def test_an_unknown_barong_server_is_a_configuration_error(capsys):
    with pytest.raises(SystemExit) as exc:
        serve.web_argv("127.0.0.1", "9000", "2", env={"BARONG_SERVER": "uwsgi"})
    assert exc.value.code == 2
    assert "BARONG_SERVER must be one of gunicorn, granian" in capsys.readouterr().err
