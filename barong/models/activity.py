from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from barong.extensions import db
from barong.models.base import utcnow


class Activity(db.Model):
    """Append-only audit trail: `user` (the user's own actions) or `admin` (privileged calls)."""

    __tablename__ = "activities"
    __table_args__ = (
        Index("ix_activities_category_created", "category", "created_at"),
        Index("ix_activities_user_topic", "user_id", "topic"),
        Index("ix_activities_topic_action", "topic", "action"),
        #: admin activity lists (category filter, newest first) and the metrics per-day counts
        Index("ix_activities_category_id", "category", "id"),
        Index("ix_activities_metrics", "topic", "action", "result", "created_at"),
        #: the audit chain (barong.services.audit.chain): one link per (actor, sequence number)
        Index("ux_activities_chain", "user_id", "chain_seq", unique=True),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    target_uid: Mapped[str | None] = mapped_column(String(32), index=True)
    category: Mapped[str] = mapped_column(String(16), nullable=False, default="user")
    user_ip: Mapped[str] = mapped_column(String(64), nullable=False)
    user_ip_country: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str] = mapped_column(String(512), nullable=False)
    topic: Mapped[str] = mapped_column(String(64), nullable=False)
    action: Mapped[str | None] = mapped_column(String(128))
    result: Mapped[str | None] = mapped_column(String(16), index=True)
    data: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False, index=True)
    #: tamper evidence: the row's place in its actor's chain, the previous link's hash and
    #: SHA-256 over the canonical JSON of the row and that hash (barong.services.audit.chain)
    chain_seq: Mapped[int | None] = mapped_column(BigInteger)
    prev_hash: Mapped[str | None] = mapped_column(String(64))
    row_hash: Mapped[str | None] = mapped_column(String(64))

    user = relationship("User")
