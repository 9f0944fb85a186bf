"""Erase the personal data of accounts deleted before a date (GDPR art. 17), keeping what
AML retention requires: the user row's uid, role, level and dates, its labels, and every
activity row untouched — the audit chain must still verify afterwards.

What goes: every row of every table that belongs to the user through a `user_id` column
(profiles, phones, documents and their files, stored data, comments, passkeys, known
networks, … — new tables are erased by default, only RETAINED ones are kept), the user's
API keys and sessions, their outbox events once delivered, and the user row's email,
username, data, password digest and 2FA secrets. The email becomes
`<uid>@erased.invalid`, which also marks the account as purged (a second run skips it).
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import delete, update

from barong.extensions import db
from barong.models import APIKey, OutboxEvent, User, WebhookDelivery
from barong.services.accounts import sessions
from barong.services.audit import activities
from barong.services.infra.request_info import RequestInfo
from barong.services.verification import documents as documents_service
from barong.services.verification import kyc_review

ERASED_DOMAIN = "erased.invalid"
#: tables whose rows of a purged user are kept (AML retention; the audit chain)
RETAINED = {"activities", "labels", "document_decisions"}
#: columns of retained tables that may hold free text about the person: blanked
SCRUBBED = {"document_decisions": ("note", "internal_note")}
CLI_INFO = RequestInfo(ip="127.0.0.1", user_agent="flask gdpr purge")


@dataclass
class Report:
    users: list[str] = field(default_factory=list)
    rows: dict[str, int] = field(default_factory=dict)
    files: int = 0
    events: int = 0


def due(deleted_before: datetime) -> list[User]:
    """Deleted accounts last changed before the date and not purged yet."""
    return (db.session.query(User)
            .filter(User.state == "deleted", User.updated_at < deleted_before,
                    ~User.email_lower.like(f"%@{ERASED_DOMAIN}"))
            .order_by(User.id).all())


def _user_tables():
    for table in db.metadata.sorted_tables:
        col = table.c.get("user_id")
        if col is not None and any(fk.column.table.name == "users" for fk in col.foreign_keys):
            yield table


def _erase_files(user: User) -> int:
    n = 0
    for doc in list(user.documents):
        path = documents_service.path_for(doc)
        if path.is_file():
            path.unlink()
            n += 1
    return n


def _erase_events(user: User) -> int:
    """Delivered outbox events that name the user anywhere (a label event carries its
    user's record; payloads hold PII, some of it sealed). Undelivered ones stay: the
    Event API and mail are at-least-once; the next purge takes them."""
    n = 0
    for ev in db.session.query(OutboxEvent).filter(OutboxEvent.payload.like(f'%"{user.uid}"%')):
        if ev.state == "pending" or ev.mail_state == "pending" or db.session.query(
                WebhookDelivery.id).filter_by(outbox_id=ev.id, state="pending").first():
            continue
        db.session.delete(ev)
        n += 1
    return n


def purge_user(user: User, report: Report) -> None:
    before = sum(report.rows.values())
    report.files += _erase_files(user)
    for table in reversed(list(_user_tables())):
        if table.name in RETAINED:
            cols = SCRUBBED.get(table.name)
            if cols:
                db.session.execute(update(table).where(table.c.user_id == user.id).values({c: None for c in cols}))
            continue
        n = db.session.execute(delete(table).where(table.c.user_id == user.id)).rowcount
        if n:
            report.rows[table.name] = report.rows.get(table.name, 0) + n
    n = db.session.execute(delete(APIKey).where(APIKey.key_holder_account_type == "User",
                                                APIKey.key_holder_account_id == user.id)).rowcount
    if n:
        report.rows["api_keys"] = report.rows.get("api_keys", 0) + n
    report.events += _erase_events(user)
    kyc_review.refresh_waiting(user.id)  # the documents went; a kept `document: pending` label may queue it
    sessions.invalidate_all(user.uid)
    db.session.expire(user)
    erased = f"{user.uid.lower()}@{ERASED_DOMAIN}"
    user.email = erased
    user.email_lower = erased
    user.username = None
    user.data = None
    user.password_digest = "erased:" + secrets.token_hex(16)  # matches no password (passwords.verify)
    user.otp = False
    user.otp_secret_encrypted = None
    user.otp_recovery_codes = None
    db.session.flush()
    activities.record(user, "account", "gdpr purge", "succeed", info=CLI_INFO,
                      data={"rows": sum(report.rows.values()) - before})
    report.users.append(user.uid)


def purge(deleted_before: datetime) -> Report:
    """Purge every due account (the caller commits)."""
    report = Report()
    for user in due(deleted_before):
        purge_user(user, report)
    return report
