from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from barong.extensions import db
from barong.models.base import utcnow


class OutboxEvent(db.Model):
    """Transactional outbox: written with the change that caused it, published later.

    `event_id` is a UUID consumers use to de-duplicate (a crash between publish and
    mark may deliver an event twice, never zero times).
    """

    __tablename__ = "event_outbox"
    __table_args__ = (Index("ix_event_outbox_state_id", "state", "id"),
                      Index("ix_event_outbox_mail_state_id", "mail_state", "id"))

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(36), unique=True, nullable=False)
    #: full event name, e.g. `system.user.email.confirmation.token`
    name: Mapped[str] = mapped_column(String(128), nullable=False)
    #: JSON payload `{record: …, changes: …, name: …}`
    payload: Mapped[str] = mapped_column(Text, nullable=False)
    #: `pending` → `sent` (or `failed` after too many attempts)
    state: Mapped[str] = mapped_column(String(16), nullable=False, default="pending")
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    last_error: Mapped[str | None] = mapped_column(String(1024))
    #: mail delivery for this event: null (no mail), `pending`, `sent`, `failed`
    mail_state: Mapped[str | None] = mapped_column(String(16))
    #: mail delivery attempts so far (counted when a deliverer claims the mail; 0 = not tried yet)
    mail_attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0, server_default="0")
    #: why the last mail delivery failed
    mail_error: Mapped[str | None] = mapped_column(String(1024))
    #: uid of the mail's recipient: a mail is not sent before an earlier pending one to the same user
    mail_uid: Mapped[str | None] = mapped_column(String(32))
    #: a pending mail is not tried again before this (back-off after a failed attempt; null = now)
    mail_due_at: Mapped[datetime | None] = mapped_column(DateTime)
    #: a deliverer has claimed the mail until then (it is sending it); past it, another may retry
    mail_claimed_until: Mapped[datetime | None] = mapped_column(DateTime)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime)
