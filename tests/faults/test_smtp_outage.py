"""SMTP cut or hung behind a TCP proxy in front of an aiosmtpd sink, in-process, with the
server's background deliverer (BARONG_MAIL_DELIVERY=background): signup, login and
password-reset requests answer as fast as with SMTP up — they never dial it — the
outbox rows stay pending, and once SMTP is back the deliverer thread sends each mail
exactly once (no operator action). `flask mail retry` stops at a dead server. The
real-server version is in tests/faults/test_live_outages.py."""
from __future__ import annotations

import time

import pytest

from barong.extensions import db
from barong.models import OutboxEvent
from barong.services.delivery import mail, mail_worker
from tests.faults.tcp_proxy import TCPProxy
from tests.helpers import DEFAULT_PASSWORD
from tests.live.harness import SmtpSink

API = "/api/v2/barong/identity"
FAST = 1.0  # a request's bound: SMTP_TIMEOUT below is 3 s, and a request never waits on SMTP
SMTP_TIMEOUT = 3.0


@pytest.fixture
def sink():
    with SmtpSink() as s:
        yield s


@pytest.fixture
def smtp_proxy(app, sink):
    with TCPProxy(sink.host, sink.port) as proxy:
        app.config.update(BARONG_SMTP_HOST="127.0.0.1", BARONG_SMTP_PORT=proxy.port, BARONG_SMTP_TIMEOUT=0.5)
        yield proxy


@pytest.fixture
def background(app, smtp_proxy, monkeypatch):
    """As a server runs: requests only write the outbox, the deliverer thread sends; its
    retry waits short (the test's patience) but keep their shape."""
    mail_worker.shutdown()
    app.config.update(BARONG_MAIL_DELIVERY="background", BARONG_MAIL_POLL_INTERVAL=0.2,
                      BARONG_SMTP_TIMEOUT=SMTP_TIMEOUT)
    monkeypatch.setattr(mail, "SMTP_BACKOFF", 0.5)
    monkeypatch.setattr(mail, "_retry_delay", lambda attempts: 0.5)
    yield
    mail_worker.shutdown(timeout=SMTP_TIMEOUT * 3)


def _timed(fn, *args, **kwargs):
    started = time.monotonic()
    resp = fn(*args, **kwargs)
    elapsed = time.monotonic() - started
    assert elapsed < FAST, f"{args[0]} took {elapsed:.2f} s"
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


def _wait_rows_settled(patience=15.0):
    deadline = time.monotonic() + patience
    while any(r.mail_state == "pending" for r in _rows()):
        assert time.monotonic() < deadline, [(r.name, r.mail_state, r.mail_attempts) for r in _rows()]
        time.sleep(0.1)


@pytest.mark.parametrize("fault", ["hang", "cut"])
def test_signup_login_and_reset_answer_fast_and_the_mails_follow_once_smtp_is_back(client, make_user, app, sink,
                                                                                  smtp_proxy, background, fault):
    user = make_user()  # the first registration would be a superadmin without a confirmation mail
    _wait_rows_settled()
    sink.clear()
    getattr(smtp_proxy, fault)()
    resp = _timed(client.post, f"{API}/users", json={"email": "late@example.com", "password": DEFAULT_PASSWORD})
    assert resp.status_code == 201, resp.get_json()
    client.delete(f"{API}/sessions")
    assert _timed(client.post, f"{API}/sessions", json={"email": user.email,
                                                        "password": DEFAULT_PASSWORD}).status_code == 201
    assert _timed(client.post, f"{API}/users/password/generate_code", json={"email": user.email}).status_code == 201
    assert _timed(client.get, "/api/v2/barong/resource/users/me").status_code == 200
    time.sleep(SMTP_TIMEOUT + 0.5)  # the deliverer tried and failed (hang: timed out) meanwhile
    assert sink.messages == []
    rows = _rows()
    assert {r.name for r in rows if r.mail_state == "pending"} >= {
        "system.user.email.confirmation.token", "system.session.create", "system.user.password.reset.token"}
    assert any(r.mail_attempts >= 1 and r.mail_error for r in rows)
    smtp_proxy.restore()
    [msg] = sink.wait_for(to="late@example.com", subject="Registration Confirmation", timeout=15)
    sink.wait_for(to=user.email, subject="Password Reset", timeout=15)
    sink.wait_for(to=user.email, subject="New Login", timeout=15)
    _wait_rows_settled()
    assert {r.mail_state for r in _rows()} <= {"sent", None}
    assert _retry(app) == "sent 0"  # nothing left
    time.sleep(0.3)
    for to, subject in (("late@example.com", "Registration Confirmation"), (user.email, "Password Reset"),
                        (user.email, "New Login")):
        assert len([m for m in _mails_to(sink, to) if m["Subject"] == subject]) == 1, (to, subject)


def test_a_hung_smtp_costs_no_request_anything_and_the_deliverer_dials_once_per_backoff(client, make_user, app,
                                                                                      sink, smtp_proxy,
                                                                                      background):
    make_user()
    _wait_rows_settled()
    sink.clear()
    before = smtp_proxy.connections
    smtp_proxy.hang()
    for n in range(3):
        resp = _timed(client.post, f"{API}/users", json={"email": f"wait{n}@example.com",
                                                          "password": DEFAULT_PASSWORD})
        assert resp.status_code == 201
    time.sleep(0.3)
    assert smtp_proxy.connections == before + 1  # the deliverer's one try hangs; the requests never dialled
    assert [r.mail_state for r in _rows("system.user.email.confirmation.token")] == ["pending"] * 3
    smtp_proxy.restore()
    sink.wait_for(count=3, timeout=20)
    _wait_rows_settled()
    assert sorted(str(m["To"]) for m in sink.messages) == [f"wait{n}@example.com" for n in range(3)]


def test_the_retry_command_sends_pending_mail_once(client, make_user, app, sink, smtp_proxy):
    """`flask mail retry` (inline delivery, as the suite runs): the mail a dead server left
    pending goes out once."""
    make_user()
    sink.clear()
    smtp_proxy.cut()
    resp = client.post(f"{API}/users", json={"email": "cli@example.com", "password": DEFAULT_PASSWORD})
    assert resp.status_code == 201
    [row] = _rows("system.user.email.confirmation.token")
    assert row.mail_state == "pending" and row.mail_attempts == 1 and row.mail_error
    smtp_proxy.restore()
    assert _retry(app) == "sent 1"
    sink.wait_for(to="cli@example.com")
    assert _retry(app) == "sent 0"
    time.sleep(0.2)
    assert len(_mails_to(sink, "cli@example.com")) == 1


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
