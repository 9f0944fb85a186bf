from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, String
from sqlalchemy.orm import Mapped, mapped_column

from barong.extensions import db
from barong.models.base import utcnow


class SessionRecord(db.Model):
    """Server-side login session (database store; Redis holds the same fields when configured).

    The cookie carries a random session id; only its SHA-256 is stored here.
    """

    __tablename__ = "sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256 hex of the cookie value
    uid: Mapped[str] = mapped_column(String(32), nullable=False, index=True)
    user_ip: Mapped[str] = mapped_column(String(64), nullable=False)
    user_agent: Mapped[str] = mapped_column(String(512), nullable=False, default="")
    csrf_token: Mapped[str] = mapped_column(String(64), nullable=False)
    expire_time: Mapped[int] = mapped_column(BigInteger, nullable=False)  # unix seconds (sliding)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
    last_seen_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
    #: unix seconds of the session's last full authentication (login, or a re-verified second
    #: factor: identity/sessions/reauth) — the gateway JWT's `auth_time`; null: created_at
    auth_time: Mapped[int | None] = mapped_column(BigInteger)
    #: how it was authenticated, comma-separated (pwd, otp, webauthn) — the JWT's `amr`
    amr: Mapped[str | None] = mapped_column(String(64))
