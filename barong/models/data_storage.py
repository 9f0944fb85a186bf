from __future__ import annotations

from sqlalchemy import BigInteger, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from barong.extensions import db
from barong.models.base import Timestamps


class DataStorage(Timestamps, db.Model):
    __tablename__ = "data_storages"
    __table_args__ = (UniqueConstraint("user_id", "title", name="uq_data_storages_user_title"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True)
    #: stored lower-cased so (user, title) is unique case-insensitively
    title: Mapped[str] = mapped_column(String(64), nullable=False)
    data: Mapped[str] = mapped_column(Text, nullable=False)

    user = relationship("User", back_populates="data_storages")
