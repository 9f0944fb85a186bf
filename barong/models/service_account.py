from __future__ import annotations

from sqlalchemy import BigInteger, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from barong.extensions import db
from barong.models.base import Timestamps


class ServiceAccount(Timestamps, db.Model):
    __tablename__ = "service_accounts"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    uid: Mapped[str] = mapped_column(String(32), unique=True, nullable=False)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    email: Mapped[str] = mapped_column(String(255), unique=True, nullable=False)
    role: Mapped[str] = mapped_column(String(64), nullable=False, default="service_account")
    level: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    state: Mapped[str] = mapped_column(String(32), nullable=False, default="pending")

    owner = relationship("User")

    @property
    def otp(self) -> bool:  # service accounts never have 2FA; API keys check holders uniformly
        return True
