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
