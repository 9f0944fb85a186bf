from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, backref, mapped_column, relationship

from barong.extensions import db
from barong.models.base import utcnow


class KnownNetwork(db.Model):
    """A network (or a country) the user approved for logins (new-network approval,
    barong.services.accounts.networks)."""

    __tablename__ = "known_networks"
    __table_args__ = (UniqueConstraint("user_id", "kind", "value", name="uq_known_networks_user_kind_value"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    #: `network` (value = the /16 or /96, e.g. `203.0.0.0/16`) or `country` (value = ISO code)
    kind: Mapped[str] = mapped_column(String(16), nullable=False, default="network")
    value: Mapped[str] = mapped_column(String(64), nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
    last_used_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)

    user = relationship("User", backref=backref("known_networks", cascade="all, delete-orphan",
                                                passive_deletes=True, order_by="KnownNetwork.id"))
