from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from barong.extensions import db
from barong.models.base import utcnow


class ApprovalRequest(db.Model):
    """A dangerous operator action held for a second operator (four-eyes,
    barong.services.operators.four_eyes): what, with which parameters, by whom, and
    who decided."""

    __tablename__ = "approval_requests"
    __table_args__ = (Index("ix_approval_requests_state_created", "state", "created_at"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    action: Mapped[str] = mapped_column(String(64), nullable=False)
    #: JSON of the action's parameters (what the approver sees and what runs)
    params: Mapped[str] = mapped_column(Text, nullable=False)
    target_uid: Mapped[str | None] = mapped_column(String(32), index=True)
    requested_by: Mapped[str] = mapped_column(String(32), nullable=False)
    #: pending → approved (and executed) | rejected | expired | failed (approved, but the action refused)
    state: Mapped[str] = mapped_column(String(16), nullable=False, default="pending")
    decided_by: Mapped[str | None] = mapped_column(String(32))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime)
    note: Mapped[str | None] = mapped_column(String(255))
    expires_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
