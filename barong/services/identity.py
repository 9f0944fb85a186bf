"""Account lifecycle before login: signup, login/logout, email confirmation, password reset.

Each function does everything the action implies (activity, labels, events → mail,
sessions) and raises BarongError with the original's codes.
"""
from __future__ import annotations

import secrets
from datetime import timedelta

from flask import current_app

from barong.errors import BarongError
from barong.extensions import db
from barong.models import User, utcnow
from barong.security import passwords, tokens
from barong.services import activities, events, kv, labels, otp, sessions, users
from barong.services.request_info import RequestInfo
from barong.services.unit_of_work import durable


def _domain() -> str:
    return current_app.config["BARONG_DOMAIN"]


def _ttl() -> int:
    return current_app.config["BARONG_JWT_EXPIRE_TIME"]


# ---- signup ---------------------------------------------------------------------------------

def signup(email: str, password: str, info: RequestInfo, *, username: str | None = None, refid: str | None = None,
           data: str | None = None) -> tuple[User, sessions.SessionData]:
    """Register a user and open a session. Raises 422 identity.user.invalid_referral_format /
    referral_doesnt_exist, or ValidationError (email.taken, password.weak, …)."""
    referral = None
    if refid:
        if not refid.upper().startswith(current_app.config["BARONG_UID_PREFIX"]):
            raise BarongError("identity.user.invalid_referral_format", 422)
        referral = users.by_uid(refid)
        if referral is None:
            raise BarongError("identity.user.referral_doesnt_exist", 422)
    user = users.create(email, password, username=username, data=data, referral=referral)
    activities.record(user, "account", "signup", "succeed", info)
    first = current_app.config["BARONG_FIRST_REGISTRATION_SUPERADMIN"] and db.session.query(User.id).count() == 1
    if first:
        user.role = "superadmin"
        labels.add(user, "email", "verified", scope="private")  # → state active, level 1
        users.apply_state(user, "active")
    else:
        send_confirmation(user)
    session = sessions.open_session(user, info)
    return user, session


def send_confirmation(user: User) -> None:
    token = tokens.issue("confirmation", _ttl(), email=user.email, uid=user.uid)
    events.emit("system.user.email.confirmation.token",
                {"user": events.user_summary(user), "domain": _domain(), "token": token})


def resend_confirmation(email: str) -> None:
    """Unknown or already active email: nothing happens (no enumeration)."""
    user = users.by_email(email)
    if user is None or user.state == "active":
        return
    send_confirmation(user)


def confirm_email(token: str, info: RequestInfo) -> tuple[User, sessions.SessionData]:
    claims = tokens.verify(token, "confirmation")
    user = users.by_email(claims.get("email"))
    if user is None or user.state == "active":
        raise BarongError("identity.user.active_or_doesnt_exist", 422)
    if kv.get(f"utilized:{claims['jti']}"):
        raise BarongError("identity.user.utilized_token", 422)
    kv.set(f"utilized:{claims['jti']}", "utilized", _ttl())
    labels.set_value(user, "email", "verified", scope="private")
    session = sessions.open_session(user, info)
    events.emit("system.user.email.confirmed", {"user": events.user_summary(user), "domain": _domain()})
    return user, session


# ---- login ----------------------------------------------------------------------------------

def _login_failed(user_id: int, action: str, reason: str, info: RequestInfo, count: bool = False) -> None:
    user = db.session.get(User, user_id)
    if user is None:
        return
    activities.record(user, "session", action, "failed", info, data={"reason": reason})
    if count:
        user.failed_logins = (user.failed_logins or 0) + 1
        limit = current_app.config["BARONG_LOGIN_LOCKOUT_ATTEMPTS"]
        if current_app.config["BARONG_RATELIMIT_ENABLED"] and user.failed_logins >= limit:
            user.locked_until = utcnow() + timedelta(seconds=current_app.config["BARONG_LOGIN_LOCKOUT_TIME"])
            user.failed_logins = 0
            events.emit("system.user.account.locked", {"user": events.user_summary(user), "domain": _domain(),
                                                       "locked_until": user.locked_until.isoformat() + "Z"})
        db.session.flush()


def login(email: str, password: str, info: RequestInfo, otp_code: str | None = None) -> tuple[User, sessions.SessionData]:
    """Check credentials (state before password, as Barong), then 2FA; open a session.

    Raises 401 identity.session.invalid_params|banned|deleted|not_active|missing_otp|locked,
    403 identity.session.invalid_otp.
    """
    user = users.by_email(email)
    if user is None:
        passwords.dummy_verify(password or "")
        raise BarongError("identity.session.invalid_params", 401)
    if user.state == "banned":
        durable(_login_failed, user.id, "login", "Your account is banned", info)
        raise BarongError("identity.session.banned", 401)
    if user.state == "deleted":
        durable(_login_failed, user.id, "login", "Your account is deleted", info)
        raise BarongError("identity.session.deleted", 401)
    if user.state not in ("active", "pending"):
        durable(_login_failed, user.id, "login", "Your account is not active", info)
        raise BarongError("identity.session.not_active", 401)
    if user.locked_until and user.locked_until > utcnow():
        passwords.dummy_verify(password or "")
        durable(_login_failed, user.id, "login", "Account temporarily locked", info)
        raise BarongError("identity.session.locked", 401)
    if not passwords.verify(user.password_digest, password or ""):
        durable(_login_failed, user.id, "login", "Invalid Email or Password", info, True)
        raise BarongError("identity.session.invalid_params", 401)
    action = "login"
    if user.otp:
        action = "login::2fa"
        if not (otp_code or "").strip():
            raise BarongError("identity.session.missing_otp", 401)
        if not otp.verify(user, otp_code, allow_recovery=True):
            durable(_login_failed, user.id, "login::2fa", "The code is invalid", info, True)
            raise BarongError("identity.session.invalid_otp", 403)
    if passwords.needs_rehash(user.password_digest):
        user.password_digest = passwords.hash_password(password)
    user.failed_logins, user.locked_until = 0, None
    activities.record(user, "session", action, "succeed", info)
    session = sessions.open_session(user, info)
    events.emit("system.session.create",
                {"user": events.user_summary(user), "user_ip": info.ip, "user_agent": info.user_agent})
    return user, session


def logout(session: sessions.SessionData | None, info: RequestInfo) -> None:
    """Raises 404 identity.session.not_found without a session."""
    user = users.by_uid(session.uid) if session else None
    if user is None:
        raise BarongError("identity.session.not_found", 404)
    activities.record(user, "session", "logout", "succeed", info)
    sessions.destroy(session)


def unlock(user: User) -> None:
    """Operators lift a brute-force lockout."""
    user.locked_until, user.failed_logins = None, 0
    db.session.flush()


# ---- password reset -------------------------------------------------------------------------

def request_password_reset(email: str, info: RequestInfo) -> None:
    """Unknown email: nothing happens (no enumeration)."""
    user = users.by_email(email)
    if user is None:
        return
    reset_token = secrets.token_hex(10)
    kv.set(f"reset_password_{user.email_lower}", reset_token, _ttl())
    token = tokens.issue("reset", _ttl(), email=user.email, uid=user.uid, reset_token=reset_token)
    activities.record(user, "password", "request password reset", "succeed", info)
    events.emit("system.user.password.reset.token",
                {"user": events.user_summary(user), "domain": _domain(), "token": token})


def _reset_failed(user_id: int, info: RequestInfo, reason: str) -> None:
    user = db.session.get(User, user_id)
    if user is not None:
        activities.record(user, "password", "password reset", "failed", info, data={"reason": reason})


def reset_password(token: str, password: str, confirm_password: str, info: RequestInfo) -> User:
    """Raises 422 identity.user.passwords_doesnt_match, jwt.decode_and_verify.*,
    identity.user.utilized_token, password.requirements|weak."""
    if password != confirm_password:
        raise BarongError("identity.user.passwords_doesnt_match", 422)
    claims = tokens.verify(token, "reset")
    user = users.by_email(claims.get("email"))
    if user is None:
        raise BarongError("identity.user.utilized_token", 422)
    cached = kv.get(f"reset_password_{user.email_lower}")
    from barong.security.crypto import equal

    if not equal(cached, claims.get("reset_token")) or kv.get(f"utilized:{claims['jti']}"):
        raise BarongError("identity.user.utilized_token", 422)
    try:
        users.set_password(user, password)
    except BarongError as err:
        durable(_reset_failed, user.id, info, ",".join(err.codes))
        raise
    kv.delete(f"reset_password_{user.email_lower}")
    kv.set(f"utilized:{claims['jti']}", "utilized", _ttl())
    user.failed_logins, user.locked_until = 0, None
    activities.record(user, "password", "password reset", "succeed", info)
    events.emit("system.user.password.reset", {"user": events.user_summary(user), "domain": _domain()})
    sessions.invalidate_all(user.uid)
    return user
