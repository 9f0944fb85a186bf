"""Mail delivery: SMTP when BARONG_SMTP_HOST is set, else `.eml` files under instance/mail/.

The mailer is an event consumer (events.subscribe): the mails Barong's postmaster
sends are rendered from Jinja templates (`templates/mail/<template>.{html,txt}`) in the
user's language (EN/RU); an event without a template for that language sends nothing.
Delivery state is kept on the outbox row (`mail_state`).

Off the request path: a request only writes the outbox row (`mail_state=pending`, in its
own transaction); `deliver_due` sends it from the background deliverer
(services/delivery/mail_worker.py: a thread in each server process, woken by the commit),
so a slow or hung SMTP server costs a request nothing. Delivery is at least once:

* a deliverer **claims** a row before sending it — a compare-and-set UPDATE on
  `mail_attempts` that also sets `mail_claimed_until` (a lease) — so two workers or hosts
  never send the same mail under normal operation; a process that dies mid-send leaves
  the lease to expire, then another deliverer sends the mail again;
* a failed attempt leaves the row `pending` with `mail_due_at` pushed back (2, 4, 8 … 60 s),
  `failed` after MAIL_MAX_ATTEMPTS; `flask mail retry` sends every pending mail now;
* per user, mails go out in the order they were written: a row is not claimed while an
  earlier pending row to the same user (`mail_uid`) exists, so a failing mail holds the
  user's later mails until it is sent or `failed`.
"""
from __future__ import annotations

import json
import logging
import smtplib
import socket
import time
import uuid
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import formataddr, make_msgid
from pathlib import Path
from urllib.parse import urlencode

from flask import current_app, render_template
from jinja2 import TemplateNotFound
from sqlalchemy import and_, exists, or_, select, update
from sqlalchemy.orm import aliased

from barong.extensions import db
from barong.models import OutboxEvent, User, utcnow
from barong.services.delivery import document_mails, label_mails
from barong.services.infra import caches

log = logging.getLogger(__name__)

#: a failing mail is tried again after 2, 4, 8 … at most RETRY_MAX_DELAY seconds, this many times, then `failed`
MAIL_MAX_ATTEMPTS = 30
RETRY_MAX_DELAY = 60
#: mails one deliverer pass claims at most
BATCH_SIZE = 50

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
    # a correct login from a network the user never approved (services/accounts/networks.py)
    "system.user.network.approval": ("network_approval", {"EN": "Sign-in from a new network",
                                                          "RU": "Вход из новой сети"}),
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


#: after a transport failure (refused, reset, timed out) a deliverer does not dial SMTP
#: again for this long (the mails stay `pending`); `flask mail retry` dials at once
SMTP_BACKOFF = 5.0
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
    # BARONG_SMTP_TIMEOUT bounds every connect and reply: a hung server costs the deliverer
    # that long at most per reply, and the mail stays `pending` for the next attempt
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
    within SMTP_BACKOFF of a transport failure unless `force` (`flask mail retry`)."""
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


def recipient_uid(record: dict) -> str | None:
    """The uid of the user a mail-sending event's record is about (`record.user.uid` or `record.uid`)."""
    if not isinstance(record, dict):
        return None
    user = record.get("user")
    uid = user.get("uid") if isinstance(user, dict) else record.get("uid")
    return uid if isinstance(uid, str) else None


def render_for_event(event: OutboxEvent) -> EmailMessage | None:
    spec = MAILS.get(event.name)
    if spec is None:
        return None
    template, subjects = spec
    from barong.services.delivery.events import payload_of

    payload = payload_of(event)  # sealed fields (the new-network links' tokens) opened
    record = payload.get("record") or {}
    uid = recipient_uid(record)
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


def _retry_delay(attempts: int) -> float:
    return float(min(RETRY_MAX_DELAY, 2 ** max(1, attempts)))


def lease_seconds() -> float:
    """How long a claim holds: well past the longest send (each SMTP reply is bounded by
    BARONG_SMTP_TIMEOUT), so only a dead deliverer's claim expires."""
    timeout = current_app.config.get("BARONG_SMTP_TIMEOUT") or 5.0
    return max(60.0, 10 * float(timeout))


def _candidates(limit: int, force: bool, ids, now: datetime) -> list[tuple[int, int]]:
    """(id, mail_attempts) of pending mails that may be claimed now, oldest first: not
    claimed by a live deliverer, due (unless `force`), and the oldest pending one of their user."""
    t = OutboxEvent.__table__
    earlier = aliased(OutboxEvent.__table__)
    conds = [t.c.mail_state == "pending",
             or_(t.c.mail_claimed_until.is_(None), t.c.mail_claimed_until < now),
             ~exists().where(and_(earlier.c.mail_uid == t.c.mail_uid, earlier.c.mail_state == "pending",
                                  earlier.c.id < t.c.id))]
    if not force:
        conds.append(or_(t.c.mail_due_at.is_(None), t.c.mail_due_at <= now))
    if ids is not None:
        conds.append(t.c.id.in_(list(ids)))
    query = select(t.c.id, t.c.mail_attempts).where(*conds).order_by(t.c.id).limit(limit)
    return [(row.id, row.mail_attempts) for row in db.session.execute(query)]


def _claim(event_id: int, seen_attempts: int, now: datetime) -> bool:
    """Compare-and-set: the row is ours iff nobody claimed it since we read it. Commits, so
    the claim is visible to every other deliverer before we dial SMTP."""
    t = OutboxEvent.__table__
    result = db.session.execute(
        update(t).where(t.c.id == event_id, t.c.mail_state == "pending", t.c.mail_attempts == seen_attempts,
                        or_(t.c.mail_claimed_until.is_(None), t.c.mail_claimed_until < now))
        .values(mail_attempts=seen_attempts + 1, mail_claimed_until=now + timedelta(seconds=lease_seconds())))
    db.session.commit()
    return result.rowcount == 1


def _finish(event_id: int, attempts: int, state: str | None, error: str | None) -> None:
    t = OutboxEvent.__table__
    due = utcnow() + timedelta(seconds=_retry_delay(attempts)) if state == "pending" else None
    db.session.execute(update(t).where(t.c.id == event_id, t.c.mail_attempts == attempts)
                       .values(mail_state=state, mail_error=error, mail_due_at=due, mail_claimed_until=None))
    db.session.commit()


def _send_claimed(event_id: int, attempts: int, force: bool) -> str | None:
    """Render and send one claimed mail and record the outcome; returns the new mail_state
    (`sent`, `pending` for a later attempt, `failed`, or None: no mail for this event —
    e.g. no template in the user's language)."""
    event = db.session.get(OutboxEvent, event_id, populate_existing=True)
    state, error = "sent", None
    try:
        msg = render_for_event(event) if event is not None else None
        if msg is None:
            state = None
        else:
            deliver(msg, force=force)
    except Exception as exc:  # SMTP down or refusing, template broken: keep the mail, retry later
        log.warning("mail for event %s not delivered (attempt %s): %s", event.event_id, attempts, exc)
        error = f"{type(exc).__name__}: {exc}"[:1024]
        state = "failed" if attempts >= MAIL_MAX_ATTEMPTS else "pending"
    db.session.rollback()  # the rendering's reads: end that transaction before writing the outcome
    _finish(event_id, attempts, state, error)
    return state


def deliver_due(limit: int = BATCH_SIZE, force: bool = False, ids=None) -> int:
    """Claim and send pending mails, oldest first (see the module docstring); returns how
    many were sent. `force` (`flask mail retry`): also those backing off, and dial SMTP even
    right after a transport failure. `ids`: only these outbox rows. A transport failure
    (server down or hung) ends the pass: the rest wait instead of costing
    BARONG_SMTP_TIMEOUT each. Commits; needs an app context."""
    if not force and current_app.config.get("BARONG_SMTP_HOST") and time.monotonic() < _smtp_down_until[0]:
        return 0
    started, sent, tried = time.monotonic(), 0, set()
    while True:
        now = utcnow()
        batch = [(i, a) for i, a in _candidates(limit + len(tried), force, ids, now) if i not in tried][:limit]
        db.session.rollback()  # end the read before the claims
        if not batch:
            return sent
        for event_id, attempts in batch:
            tried.add(event_id)
            if not _claim(event_id, attempts, now):
                continue  # another deliverer has it
            state = _send_claimed(event_id, attempts + 1, force)
            sent += state == "sent"
            if state == "pending" and _smtp_down_until[0] > started:
                return sent  # server down or hung: stop here
        # loop: sending a user's mail makes their next one claimable


def retry_pending(limit: int = 100) -> int:
    """`flask mail retry`: send every pending mail now (failed attempts included, the
    back-off ignored); returns how many were sent."""
    return deliver_due(limit, force=True)
