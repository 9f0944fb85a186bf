"""Mail off the request path (issue 18): requests only write the outbox; the background
deliverer claims each mail (compare-and-set + lease), sends it once, keeps each user's
mails in order, backs off after a failure, and sends again a mail whose deliverer died."""
from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest

from barong.extensions import db
from barong.models import OutboxEvent, utcnow
from barong.services.delivery import events, mail, mail_worker
from barong.services.infra import unit_of_work
from tests.helpers import DEFAULT_PASSWORD

API = "/api/v2/barong/identity"


def _rows(name=None, uid=None):
    db.session.expire_all()
    q = db.session.query(OutboxEvent).filter(OutboxEvent.mail_state.isnot(None))
    if name:
        q = q.filter_by(name=name)
    if uid:
        q = q.filter_by(mail_uid=uid)
    return q.order_by(OutboxEvent.id).all()


def _reset_mail(user, token):
    """A password-reset mail for `user` written outside a request, its delivery left to a sweep."""
    events.emit("system.user.password.reset.token",
                {"user": events.user_summary(user), "domain": "http://x", "token": token})
    db.session.commit()
    from flask import current_app, g

    current_app.extensions.pop("barong_after_commit", None)  # no inline delivery: the sweep sends it
    g.pop("_after_commit", None)  # (pytest-flask keeps a request context open)


def _tokens(mailbox, address):
    from tests.helpers import token_from_mail

    return [token_from_mail(m) for m in mailbox(address) if m["Subject"] == "Password Reset"]


@pytest.fixture
def background(app):
    """BARONG_MAIL_DELIVERY=background, as a server runs; the deliverer thread stopped after."""
    app.config.update(BARONG_MAIL_DELIVERY="background", BARONG_MAIL_POLL_INTERVAL=0.2)
    mail_worker.shutdown()
    yield app
    mail_worker.shutdown()


def _wait(predicate, timeout=10.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_a_request_only_writes_the_outbox_and_the_thread_sends(client, make_user, mailbox, background,
                                                             monkeypatch):
    make_user()  # not the first registration (that one has no confirmation mail)
    senders = []
    real = mail.deliver
    monkeypatch.setattr(mail, "deliver", lambda msg, force=False: (senders.append(threading.current_thread().name),
                                                                    real(msg, force)))
    resp = client.post(f"{API}/users", json={"email": "bg@example.com", "password": DEFAULT_PASSWORD})
    assert resp.status_code == 201
    _wait(lambda: len(mailbox("bg@example.com")) == 1)
    assert set(senders) == {"barong-mail"}  # never the request's thread
    [row] = _rows("system.user.email.confirmation.token")
    assert (row.mail_state, row.mail_attempts, row.mail_claimed_until, row.mail_uid) == \
        ("sent", 1, None, resp.get_json()["uid"])


def test_the_thread_sweeps_rows_no_request_woke_it_for(app, make_user, mailbox, background):
    user = make_user()
    _reset_mail(user, "SWEPT")
    mail_worker.start(app)  # as gunicorn's post_worker_init does
    _wait(lambda: _tokens(mailbox, user.email) == ["SWEPT"])


def test_a_claimed_mail_is_not_claimed_again(app, make_user):
    user = make_user()
    _reset_mail(user, "T")
    [row] = _rows("system.user.password.reset.token")
    now = utcnow()
    assert mail._claim(row.id, 0, now) is True
    assert mail._claim(row.id, 0, now) is False  # a second deliverer read the same row: loses
    assert mail._claim(row.id, 1, now) is False  # even with the new count: the lease holds
    row = _rows("system.user.password.reset.token")[0]
    assert row.mail_attempts == 1 and row.mail_claimed_until > now
    assert mail.deliver_due() == 0 and mail.retry_pending() == 0  # in flight elsewhere: not even forced


def test_a_deliverer_that_died_mid_send_leaves_the_mail_to_the_next_once_its_lease_expires(app, make_user,
                                                                                        mailbox):
    user = make_user()
    _reset_mail(user, "AGAIN")
    [row] = _rows("system.user.password.reset.token")
    assert mail._claim(row.id, 0, utcnow())  # claimed, then the process died: nothing recorded
    assert mail.deliver_due() == 0 and _tokens(mailbox, user.email) == []
    db.session.query(OutboxEvent).filter_by(id=row.id).update(
        {"mail_claimed_until": utcnow() - timedelta(seconds=1)})
    db.session.commit()
    assert mail.deliver_due() == 1
    assert _tokens(mailbox, user.email) == ["AGAIN"]
    row = _rows("system.user.password.reset.token")[0]
    assert (row.mail_state, row.mail_attempts, row.mail_claimed_until) == ("sent", 2, None)


def test_concurrent_deliverers_send_each_mail_once(app, make_user, mailbox):
    users = [make_user() for _ in range(3)]
    for n in range(12):
        _reset_mail(users[n % 3], f"C{n}")
    sent, errors = [], []

    def deliverer():
        with app.app_context():
            try:
                sent.append(mail.deliver_due(limit=4))
            except Exception as exc:  # pragma: no cover - shown by the assertion below
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=deliverer) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == []
    assert sum(sent) == 12
    for n, user in enumerate(users):
        assert _tokens(mailbox, user.email) == [f"C{k}" for k in range(n, 12, 3)]  # once each, in order
    assert {r.mail_state for r in _rows("system.user.password.reset.token")} == {"sent"}


def test_a_users_mails_go_out_in_order_a_failing_one_holds_the_later(app, make_user, mailbox, monkeypatch):
    user, other = make_user(), make_user()
    _reset_mail(user, "FIRST")
    _reset_mail(user, "SECOND")
    _reset_mail(other, "OTHER")
    real = mail.deliver

    def refuse_first(msg, force=False):
        if "FIRST" in msg.get_body(preferencelist=("plain",)).get_content():
            raise RuntimeError("template broken")
        real(msg, force)

    monkeypatch.setattr(mail, "deliver", refuse_first)
    assert mail.deliver_due() == 1  # only the other user's
    assert _tokens(mailbox, other.email) == ["OTHER"] and _tokens(mailbox, user.email) == []
    first, second = _rows(uid=user.uid)[-2:]
    assert (first.mail_state, first.mail_attempts, second.mail_state, second.mail_attempts) == \
        ("pending", 1, "pending", 0)
    assert first.mail_due_at > utcnow()  # backing off
    assert mail.deliver_due() == 0  # not due yet, and SECOND waits behind it
    monkeypatch.setattr(mail, "deliver", real)
    assert mail.retry_pending() == 2  # forced: FIRST, then SECOND
    assert _tokens(mailbox, user.email) == ["FIRST", "SECOND"]


def test_a_failed_attempt_backs_off_then_the_sweep_retries(app, make_user, mailbox, monkeypatch):
    user = make_user()
    _reset_mail(user, "LATER")
    monkeypatch.setattr(mail, "deliver", lambda msg, force=False: (_ for _ in ()).throw(RuntimeError("down")))
    assert mail.deliver_due() == 0
    [row] = _rows("system.user.password.reset.token")
    assert (row.mail_state, row.mail_attempts, row.mail_claimed_until) == ("pending", 1, None)
    assert "RuntimeError: down" in row.mail_error
    delay = (row.mail_due_at - utcnow()).total_seconds()
    assert 0 < delay <= 2
    monkeypatch.undo()
    assert mail.deliver_due() == 0  # not due yet
    db.session.query(OutboxEvent).filter_by(id=row.id).update({"mail_due_at": utcnow() - timedelta(seconds=1)})
    db.session.commit()
    assert mail.deliver_due() == 1 and _tokens(mailbox, user.email) == ["LATER"]
    row = _rows("system.user.password.reset.token")[0]
    assert (row.mail_state, row.mail_attempts, row.mail_error, row.mail_due_at) == ("sent", 2, None, None)


def test_retry_delays_grow_to_a_minute():
    assert [mail._retry_delay(n) for n in (1, 2, 3, 4, 5, 6, 7, 30)] == [2, 4, 8, 16, 32, 60, 60, 60]


def test_a_process_without_deliverer_outside_requests_sends_at_the_commit(app, make_user, mailbox, background):
    """CLI commands and scripts have no deliverer thread to wake: they send at their commit."""
    user = make_user()
    mail_worker.shutdown()  # (make_user ran in pytest-flask's request context: it started one)

    def script():  # a thread of its own: no request context, like `flask …` commands
        with app.app_context():
            events.emit("system.user.password.reset.token",
                        {"user": events.user_summary(user), "domain": "http://x", "token": "CLI"})
            unit_of_work.commit()
            db.session.remove()

    t = threading.Thread(target=script)
    t.start()
    t.join(10)
    assert _tokens(mailbox, user.email) == ["CLI"]
    assert mail_worker.running() is None
