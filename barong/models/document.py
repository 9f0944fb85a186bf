from __future__ import annotations

from datetime import date

from datetime import datetime

from sqlalchemy import BigInteger, Date, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from barong.extensions import db
from barong.models.base import Timestamps, encrypted


#: a document's own review state (barong.services.verification.document_review)
REVIEW_STATES = ("pending", "approved", "rejected", "retry", "expired")


class Document(Timestamps, db.Model):
    __tablename__ = "documents"
    __table_args__ = (
        # the KYC queue: pending documents grouped by user, oldest upload first
        Index("ix_documents_review_queue", "review_state", "user_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True)
    #: stored file name (random, unguessable) under BARONG_UPLOADS_PATH
    upload: Mapped[str] = mapped_column(String(255), nullable=False)
    #: original file name and detected content type, for the console preview
    upload_name: Mapped[str | None] = mapped_column(String(255))
    content_type: Mapped[str | None] = mapped_column(String(64))
    doc_type: Mapped[str] = mapped_column(String(64), nullable=False)
    doc_number_encrypted: Mapped[str | None] = mapped_column(String(1024))
    doc_number_index: Mapped[int | None] = mapped_column(BigInteger, index=True)
    doc_expire: Mapped[date | None] = mapped_column(Date)
    doc_issue: Mapped[date | None] = mapped_column(Date)
    doc_category: Mapped[str | None] = mapped_column(String(32))
    identificator: Mapped[str | None] = mapped_column(String(64), index=True)
    metadata_json: Mapped[str | None] = mapped_column("metadata", Text)
    #: pending | approved | rejected (final) | retry (must be re-uploaded) | expired
    review_state: Mapped[str] = mapped_column(String(16), nullable=False, default="pending")
    #: catalogue code (config/kyc_reasons.yml) of the last reject/retry decision
    review_reason: Mapped[str | None] = mapped_column(String(64))
    #: free-text note to the user of the last decision
    review_note: Mapped[str | None] = mapped_column(Text)
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    reviewed_at: Mapped[datetime | None] = mapped_column(DateTime)

    user = relationship("User", back_populates="documents", foreign_keys=[user_id])

    doc_number = encrypted("doc_number_encrypted", index_column="doc_number_index")
