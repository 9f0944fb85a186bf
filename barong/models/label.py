from __future__ import annotations

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from barong.extensions import db
from barong.models.base import Timestamps


class Label(Timestamps, db.Model):
    __tablename__ = "labels"
    __table_args__ = (
        UniqueConstraint("user_id", "key", "scope", name="uq_labels_user_key_scope"),
        Index("ix_labels_key_value", "key", "value"),
        #: the KYC queue (admin users/documents/pending): filter, order and count from the index
        Index("ix_labels_queue", "key", "scope", "value", "updated_at", "user_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True)
    key: Mapped[str] = mapped_column(String(255), nullable=False)
    value: Mapped[str] = mapped_column(String(255), nullable=False)
    #: `public` or `private`; only private labels count for level and state
    scope: Mapped[str] = mapped_column(String(16), nullable=False, default="public")
    description: Mapped[str | None] = mapped_column(String(255))

    user = relationship("User", back_populates="labels")
