"""TOTP two-factor authentication: secret (encrypted at rest), verification with
single use per time step, recovery codes, and the enable/disable actions.

`verify(user, code)` is what login, API-key creation and OTP-guarded actions call.
`generate_secret` / `enable` / `disable` are the resource/otp endpoints' (and the
account pages') actions; each records the `otp` activity Barong records.
"""
from __future__ import annotations

import base64
import io
import json
import secrets
import time
from urllib.parse import quote, urlencode

import pyotp
from sqlalchemy import or_
from sqlalchemy import update as sa_update
from sqlalchemy.orm.attributes import set_committed_value

from barong.errors import BarongError
from barong.extensions import db
from barong.models import User
from barong.security.crypto import decrypt, encrypt, equal, keyed_hash
from barong.services.infra.request_info import RequestInfo
from barong.services.infra.unit_of_work import durable

VALID_WINDOW = 1  # accept the previous and next 30 s step (clock drift)
ISSUER = "Barong"
RECOVERY_CODES = 10
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i look-alikes


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
    # Recorded before the action, atomically: of parallel requests with one code the first
    # update holds the row (PostgreSQL row lock / SQLite write lock) until its commit; the
    # others then match no row, and are refused as a reused code.
    return _claim(user, "otp_last_step", or_(User.otp_last_step.is_(None), User.otp_last_step < step), step)


def _claim(user: User, column: str, still, new) -> bool:
    """UPDATE users SET <column>=new WHERE id=user.id AND <still>; True when it matched."""
    result = db.session.execute(
        sa_update(User).where(User.id == user.id, still).values({column: new})
        .execution_options(synchronize_session=False))
    if result.rowcount != 1:
        return False
    set_committed_value(user, column, new)
    db.session.expire(user, ["updated_at"])  # the UPDATE stamped it
    return True


def _normalize_recovery(code: str | None) -> str:
    return (code or "").strip().lower().replace("-", "").replace(" ", "")


def use_recovery_code(user: User, code: str | None) -> bool:
    """Consume one of the user's recovery codes (each works once)."""
    code = _normalize_recovery(code)
    if not code or not user.otp_recovery_codes:
        return False
    hashes = json.loads(user.otp_recovery_codes)
    digest = keyed_hash(code)
    for i, stored in enumerate(hashes):
        if equal(stored, digest):
            old = user.otp_recovery_codes
            hashes.pop(i)
            return _claim(user, "otp_recovery_codes", User.otp_recovery_codes == old, json.dumps(hashes))
    return False


def verify(user: User, code: str | None, allow_recovery: bool = False) -> bool:
    """True for a valid, unused TOTP code (or, with `allow_recovery`, an unused recovery code).
    Flushes the consumed step/code; the caller's unit of work commits it."""
    if verify_totp(user, code):
        return True
    return allow_recovery and use_recovery_code(user, code)


def recovery_codes_left(user: User) -> int:
    return len(json.loads(user.otp_recovery_codes or "[]"))


# ---- per-account failure limit -----------------------------------------------------------------

#: wrong codes an account may send to the OTP-guarded actions within FAILURE_WINDOW seconds
MAX_FAILURES = 5
FAILURE_WINDOW = 300


def _limits_on() -> bool:
    from flask import current_app

    return bool(current_app.config.get("BARONG_RATELIMIT_ENABLED", True))


def _failures_key(uid: str) -> str:
    return f"otp_failures:{uid}"


def verify_guarded(user: User, code: str | None, allow_recovery: bool = False) -> bool:
    """`verify` for the OTP-guarded actions (2FA enable/disable/verify, API keys, self-delete),
    limited per account: after MAX_FAILURES wrong codes within FAILURE_WINDOW seconds every
    attempt is refused with 429 resource.otp.too_many_requests (on top of the per-IP limit).
    A wrong code is counted even though the request rolls back."""
    from barong.services.infra import kv

    if _limits_on() and kv.count(_failures_key(user.uid)) >= MAX_FAILURES:
        raise BarongError("resource.otp.too_many_requests", 429, field="code")
    if verify(user, code, allow_recovery=allow_recovery):
        if kv.get(_failures_key(user.uid)):
            kv.delete(_failures_key(user.uid))
        return True
    if _limits_on():
        durable(kv.incr, _failures_key(user.uid), FAILURE_WINDOW)
    return False


# ---- actions --------------------------------------------------------------------------------

def _failed(user_id: int, action: str, reason: str, info: RequestInfo) -> None:
    from barong.services.audit import activities

    user = db.session.get(User, user_id)
    if user is not None:
        activities.record(user, "otp", action, "failed", info, data={"reason": reason})


def _refuse(user: User, action: str, code: str, status: int, reason: str, info: RequestInfo):
    durable(_failed, user.id, action, reason, info)  # the failed activity survives the rollback
    return BarongError(code, status, field="code")


def otpauth_url(user: User, secret: str) -> str:
    """`otpauth://totp/Barong:<email>?algorithm=SHA1&digits=6&issuer=Barong&period=30&secret=<BASE32>`."""
    query = urlencode({"algorithm": "SHA1", "digits": 6, "issuer": ISSUER, "period": 30, "secret": secret})
    return f"otpauth://totp/{quote(ISSUER)}:{quote(user.email)}?{query}"


def qr_png(text: str) -> bytes:
    """A PNG QR code of `text` (about 300 px, as Barong's Vault returns)."""
    import qrcode

    qr = qrcode.QRCode(border=2, box_size=6, error_correction=qrcode.constants.ERROR_CORRECT_M)
    qr.add_data(text)
    qr.make(fit=True)
    buf = io.BytesIO()
    qr.make_image().save(buf, format="PNG")
    return buf.getvalue()


def generate_secret(user: User, info: RequestInfo | None = None) -> tuple[str, str, bytes]:
    """(Re)create the user's TOTP secret (stored encrypted); returns (secret, otpauth url, QR PNG bytes).

    Raises 400 resource.otp.already_enabled when 2FA is on (activity failed).
    Records activity otp / "request QR code for 2FA" / succeed.
    """
    from barong.services.audit import activities

    info = info or RequestInfo.current()
    action = "request QR code for 2FA"
    if user.otp:
        raise _refuse(user, action, "resource.otp.already_enabled", 400, "2FA has been enabled for this account",
                      info)
    secret = pyotp.random_base32()
    user.otp_secret_encrypted = encrypt(secret)
    user.otp_last_step = None
    activities.record(user, "otp", action, "succeed", info)
    db.session.flush()
    url = otpauth_url(user, secret)
    return secret, url, qr_png(url)


def barcode_payload(url: str, png: bytes) -> dict:
    """CONTRACT §4 body of generate_qrcode."""
    return {"data": {"barcode": base64.b64encode(png).decode(), "url": url}}


def _new_recovery_codes() -> list[str]:
    codes = []
    for _ in range(RECOVERY_CODES):
        raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(10))
        codes.append(f"{raw[:5]}-{raw[5:]}")
    return codes


def regenerate_recovery_codes(user: User) -> list[str]:
    """Replace the user's recovery codes with 10 new ones; returns them in clear (shown once)."""
    codes = _new_recovery_codes()
    user.otp_recovery_codes = json.dumps([keyed_hash(_normalize_recovery(c)) for c in codes])
    db.session.flush()
    return codes


def enable(user: User, code: str | None, info: RequestInfo | None = None) -> list[str]:
    """Turn on 2FA with a code of the secret made by `generate_secret`.

    Raises 400 resource.otp.already_enabled, 422 resource.otp.invalid (also when no secret
    was generated); each refusal records a failed activity. On success: otp=true, private
    label `otp: enabled`, activity "enable 2FA", every other session of the user revoked
    (the current one, `info.session_id`, kept). Returns 10 recovery codes (stored hashed).
    """
    from barong.services.accounts import labels, sessions, users
    from barong.services.audit import activities
    from barong.services.delivery import events

    info = info or RequestInfo.current()
    action = "enable 2FA"
    if user.otp:
        raise _refuse(user, action, "resource.otp.already_enabled", 400, "2FA has been enabled for this account",
                      info)
    if not verify_guarded(user, code):
        raise _refuse(user, action, "resource.otp.invalid", 422, "OTP code is invalid", info)
    users.set_otp(user, True)
    events.emit("model.user.updated", events.user_summary(user, omit_nulls=True), {"otp": False})
    if labels.find(user, "otp", "private") is None:
        labels.add(user, "otp", "enabled", scope="private")
    codes = regenerate_recovery_codes(user)
    activities.record(user, "otp", action, "succeed", info)
    from barong.services.accounts import required_actions

    required_actions.completed(user, "enable_2fa")
    sessions.invalidate_all(user.uid, keep=info.session_id)
    return codes


def disable(user: User, code: str | None, info: RequestInfo | None = None) -> None:
    """Turn off 2FA. A recovery code is accepted instead of a TOTP code (lost device).

    Raises 400 resource.otp.not_enabled, 422 resource.otp.invalid (failed activity).
    On success: otp=false (every API key of the user and of their service accounts becomes
    inactive), label `otp` deleted, secret and recovery codes wiped, activity "disable 2FA".
    """
    from barong.services.accounts import labels, users
    from barong.services.audit import activities
    from barong.services.delivery import events

    info = info or RequestInfo.current()
    action = "disable 2FA"
    if not user.otp:
        raise _refuse(user, action, "resource.otp.not_enabled", 400, "2FA has not been enabled for this account",
                      info)
    if not verify_guarded(user, code, allow_recovery=True):
        raise _refuse(user, action, "resource.otp.invalid", 422, "OTP code is invalid", info)
    users.set_otp(user, False)
    events.emit("model.user.updated", events.user_summary(user, omit_nulls=True), {"otp": True})
    label = labels.find(user, "otp", "private")
    if label is not None:
        labels.delete(label)
    user.otp_secret_encrypted = None
    from barong.services.accounts import webauthn

    if not webauthn.has_credentials(user):  # passkeys remain: their recovery codes stay valid
        user.otp_recovery_codes = None
    user.otp_last_step = None
    activities.record(user, "otp", action, "succeed", info)
    from barong.services.accounts import cooldown

    cooldown.start(user, "2fa disable", info)
    db.session.flush()


def check_code(user: User, code: str | None, info: RequestInfo | None = None) -> None:
    """resource/otp/verify: raises 400 resource.otp.already_enabled (sic, Barong's code) when 2FA
    is off, 422 resource.otp.invalid for a wrong code; records "verify 2FA code"."""
    from barong.services.audit import activities

    info = info or RequestInfo.current()
    action = "verify 2FA code"
    if not user.otp:
        raise _refuse(user, action, "resource.otp.already_enabled", 400,
                      "2FA has not been enabled for this account", info)
    if not verify_guarded(user, code):
        raise _refuse(user, action, "resource.otp.invalid", 422, "OTP code is invalid", info)
    activities.record(user, "otp", action, "succeed", info)
