"""TOTP two-factor authentication: secret (encrypted at rest), verification with
single use per time step, recovery codes.

`verify(user, code)` is what login, API-key creation and OTP-guarded actions call.
"""
from __future__ import annotations

import json
import time

import pyotp

from barong.extensions import db
from barong.models import User
from barong.security.crypto import decrypt, equal, keyed_hash

VALID_WINDOW = 1  # accept the previous and next 30 s step (clock drift)


def secret_for(user: User) -> str | None:
    return decrypt(user.otp_secret_encrypted)


def _matching_step(secret: str, code: str, now: float | None = None) -> int | None:
    totp = pyotp.TOTP(secret)
    now = time.time() if now is None else now
    step = int(now // totp.interval)
    for offset in range(-VALID_WINDOW, VALID_WINDOW + 1):
        candidate = step + offset
        if equal(totp.at(candidate * totp.interval), code):
            return candidate
    return None


def verify_totp(user: User, code: str | None) -> bool:
    """True when `code` is the user's current TOTP and was not used before (single use per step)."""
    secret = secret_for(user)
    code = (code or "").strip()
    if not secret or not code.isdigit() or len(code) != 6:
        return False
    step = _matching_step(secret, code)
    if step is None or (user.otp_last_step is not None and step <= user.otp_last_step):
        return False
    user.otp_last_step = step
    db.session.flush()
    return True


def use_recovery_code(user: User, code: str | None) -> bool:
    """Consume one of the user's recovery codes (each works once)."""
    code = (code or "").strip().lower().replace("-", "")
    if not code or not user.otp_recovery_codes:
        return False
    hashes = json.loads(user.otp_recovery_codes)
    digest = keyed_hash(code)
    for i, stored in enumerate(hashes):
        if equal(stored, digest):
            hashes.pop(i)
            user.otp_recovery_codes = json.dumps(hashes)
            db.session.flush()
            return True
    return False


def verify(user: User, code: str | None, allow_recovery: bool = False) -> bool:
    if verify_totp(user, code):
        return True
    return allow_recovery and use_recovery_code(user, code)
