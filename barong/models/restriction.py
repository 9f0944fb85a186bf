from __future__ import annotations

from sqlalchemy import Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from barong.extensions import db
from barong.models.base import Timestamps

CATEGORIES = ("whitelist", "maintenance", "blacklist", "blocklogin")
SCOPES = ("continent", "country", "ip", "ip_subnet", "all")
STATES = ("enabled", "disabled")


class Restriction(Timestamps, db.Model):
    __tablename__ = "restrictions"
    __table_args__ = (UniqueConstraint("scope", "category", "value", name="uq_restrictions_scope_category_value"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    category: Mapped[str] = mapped_column(String(32), nullable=False)
    scope: Mapped[str] = mapped_column(String(32), nullable=False)
    value: Mapped[str] = mapped_column(String(64), nullable=False)
    #: HTTP status returned when the restriction matches
    code: Mapped[int | None] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(16), nullable=False, default="enabled")
