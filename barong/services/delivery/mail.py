"""Mail delivery: SMTP when BARONG_SMTP_HOST is set, else `.eml` files under instance/mail/.

The mailer is an event consumer (events.subscribe): the mails Barong's postmaster
sends are rendered from Jinja templates (`templates/mail/<template>.{html,txt}`) in the
user's language (EN/RU); an event without a template for that language sends nothing.
Delivery state is kept on the outbox row (`mail_state`); failed deliveries are retried
by `flask mail retry` (and by the events dispatcher).
"""
from __future__ import annotations

import json
import logging
import smtplib
import socket
import time
import uuid
from datetime import timedelta
from email.message import EmailMessage
from email.utils import formataddr, make_msgid
from pathlib import Path
from urllib.parse import urlencode

from flask import current_app, render_template
from jinja2 import TemplateNotFound
from sqlalchemy import or_

from barong.extensions import db
from barong.models import OutboxEvent, User, utcnow
from barong.services.delivery import document_mails, label_mails
from barong.services.infra import caches

log = logging.getLogger(__name__)

#: a failing mail is retried (about once a minute by the dispatcher) this many times, then `failed`
MAIL_MAX_ATTEMPTS = 30
#: a mail whose first, in-process delivery has not run after this many seconds is sent by the retry
FIRST_DELIVERY_GRACE = 60

#: a label mail's subject depends on the label (services/label_mails): {language: subject(record)}
_LABEL_SUBJECTS = {lang: (lambda record, lang=lang: label_mails.subject(record, lang))
                   for lang in label_mails.LANGUAGES}

_DOCUMENT_SUBJECTS = {lang: (lambda record, lang=lang: document_mails.subject(record, lang))
                      for lang in label_mails.LANGUAGES}

#: event name → (template, {language: subject, or subject(record)})
MAILS = {
    "system.user.email.confirmation.token": ("email_confirmation",
                                             {"EN": "Registration Confirmation", "RU": "Подтверждение Регистрации"}),
    "system.user.password.reset.token": ("password_reset", {"EN": "Password Reset", "RU": "Сброс Пароля"}),
    "model.label.created": ("label", _LABEL_SUBJECTS),
    "model.label.updated": ("label", _LABEL_SUBJECTS),
    # a per-document KYC decision: re-upload request or final rejection (services/document_mails)
    "model.document.updated": ("document_review", _DOCUMENT_SUBJECTS),
    # the document-expiry watcher (services/verification/kyc_expiry): 30 days before, once
    "system.document.expiring": ("document_expiring", {"EN": "Your document expires soon",
                                                       "RU": "Срок действия документа скоро истекает"}),
    "system.session.create": ("session_create", {"EN": "New Login"}),
    "system.user.account.locked": ("account_locked", {"EN": "Account locked", "RU": "Аккаунт заблокирован"}),
}


#: template → (site page, the original's query name for the token). The link carries the
#: token twice: `token=` (CONTRACT §4) and the original's name, which the OpenDAX front
#: end (baseapp) reads; the site page accepts either.
TOKEN_LINKS = {
    "email_confirmation": ("/accounts/confirmation", "confirmation_token"),
    "password_reset": ("/accounts/password_reset", "reset_token"),
}


def token_link(template: str, token: str, lang: str) -> str:
    """The mail's link for `template` (`<domain><page>?token=<T>&<name>=<T>&lang=<lang>`)."""
    page, name = TOKEN_LINKS[template]
    query = urlencode({"token": token, name: token, "lang": lang})
    return f"{current_app.config['BARONG_DOMAIN']}{page}?{query}"


def build_message(to: str, subject: str, text: str, html: str | None) -> EmailMessage:
    cfg = current_app.config
    msg = EmailMessage()
    msg["From"] = formataddr((cfg["BARONG_SENDER_NAME"], cfg["BARONG_SENDER_EMAIL"]))
    msg["To"] = to
    msg["Subject"] = subject
    msg["Message-ID"] = make_msgid(domain="barong")
    msg.set_content(text)
    if html:
        msg.add_alternative(html, subtype="html")
    return msg


#: after a transport failure (refused, reset, timed out) deliveries on the request path
#: skip SMTP this long: a hung server costs one request BARONG_SMTP_TIMEOUT, not every
#: request; those mails stay `pending` and `flask mail retry` (or the dispatcher) sends them
SMTP_BACKOFF = 15.0
_smtp_down_until = [0.0]
#: a server down or hung (not a refused recipient or a rejected login)
_TRANSPORT_ERRORS = (TimeoutError, ConnectionError, socket.gaierror, smtplib.SMTPServerDisconnected,
                     smtplib.SMTPConnectError)


class SMTPBackingOff(ConnectionError):
    """The SMTP server failed a moment ago; this delivery was not attempted."""


def reset_backoff() -> None:
    """Forget an SMTP failure (the test suite, between tests)."""
    _smtp_down_until[0] = 0.0


caches.register(reset_backoff)


def _send_smtp(cfg, msg: EmailMessage) -> None:
    # BARONG_SMTP_TIMEOUT bounds every connect and reply: a hung server costs the request
    # that long at most, and the mail stays `pending` for `flask mail retry`
    timeout = cfg.get("BARONG_SMTP_TIMEOUT") or 5.0
    with smtplib.SMTP(cfg["BARONG_SMTP_HOST"], cfg["BARONG_SMTP_PORT"], timeout=timeout) as smtp:
        try:
            smtp.starttls()
        except smtplib.SMTPNotSupportedError:
            pass
        if cfg.get("BARONG_SMTP_USER"):
            smtp.login(cfg["BARONG_SMTP_USER"], cfg.get("BARONG_SMTP_PASSWORD") or "")
        smtp.send_message(msg)


def deliver(msg: EmailMessage, force: bool = False) -> None:
    """Send over SMTP or write an .eml file; raises on SMTP failure, and at once (SMTPBackingOff)
    within SMTP_BACKOFF of a transport failure unless `force` (the retry)."""
    cfg = current_app.config
    if cfg.get("BARONG_SMTP_HOST"):
        if not force and time.monotonic() < _smtp_down_until[0]:
            raise SMTPBackingOff("SMTP server unavailable a moment ago; left for the retry")
        try:
            _send_smtp(cfg, msg)
        except _TRANSPORT_ERRORS:
            _smtp_down_until[0] = time.monotonic() + SMTP_BACKOFF
            raise
        _smtp_down_until[0] = 0.0
        return
    folder = Path(cfg["BARONG_INSTANCE_PATH"]) / "mail"
    folder.mkdir(parents=True, exist_ok=True)
    name = f"{time.time_ns()}-{uuid.uuid4().hex[:8]}.eml"  # sortable by send time
    (folder / name).write_bytes(bytes(msg))


def render_for_event(event: OutboxEvent) -> EmailMessage | None:
    spec = MAILS.get(event.name)
    if spec is None:
        return None
    template, subjects = spec
    payload = json.loads(event.payload)
    record = payload.get("record") or {}
    uid = (record.get("user") or {}).get("uid") if isinstance(record.get("user"), dict) else record.get("uid")
    user = db.session.query(User).filter_by(uid=uid).first() if uid else None
    if user is None:
        return None
    if template == "document_review" and not document_mails.mailed(record):
        return None  # an approval: the label mail says what changed
    lang = user.language if user.language in subjects else None
    if lang is None:
        return None  # Barong skips mails without a template in the user's language
    subject = subjects[lang](record) if callable(subjects[lang]) else subjects[lang]
    ctx = dict(record=record, changes=payload.get("changes"), user=user, lang=lang.lower(),
               domain=current_app.config["BARONG_DOMAIN"], event=event.name,
               logo=current_app.config.get("BARONG_SMTP_LOGO_LINK"), subject=subject)
    if template == "label":
        ctx["label_text"] = label_mails.text(record, lang)
    if template == "document_review":
        ctx["doc"] = document_mails.context(record, lang)
    if template in TOKEN_LINKS:
        ctx["link"] = token_link(template, str(record.get("token") or ""), lang.lower())
    try:
        text = render_template(f"mail/{template}.txt", **ctx)
    except TemplateNotFound:
        log.error("mail template %s missing", template)
        return None
    try:
        html = render_template(f"mail/{template}.html", **ctx)
    except TemplateNotFound:
        html = None
    return build_message(user.email, subject, text, html)


def sends_mail(name: str) -> bool:
    """Whether the mailer consumes this event (its outbox row then starts `mail_state=pending`)."""
    return name in MAILS


def handle_event(event: OutboxEvent, force: bool = False) -> None:
    """Event consumer: send the mail this event calls for, and record the outcome on the
    outbox row (`mail_state` sent / pending (retried later) / failed after
    MAIL_MAX_ATTEMPTS; null when the event sends no mail, e.g. no template in the
    user's language). `force`: try SMTP even while backing off (the retry)."""
    if event.name not in MAILS or event.mail_state == "sent":
        return
    event.mail_attempts = (event.mail_attempts or 0) + 1
    try:
        msg = render_for_event(event)
        if msg is None:
            event.mail_state = None
            return
        deliver(msg, force=force)
    except Exception as exc:  # SMTP down, template broken: keep the event, retry later
        log.warning("mail for event %s not delivered (attempt %s): %s", event.event_id, event.mail_attempts, exc)
        event.mail_error = f"{type(exc).__name__}: {exc}"[:1024]
        event.mail_state = "failed" if event.mail_attempts >= MAIL_MAX_ATTEMPTS else "pending"
        return
    event.mail_state, event.mail_error = "sent", None


def retry_pending(limit: int = 100, grace: int = FIRST_DELIVERY_GRACE) -> int:
    """Re-send mails still `pending`: those whose delivery failed, and those whose
    in-process first delivery never ran (process died after the commit) once they are
    `grace` seconds old. Commits; returns how many were sent.

    Rows are locked (`FOR UPDATE SKIP LOCKED` on PostgreSQL) so two retry loops never
    send the same mail twice. A transport failure (server down or hung) ends the run: the
    rest wait for the next one instead of costing BARONG_SMTP_TIMEOUT each."""
    started = time.monotonic()
    cutoff = utcnow() - timedelta(seconds=grace)
    query = (db.session.query(OutboxEvent)
             .filter(OutboxEvent.mail_state == "pending",
                     or_(OutboxEvent.mail_attempts > 0, OutboxEvent.created_at <= cutoff))
             .order_by(OutboxEvent.id).limit(limit))
    if db.engine.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    sent = 0
    for event in query.all():
        handle_event(event, force=True)
        sent += event.mail_state == "sent"
        if event.mail_state != "sent" and _smtp_down_until[0] > started:
            break
    db.session.commit()
    return sent
