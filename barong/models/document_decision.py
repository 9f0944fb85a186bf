"""One row per KYC decision on one document (barong.services.verification.document_review):
the review history shown to reviewers and the source of the reviewer metrics."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from barong.extensions import db
from barong.models.base import utcnow

OUTCOMES = ("approve", "reject", "retry")


class DocumentDecision(db.Model):
    __tablename__ = "document_decisions"
    __table_args__ = (
        Index("ix_document_decisions_reviewer_created", "reviewer_id", "created_at"),
        Index("ix_document_decisions_created_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"), nullable=False,
                                             index=True)
    #: the applicant
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True)
    reviewer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    #: approve | reject | retry
    outcome: Mapped[str] = mapped_column(String(16), nullable=False)
    reason: Mapped[str | None] = mapped_column(String(64))
    #: to the user
    note: Mapped[str | None] = mapped_column(Text)
    #: for colleagues only
    internal_note: Mapped[str | None] = mapped_column(Text)
    #: the document's created_at, copied: upload → decision time without a join
    uploaded_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)

    document = relationship("Document")
    reviewer = relationship("User", foreign_keys=[reviewer_id])
