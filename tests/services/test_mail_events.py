"""The mailer as a consumer of the outbox events: language, templates, failures and retries."""
from __future__ import annotations

import json
import socket

import pytest

from barong.extensions import db
from barong.models import OutboxEvent
from barong.services.accounts import labels
from barong.services.delivery import events, mail, outbox
from barong.services.infra import unit_of_work
from tests.helpers import DEFAULT_PASSWORD, login_as, token_from_mail

SIGNUP = "/api/v2/barong/identity/users"


@pytest.fixture
def not_first(make_user):
    """Signups below are not the first registration (that one becomes a superadmin, no mail)."""
    return make_user()


def _closed_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def _row(name: str, uid: str | None = None) -> OutboxEvent:
    db.session.expire_all()
    rows = db.session.query(OutboxEvent).filter_by(name=name).order_by(OutboxEvent.id.desc()).all()
    for row in rows:
        record = json.loads(row.payload)["record"]
        if uid is None or (record.get("user") or {}).get("uid") == uid:
            return row
    raise AssertionError(f"no {name} event")


def _signup(client, email, **extra):
    resp = client.post(SIGNUP, json={"email": email, "password": DEFAULT_PASSWORD, **extra})
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()["uid"]


def test_confirmation_mail_in_english_is_rendered_from_the_outbox_row(app, client, mailbox, not_first):
    uid = _signup(client, "en@example.com")
    [msg] = mailbox("en@example.com")
    assert msg["Subject"] == "Registration Confirmation"
    assert msg["From"] == "Barong <noreply@barong.io>"
    row = _row("system.user.email.confirmation.token", uid)
    assert token_from_mail(msg) == json.loads(row.payload)["record"]["token"]
    text = msg.get_body(preferencelist=("plain",)).get_content()
    assert f"{app.config['BARONG_DOMAIN']}/accounts/confirmation?token=" in text and "&lang=en" in text
    html = msg.get_body(preferencelist=("html",)).get_content()
    assert "Confirm email" in html and "token=" in html
    assert (row.mail_state, row.mail_attempts, row.mail_error) == ("sent", 1, None)


def test_russian_user_gets_russian_confirmation_but_no_login_mail(app, client, mailbox, not_first):
    """Barong skips mails without a template in the user's language (no RU "New Login")."""
    uid = _signup(client, "ru@example.com", data=json.dumps({"language": "ru"}))
    [msg] = mailbox("ru@example.com")
    assert msg["Subject"] == "Подтверждение Регистрации"
    text = msg.get_body(preferencelist=("plain",)).get_content()
    assert "Подтвердите ваш адрес ru@example.com" in text and "&lang=ru" in text
    client.delete("/api/v2/barong/identity/sessions")
    resp = client.post("/api/v2/barong/identity/sessions", json={"email": "ru@example.com",
                                                                 "password": DEFAULT_PASSWORD})
    assert resp.status_code == 201
    assert len(mailbox("ru@example.com")) == 1
    row = _row("system.session.create", uid)
    assert row.mail_state is None  # no mail for this event, nothing left to retry


def test_english_user_gets_new_login_mail_with_ip_and_browser(app, client, mailbox, make_user):
    user = make_user()
    login_as(client, user)
    [msg] = [m for m in mailbox(user.email) if m["Subject"] == "New Login"]
    text = msg.get_body(preferencelist=("plain",)).get_content()
    assert "IP address: 127.0.0.1" in text and "pytest" in text
    assert "127.0.0.1" in msg.get_body(preferencelist=("html",)).get_content()


def test_label_mails_follow_the_label_events(app, mailbox, make_user):
    user = make_user()
    seen = len(mailbox(user.email))  # the factory's email label sent one already
    label = labels.add(user, "document", "verified", scope="private")
    unit_of_work.commit()
    [created] = mailbox(user.email)[seen:]
    assert created["Subject"] == "Documents verified"  # Barong said "Phone verified" for every label
    assert "Congratulations, your document is verified." in created.get_body(preferencelist=("plain",)).get_content()
    labels.update(label, value="rejected")
    unit_of_work.commit()
    [updated] = [m for m in mailbox(user.email) if m["Subject"] == "Documents rejected"]
    body = updated.get_body(preferencelist=("plain",)).get_content()
    assert "Unfortunately your document was rejected." in body and "Your level:" in body


def test_smtp_down_keeps_the_mail_pending_until_retry(app, client, mailbox, not_first):
    """The request succeeds, the mail is retried later (`flask mail retry`) with the same token."""
    app.config.update(BARONG_SMTP_HOST="127.0.0.1", BARONG_SMTP_PORT=_closed_port())
    uid = _signup(client, "smtp@example.com")
    row = _row("system.user.email.confirmation.token", uid)
    assert (row.mail_state, row.mail_attempts) == ("pending", 1) and "Connection" in row.mail_error
    assert mailbox("smtp@example.com") == []
    assert app.test_cli_runner().invoke(args=["mail", "retry"]).output.strip() == "sent 0"  # still down
    assert _row("system.user.email.confirmation.token", uid).mail_attempts == 2

    app.config["BARONG_SMTP_HOST"] = None  # SMTP "back" (.eml files)
    assert app.test_cli_runner().invoke(args=["mail", "retry"]).output.strip() == "sent 1"
    [msg] = mailbox("smtp@example.com")
    row = _row("system.user.email.confirmation.token", uid)
    assert token_from_mail(msg) == json.loads(row.payload)["record"]["token"]
    assert (row.mail_state, row.mail_attempts, row.mail_error) == ("sent", 3, None)
    assert app.test_cli_runner().invoke(args=["mail", "retry"]).output.strip() == "sent 0"  # never twice
    assert len(mailbox("smtp@example.com")) == 1


def test_mail_fails_after_max_attempts_and_can_be_retried(app, client, mailbox, not_first, monkeypatch):
    monkeypatch.setattr(mail, "MAIL_MAX_ATTEMPTS", 2)
    app.config.update(BARONG_SMTP_HOST="127.0.0.1", BARONG_SMTP_PORT=_closed_port())
    uid = _signup(client, "fail@example.com")
    mail.retry_pending()
    row = _row("system.user.email.confirmation.token", uid)
    assert (row.mail_state, row.mail_attempts) == ("failed", 2)
    assert mail.retry_pending() == 0 and outbox.stats()["mail_failed"] == 1
    app.config["BARONG_SMTP_HOST"] = None
    outbox.retry(row.event_id)
    db.session.commit()
    row = _row("system.user.email.confirmation.token", uid)
    assert (row.mail_state, row.mail_attempts, row.mail_due_at, row.mail_claimed_until) == ("pending", 0, None, None)
    assert mail.deliver_due() == 1 and len(mailbox("fail@example.com")) == 1  # the deliverer's next sweep


def test_mail_of_a_process_that_died_after_commit_is_sent_by_the_next_sweep(app, mailbox, make_user):
    """The row starts mail_state=pending in the change's transaction; whoever sweeps next
    (a server's deliverer, the dispatcher's loop) sends it."""
    user = make_user()
    events.emit("system.user.password.reset.token",
                {"user": events.user_summary(user), "domain": "http://x", "token": "T0K"})
    db.session.commit()
    app.extensions.pop("barong_after_commit", None)  # the process "dies": hooks never run
    row = _row("system.user.password.reset.token")
    assert (row.mail_state, row.mail_attempts, row.mail_uid) == ("pending", 0, user.uid)
    from barong.events.dispatcher import Dispatcher
    from barong.events.publisher import Publisher

    assert Dispatcher(app, publisher=Publisher("127.0.0.1", 1)).retry_mail() == 1  # the dispatcher loop's sweep
    [msg] = [m for m in mailbox(user.email) if m["Subject"] == "Password Reset"]
    assert token_from_mail(msg) == "T0K"
    assert _row("system.user.password.reset.token").mail_state == "sent"
    assert mail.deliver_due() == 0 and mail.retry_pending() == 0


def test_events_without_mail_have_no_mail_state(app):
    event = events.emit("model.user.created", {"uid": "x"})
    unit_of_work.commit()
    assert _row("model.user.created").mail_state is None and mail.sends_mail(event.name) is False
    assert mail.sends_mail("system.user.email.confirmation.token")
