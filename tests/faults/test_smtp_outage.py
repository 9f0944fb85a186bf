"""SMTP cut or hung behind a TCP proxy in front of an aiosmtpd sink: signup, login and
password-reset requests still succeed (bounded by BARONG_SMTP_TIMEOUT), the outbox rows
keep mail_state=pending, and after restore `flask mail retry` delivers each mail exactly
once. In-process; the real-server version is in tests/faults/test_live_outages.py."""
from __future__ import annotations

import time

import pytest

from barong.extensions import db
from barong.models import OutboxEvent
from barong.services.delivery import mail
from tests.faults.tcp_proxy import TCPProxy
from tests.helpers import DEFAULT_PASSWORD
from tests.live.harness import SmtpSink

API = "/api/v2/barong/identity"
HANG_GUARD = 10.0  # gunicorn kills a worker after 30 s; a request must be far from that


@pytest.fixture
def sink():
    with SmtpSink() as s:
        yield s


@pytest.fixture
def smtp_proxy(app, sink):
    with TCPProxy(sink.host, sink.port) as proxy:
        app.config.update(BARONG_SMTP_HOST="127.0.0.1", BARONG_SMTP_PORT=proxy.port, BARONG_SMTP_TIMEOUT=0.5)
        yield proxy


def _timed(fn, *args, **kwargs):
    started = time.monotonic()
    resp = fn(*args, **kwargs)
    assert time.monotonic() - started < HANG_GUARD
    return resp


def _rows(name=None):
    db.session.expire_all()
    q = db.session.query(OutboxEvent).filter(OutboxEvent.mail_state.isnot(None)).order_by(OutboxEvent.id)
    return q.filter_by(name=name).all() if name else q.all()


def _retry(app) -> str:
    result = app.test_cli_runner().invoke(args=["mail", "retry"])
    assert result.exit_code == 0, result.output
    return result.output.strip()


def _mails_to(sink, address):
    return [m for m in sink.messages if address in str(m["To"])]


@pytest.mark.parametrize("fault", ["hang", "cut"])
def test_signup_succeeds_and_the_mail_waits_for_the_retry(client, make_user, app, sink, smtp_proxy, fault):
    make_user()  # the first registration would be a superadmin without a confirmation mail
    sink.clear()  # its label mail
    getattr(smtp_proxy, fault)()
    resp = _timed(client.post, f"{API}/users", json={"email": "late@example.com", "password": DEFAULT_PASSWORD})
    assert resp.status_code == 201, resp.get_json()
    [row] = _rows("system.user.email.confirmation.token")
    assert row.mail_state == "pending" and row.mail_attempts == 1 and row.mail_error
    assert sink.messages == []
    smtp_proxy.restore()
    assert _retry(app) == "sent 1"
    [msg] = sink.wait_for(to="late@example.com")
    assert msg["Subject"] == "Registration Confirmation"
    assert _rows("system.user.email.confirmation.token")[0].mail_state == "sent"
    assert _retry(app) == "sent 0"  # exactly once
    time.sleep(0.2)
    assert len(_mails_to(sink, "late@example.com")) == 1


@pytest.mark.parametrize("fault", ["hang", "cut"])
def test_login_and_reset_succeed_while_smtp_is_out(client, make_user, app, sink, smtp_proxy, fault):
    user = make_user()
    sink.clear()
    getattr(smtp_proxy, fault)()
    resp = _timed(client.post, f"{API}/sessions", json={"email": user.email, "password": DEFAULT_PASSWORD})
    assert resp.status_code == 201
    resp = _timed(client.post, f"{API}/users/password/generate_code", json={"email": user.email})
    assert resp.status_code == 201
    pending = {r.name for r in _rows() if r.mail_state == "pending"}
    assert "system.user.password.reset.token" in pending
    assert sink.messages == []
    smtp_proxy.restore()
    sent = int(_retry(app).split()[-1])
    assert sent == len(pending)
    sink.wait_for(to=user.email, subject="Password Reset")
    assert all(r.mail_state in ("sent", None) for r in _rows())
    assert _retry(app) == "sent 0"


def test_a_hung_smtp_costs_one_request_the_timeout_then_mails_wait(client, make_user, app, sink, smtp_proxy):
    """After a transport failure the request path stops dialling SMTP for a while
    (mail.SMTP_BACKOFF); those mails are pending too, and the retry sends every one once."""
    make_user()
    sink.clear()
    before = smtp_proxy.connections
    smtp_proxy.hang()
    for n in range(3):
        resp = _timed(client.post, f"{API}/users", json={"email": f"wait{n}@example.com",
                                                          "password": DEFAULT_PASSWORD})
        assert resp.status_code == 201
    assert smtp_proxy.connections == before + 1  # the second and third signups did not wait on SMTP
    rows = _rows("system.user.email.confirmation.token")
    assert [r.mail_state for r in rows] == ["pending"] * 3
    smtp_proxy.restore()
    assert _retry(app) == "sent 3"
    sink.wait_for(count=3)
    assert sorted(str(m["To"]) for m in sink.messages) == [f"wait{n}@example.com" for n in range(3)]


def test_the_retry_stops_at_a_dead_server_instead_of_waiting_on_every_mail(client, make_user, app, sink,
                                                                        smtp_proxy, monkeypatch):
    make_user()
    smtp_proxy.cut()
    for n in range(3):
        assert client.post(f"{API}/users", json={"email": f"stop{n}@example.com",
                                                 "password": DEFAULT_PASSWORD}).status_code == 201
    attempts = [r.mail_attempts for r in _rows("system.user.email.confirmation.token")]
    smtp_proxy.hang()  # accepted, never answered: each try would cost BARONG_SMTP_TIMEOUT
    tried = []
    real = mail._send_smtp
    monkeypatch.setattr(mail, "_send_smtp", lambda cfg, msg: (tried.append(msg["To"]), real(cfg, msg)))
    assert _retry(app) == "sent 0"
    assert len(tried) == 1
    after = [r.mail_attempts for r in _rows("system.user.email.confirmation.token")]
    assert after == [attempts[0] + 1, *attempts[1:]]
