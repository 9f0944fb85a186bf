from __future__ import annotations

from sqlalchemy import Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from barong.extensions import db


class Level(db.Model):
    """Level N is reached when the user holds the private labels of levels 1..N."""

    __tablename__ = "levels"
    __table_args__ = (UniqueConstraint("key", "value", name="uq_levels_key_value"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    key: Mapped[str] = mapped_column(String(255), nullable=False)
    value: Mapped[str] = mapped_column(String(255), nullable=False)
    description: Mapped[str] = mapped_column(String(255), nullable=False)
