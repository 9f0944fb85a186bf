from __future__ import annotations

from sqlalchemy import Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from barong.extensions import db
from barong.models.base import Timestamps


class Permission(Timestamps, db.Model):
    __tablename__ = "permissions"
    __table_args__ = (Index("ix_permissions_role", "role"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    role: Mapped[str] = mapped_column(String(64), nullable=False)
    #: GET/POST/PUT/DELETE/PATCH/HEAD or ALL (upper-cased on save)
    verb: Mapped[str] = mapped_column(String(16), nullable=False)
    #: path prefix without the leading slash
    path: Mapped[str] = mapped_column(String(255), nullable=False)
    #: ACCEPT / DROP / AUDIT
    action: Mapped[str] = mapped_column(String(16), nullable=False)
    topic: Mapped[str | None] = mapped_column(String(255))
