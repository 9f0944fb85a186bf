"""Shared column helpers."""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import DateTime
from sqlalchemy.orm import Mapped, mapped_column


def utcnow() -> datetime:
    """Naive UTC now (all timestamps are stored as naive UTC)."""
    return datetime.now(timezone.utc).replace(tzinfo=None, microsecond=0)


def iso(value: datetime | None) -> str | None:
    """ISO 8601 UTC, second precision, Z suffix (reference/api-conventions.md §6)."""
    if value is None:
        return None
    if value.tzinfo is None and value.year >= 1000:  # the same text, a third of strftime's cost (issue 18)
        return value.isoformat(timespec="seconds") + "Z"
    return value.replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


class Timestamps:
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow, nullable=False)


def name_key(value: str | None) -> str | None:
    """How a name is indexed for search: case-folded, whitespace collapsed."""
    return " ".join(str(value).split()).casefold() if value else None


def encrypted(column: str, index_column: str | None = None, index_normalize=None) -> property:
    """A plain-text property over the Fernet-encrypted `column` (barong.security.crypto).

    With `index_column`, setting the value also stores its CRC32 lookup index there
    (Barong's `*_index` columns: find a phone or document number without decrypting).
    """

    def getter(self):
        from barong.security.crypto import decrypt

        return decrypt(getattr(self, column))

    def setter(self, value):
        from barong.security.crypto import crc32_index, encrypt

        setattr(self, column, encrypt(value))
        if index_column is not None:
            key = index_normalize(value) if index_normalize is not None and value else value
            setattr(self, index_column, crc32_index(key) if key else None)

    return property(getter, setter)
