from __future__ import annotations

from sqlalchemy import BigInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from barong.extensions import db


class KVEntry(db.Model):
    """Expiring key/value marks (one-time tokens, reset tokens, whitelinks) when Redis is not configured."""

    __tablename__ = "kv_entries"

    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    value: Mapped[str] = mapped_column(Text, nullable=False)
    #: unix seconds
    expires_at: Mapped[int] = mapped_column(BigInteger, nullable=False, index=True)
