from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import DDL, BigInteger, Boolean, DateTime, ForeignKey, Index, Integer, String, Text, event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from barong.extensions import db
from barong.models.base import Timestamps


class User(Timestamps, db.Model):
    __tablename__ = "users"
    #: admin list filters (range=created|updated + from/to) and ordering
    __table_args__ = (Index("ix_users_created_at", "created_at"), Index("ix_users_updated_at", "updated_at"),
                      Index("ix_users_state_level", "state", "level"),
                      #: the KYC queue: waiting applicants, oldest first (kyc_review.queue)
                      Index("ix_users_kyc_waiting", "kyc_waiting_since", "id"))

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    uid: Mapped[str] = mapped_column(String(32), unique=True, nullable=False)
    username: Mapped[str | None] = mapped_column(String(255), unique=True)
    #: stored as given; uniqueness and lookups use `email_lower` (Barong's MySQL collation is case-insensitive)
    email: Mapped[str] = mapped_column(String(255), nullable=False)
    email_lower: Mapped[str] = mapped_column(String(255), unique=True, nullable=False)
    #: argon2id for new passwords; bcrypt ($2a$/$2b$) digests from the Ruby original verify too
    password_digest: Mapped[str] = mapped_column(String(255), nullable=False)
    role: Mapped[str] = mapped_column(String(64), nullable=False, default="member", index=True)
    #: JSON string, ≤1024 chars
    data: Mapped[str | None] = mapped_column(Text)
    level: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    otp: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    state: Mapped[str] = mapped_column(String(32), nullable=False, default="pending", index=True)
    referral_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    #: Fernet-encrypted TOTP secret (base32) — null until generate_qrcode
    otp_secret_encrypted: Mapped[str | None] = mapped_column(String(512))
    #: last TOTP time-step accepted, so a code is single-use within its window
    otp_last_step: Mapped[int | None] = mapped_column(BigInteger)
    #: JSON list of hashed one-time recovery codes
    otp_recovery_codes: Mapped[str | None] = mapped_column(Text)
    #: consecutive failed logins and the lockout they caused
    failed_logins: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime)
    #: temporary login locks since the last unlock / password reset / successful login; at
    #: BARONG_LOGIN_MAX_TEMPORARY_LOCKS the lock holds until lifted (identity._count_failure)
    temporary_locks: Mapped[int] = mapped_column(Integer, nullable=False, default=0, server_default="0")
    #: end of the security-change cooldown (services/accounts/cooldown.py); read by the authz hot path
    security_cooldown_until: Mapped[datetime | None] = mapped_column(DateTime)
    #: optimistic lock / claim for the KYC review queue
    review_claimed_by: Mapped[str | None] = mapped_column(String(32))
    review_claimed_at: Mapped[datetime | None] = mapped_column(DateTime)
    #: since when the user waits for a KYC review (NULL: not waiting) — kept equal to
    #: kyc_review.waiting_subquery by kyc_review.refresh_waiting, in the transaction that changes it
    kyc_waiting_since: Mapped[datetime | None] = mapped_column(DateTime)

    labels = relationship("Label", back_populates="user", cascade="all, delete-orphan", lazy="selectin",
                          order_by="Label.id")
    profiles = relationship("Profile", back_populates="user", cascade="all, delete-orphan", order_by="Profile.id")
    phones = relationship("Phone", back_populates="user", cascade="all, delete-orphan", order_by="Phone.id")
    documents = relationship("Document", back_populates="user", cascade="all, delete-orphan", order_by="Document.id",
                             foreign_keys="Document.user_id")
    data_storages = relationship("DataStorage", back_populates="user", cascade="all, delete-orphan",
                                 order_by="DataStorage.id")
    comments = relationship("Comment", back_populates="user", cascade="all, delete-orphan", order_by="Comment.id")
    referrer = relationship("User", remote_side=[id])

    @property
    def referral_uid(self) -> str | None:
        return self.referrer.uid if self.referrer is not None else None

    @property
    def language(self) -> str:
        try:
            lang = json.loads(self.data or "{}").get("language")
        except (ValueError, AttributeError):
            lang = None
        return str(lang).upper() if lang else "EN"

    @property
    def is_active_state(self) -> bool:
        return self.state in ("active", "pending")

    # Flask-Login protocol
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return self.is_active_state

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return self.uid

    def private_labels(self) -> dict[str, str]:
        return {l.key: l.value for l in self.labels if l.scope == "private"}

    def __repr__(self) -> str:
        return f"<User {self.uid} {self.email}>"


# the admin users list at 1,000,000 users (issue 18): order_by=email, either direction, with
# its `id` tie-break (and its deep pages); the one box `q`'s email part through a pg_trgm GIN
# index on PostgreSQL (SQLite gets a plain index it does not use, so that the models and the
# migrations stay one schema: tests/test_migrations.py)
Index("ix_users_email_id", User.email, User.id)
# level=… with a profile filter (country): an index-only id list to semi-join with profiles
Index("ix_users_level_id", User.level, User.id)
Index("ix_users_email_lower_trgm", User.email_lower, postgresql_using="gin",
      postgresql_ops={"email_lower": "gin_trgm_ops"})
# the trigram operator class exists before the table (create_all: tests, bench); migration 0009 too
event.listen(User.__table__, "before_create",
             DDL("CREATE EXTENSION IF NOT EXISTS pg_trgm").execute_if(dialect="postgresql"))
