from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from barong.extensions import db
from barong.models.base import Timestamps, utcnow


class WebhookEndpoint(Timestamps, db.Model):
    """An operator-registered HTTPS endpoint receiving the events it names, signed with
    its own secret (barong.services.delivery.webhooks)."""

    __tablename__ = "webhook_endpoints"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    url: Mapped[str] = mapped_column(String(2048), nullable=False)
    #: JSON array of event names or prefixes ending in `*` (`model.user.*`, `*`)
    events_json: Mapped[str] = mapped_column("events", Text, nullable=False)
    description: Mapped[str | None] = mapped_column(String(255))
    #: the HMAC key, encrypted at rest (it must be read back to sign)
    secret_encrypted: Mapped[str] = mapped_column(String(1024), nullable=False)
    state: Mapped[str] = mapped_column(String(16), nullable=False, default="active")
    created_by: Mapped[str | None] = mapped_column(String(32))


class WebhookDelivery(db.Model):
    """One event for one endpoint: written in the transaction that wrote the event (never
    lost), retried with back-off until a 2xx answer or BARONG_WEBHOOK_MAX_AGE."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (UniqueConstraint("endpoint_id", "outbox_id", name="uq_webhook_deliveries_endpoint_event"),
                      Index("ix_webhook_deliveries_due", "state", "next_attempt_at"))

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    endpoint_id: Mapped[int] = mapped_column(ForeignKey("webhook_endpoints.id", ondelete="CASCADE"), nullable=False,
                                             index=True)
    outbox_id: Mapped[int] = mapped_column(ForeignKey("event_outbox.id", ondelete="CASCADE"), nullable=False,
                                           index=True)
    #: `pending` → `delivered`, or `failed` past the maximum age (an operator can re-queue it)
    state: Mapped[str] = mapped_column(String(16), nullable=False, default="pending")
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=utcnow)
    #: a deliverer holds the row until then (a crash mid-send: another takes it after)
    lease_until: Mapped[datetime | None] = mapped_column(DateTime)
    last_status: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(String(1024))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime)

    endpoint = relationship("WebhookEndpoint")
    event = relationship("OutboxEvent")
