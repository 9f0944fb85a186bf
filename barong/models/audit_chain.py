from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, DateTime, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from barong.extensions import db
from barong.models.base import utcnow


class AuditChainHead(db.Model):
    """The last link of one actor's activity chain (barong.services.audit.chain): its
    sequence number and hash. Locked (FOR UPDATE) by the transaction that appends to that
    chain only, so unrelated requests never queue behind each other."""

    __tablename__ = "audit_chain_heads"

    #: the chained activities' user_id ("0" for rows without one)
    chain_key: Mapped[str] = mapped_column(String(32), primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    last_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    #: HMAC of (chain_key, seq, last_hash) under a key derived from the app secret: SHA-256
    #: alone can be recomputed by whoever can write the table; the seal cannot
    seal: Mapped[str] = mapped_column(String(64), nullable=False)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow, nullable=False)


class AuditVerification(db.Model):
    """One run of `flask audit verify`: what the console shows as "last verified"."""

    __tablename__ = "audit_verifications"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    ok: Mapped[bool] = mapped_column(Boolean, nullable=False)
    rows: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    chains: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    #: the first broken activity's id (None when ok, or when the break is a missing head)
    first_broken_id: Mapped[int | None] = mapped_column(BigInteger)
    problem: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False, index=True)
