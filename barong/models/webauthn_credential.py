from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, DateTime, ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from barong.extensions import db
from barong.models.base import Timestamps


class WebAuthnCredential(Timestamps, db.Model):
    """A passkey or security key registered by a user (barong.services.accounts.webauthn).

    Only the credential's public key is kept (COSE, as the authenticator sent it); the
    private key never leaves the authenticator. `sign_count` is the authenticator's
    counter at its last use: an assertion whose counter does not grow (when the
    authenticator counts at all) is refused as a possible clone."""

    __tablename__ = "webauthn_credentials"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True)
    #: base64url of the credential id the authenticator chose (unique across users)
    credential_id: Mapped[str] = mapped_column(String(1400), unique=True, nullable=False)
    #: COSE_Key bytes of the credential's public key
    public_key: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    sign_count: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    #: the user's name for it ("YubiKey", "Laptop")
    name: Mapped[str] = mapped_column(String(64), nullable=False)
    #: JSON list of the transports the browser reported (usb, nfc, ble, internal, hybrid)
    transports: Mapped[str | None] = mapped_column(String(255))
    aaguid: Mapped[str | None] = mapped_column(String(36))
    #: a synced (multi-device) passkey
    backed_up: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime)
