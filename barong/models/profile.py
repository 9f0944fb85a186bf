from __future__ import annotations

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from barong.extensions import db
from barong.models.base import Timestamps, encrypted, name_key

PROFILE_STATES = {"drafted": 0, "submitted": 1, "verified": 3, "rejected": 4}
PROFILE_STATE_NAMES = {v: k for k, v in PROFILE_STATES.items()}


class Profile(Timestamps, db.Model):
    __tablename__ = "profiles"
    #: admin users list `country` filter: a covering index for the user-id semi-join; the one
    #: box `q`'s names: covering indexes that answer "first", "last", "first last" and "last
    #: first" by index-only scans (admin_users.text_condition)
    __table_args__ = (Index("ix_profiles_country_user", "country", "user_id"),
                      Index("ix_profiles_first_last_user", "first_name_index", "last_name_index", "user_id"),
                      Index("ix_profiles_last_first_user", "last_name_index", "first_name_index", "user_id"))

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True)
    #: uid of the admin who created it (admin POST), else null
    author: Mapped[str | None] = mapped_column(String(32))
    applicant_id: Mapped[str | None] = mapped_column(String(255))
    #: PII: encrypted at rest (barong.security.crypto), decrypted via the properties below
    first_name_encrypted: Mapped[str | None] = mapped_column(String(1024))
    last_name_encrypted: Mapped[str | None] = mapped_column(String(1024))
    #: CRC32 of the case-folded name (`base.name_key`): the console's search finds a user by name
    first_name_index: Mapped[int | None] = mapped_column(BigInteger)
    last_name_index: Mapped[int | None] = mapped_column(BigInteger)
    dob_encrypted: Mapped[str | None] = mapped_column(String(1024))
    address_encrypted: Mapped[str | None] = mapped_column(String(1024))
    postcode: Mapped[str | None] = mapped_column(String(255))
    city: Mapped[str | None] = mapped_column(String(255))
    country: Mapped[str | None] = mapped_column(String(3), index=True)
    state_value: Mapped[int] = mapped_column("state", SmallInteger, nullable=False, default=0, index=True)
    metadata_json: Mapped[str | None] = mapped_column("metadata", Text)

    user = relationship("User", back_populates="profiles")

    first_name = encrypted("first_name_encrypted", index_column="first_name_index", index_normalize=name_key)
    last_name = encrypted("last_name_encrypted", index_column="last_name_index", index_normalize=name_key)
    dob = encrypted("dob_encrypted")
    address = encrypted("address_encrypted")

    @property
    def state(self) -> str:
        return PROFILE_STATE_NAMES.get(self.state_value, "drafted")

    @state.setter
    def state(self, name: str) -> None:
        self.state_value = PROFILE_STATES[name]

