from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import BigInteger, DateTime, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from barong.extensions import db
from barong.models.base import Timestamps, encrypted


class APIKey(Timestamps, db.Model):
    __tablename__ = "apikeys"
    __table_args__ = (Index("ix_apikeys_holder", "key_holder_account_type", "key_holder_account_id"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    key_holder_account_id: Mapped[int] = mapped_column(BigInteger, nullable=False)
    #: `User` or `ServiceAccount`
    key_holder_account_type: Mapped[str] = mapped_column(String(32), nullable=False, default="User")
    kid: Mapped[str] = mapped_column(String(255), unique=True, nullable=False)
    algorithm: Mapped[str] = mapped_column(String(16), nullable=False)
    #: JSON array of scope strings
    scope_json: Mapped[str | None] = mapped_column("scope", String(1024))
    #: Fernet-encrypted HMAC secret; the plain secret is shown once, at creation
    secret_encrypted: Mapped[str] = mapped_column(String(1024), nullable=False)
    state: Mapped[str] = mapped_column(String(32), nullable=False, default="active")
    #: comma-separated IPs/CIDRs the key may be used from (null: anywhere), normalised
    allowed_ips: Mapped[str | None] = mapped_column(String(1024))
    #: the key stops working at this moment (null: never)
    expires_at: Mapped[datetime | None] = mapped_column(DateTime)
    #: written at most once a minute per key, after the response (barong.authz.key_usage)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime)
    last_used_ip: Mapped[str | None] = mapped_column(String(64))

    @property
    def scope(self) -> list[str]:
        try:
            return list(json.loads(self.scope_json or "[]"))
        except ValueError:
            return []

    @scope.setter
    def scope(self, values) -> None:
        self.scope_json = json.dumps(list(values or []))

    #: the plain HMAC secret (decrypted on read)
    secret = encrypted("secret_encrypted")

    def holder(self):
        from barong.models import ServiceAccount, User

        model = ServiceAccount if self.key_holder_account_type == "ServiceAccount" else User
        return db.session.get(model, self.key_holder_account_id)
