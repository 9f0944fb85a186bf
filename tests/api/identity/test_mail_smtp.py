"""Mail over real SMTP (a local aiosmtpd server), and a failing SMTP server not losing the
signup: the user is committed, the outbox row keeps mail_state=pending, `flask mail retry`
sends it later."""
from __future__ import annotations

import email
import socket
from email import policy

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from barong.extensions import db
from barong.models import OutboxEvent
from tests.helpers import DEFAULT_PASSWORD, token_from_mail

from .support import API, user_by_email


class Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        msg = email.message_from_bytes(envelope.original_content, policy=policy.default)
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), msg, session.authenticated))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def authenticator(server, session, envelope, mechanism, auth_data):
    ok = auth_data.login == b"mailer" and auth_data.password == b"s3cret"
    return AuthResult(success=ok)


@pytest.fixture
def smtp(app):
    """A running SMTP server; the app is configured to use it."""
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port(), authenticator=authenticator,
                            auth_require_tls=False, auth_required=False)
    controller.start()
    app.config.update(BARONG_SMTP_HOST="127.0.0.1", BARONG_SMTP_PORT=controller.port)
    inbox.controller = controller
    yield inbox
    controller.stop()


@pytest.fixture
def someone(make_user):
    return make_user()


def confirmation_rows():
    db.session.expire_all()
    return db.session.query(OutboxEvent).filter_by(name="system.user.email.confirmation.token").all()


def test_signup_mail_goes_over_smtp(client, someone, smtp, mailbox, app):
    files_before = len(mailbox())
    resp = client.post(f"{API}/users", json={"email": "smtp@example.com", "password": DEFAULT_PASSWORD})
    assert resp.status_code == 201
    [(mail_from, rcpt, msg, _)] = [m for m in smtp.messages if m[2]["Subject"] == "Registration Confirmation"]
    assert rcpt == ["smtp@example.com"] and mail_from == app.config["BARONG_SENDER_EMAIL"]
    assert msg["To"] == "smtp@example.com"
    assert msg.get_body(preferencelist=("plain",)) is not None and msg.get_body(preferencelist=("html",)) is not None
    assert token_from_mail(msg)
    assert len(mailbox()) == files_before  # no .eml file when SMTP is configured
    [row] = confirmation_rows()
    assert row.mail_state == "sent"


def test_smtp_login_when_user_configured(client, someone, smtp, app):
    app.config.update(BARONG_SMTP_USER="mailer", BARONG_SMTP_PASSWORD="s3cret")
    resp = client.post(f"{API}/users/password/generate_code", json={"email": someone.email})
    assert resp.status_code == 201
    [(_, _, msg, authenticated)] = [m for m in smtp.messages if m[2]["Subject"] == "Password Reset"]
    assert authenticated


def test_smtp_down_keeps_the_signup_and_retry_sends(client, someone, app, mailbox):
    dead_port = free_port()
    app.config.update(BARONG_SMTP_HOST="127.0.0.1", BARONG_SMTP_PORT=dead_port)
    resp = client.post(f"{API}/users", json={"email": "later@example.com", "password": DEFAULT_PASSWORD})
    assert resp.status_code == 201, resp.get_json()
    user = user_by_email("later@example.com")
    assert user is not None and user.state == "pending"
    [row] = confirmation_rows()
    assert row.mail_state == "pending" and row.mail_error and row.mail_attempts == 1
    # the server comes back: `flask mail retry` delivers the pending mail
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=dead_port)
    controller.start()
    try:
        result = app.test_cli_runner().invoke(args=["mail", "retry"])
        assert result.exit_code == 0, result.output
        assert [m[2]["Subject"] for m in inbox.messages if m[1] == ["later@example.com"]] == \
            ["Registration Confirmation"]
        [row] = confirmation_rows()
        assert row.mail_state == "sent"
        # a second retry sends nothing more
        app.test_cli_runner().invoke(args=["mail", "retry"])
        assert len([m for m in inbox.messages if m[1] == ["later@example.com"]]) == 1
    finally:
        controller.stop()
    # the mailed token works
    msg = [m[2] for m in inbox.messages if m[1] == ["later@example.com"]][0]
    resp = client.post(f"{API}/users/email/confirm_code", json={"token": token_from_mail(msg)})
    assert resp.status_code == 201


def test_smtp_refusal_is_not_an_api_error(client, someone, app):
    class Refuse(Inbox):
        async def handle_DATA(self, server, session, envelope):  # noqa: N802
            return "554 no thanks"

    controller = Controller(Refuse(), hostname="127.0.0.1", port=free_port())
    controller.start()
    app.config.update(BARONG_SMTP_HOST="127.0.0.1", BARONG_SMTP_PORT=controller.port)
    try:
        resp = client.post(f"{API}/users", json={"email": "refused@example.com", "password": DEFAULT_PASSWORD})
        assert resp.status_code == 201
        assert user_by_email("refused@example.com") is not None
        [row] = confirmation_rows()
        assert row.mail_state == "pending" and "554" in row.mail_error
    finally:
        controller.stop()
