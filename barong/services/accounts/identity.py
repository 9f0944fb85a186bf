"""Account lifecycle before login: signup, login/logout, email confirmation, password reset.

Each function does everything the action implies (activity, labels, events → mail,
sessions) and raises BarongError with the original's codes.
"""
from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from flask import current_app

from barong.errors import BarongError
from barong.extensions import db
from barong.models import User, utcnow
from barong.security import passwords, tokens
from barong.services.accounts import labels, otp, sessions, users
from barong.services.audit import activities
from barong.services.delivery import events
from barong.services.infra import kv
from barong.services.infra.kv import email_key  # noqa: F401  (identity.email_key: callers and tests)
from barong.services.infra.request_info import RequestInfo
from barong.services.infra.unit_of_work import durable


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
        referral = users.by_uid(refid.upper())
        if referral is None:
            raise BarongError("identity.user.referral_doesnt_exist", 422)
    user = users.create(email, password, username=username, data=data, referral=referral)
    activities.record(user, "account", "signup", "succeed", info)
    first = current_app.config["BARONG_FIRST_REGISTRATION_SUPERADMIN"] and db.session.query(User.id).count() == 1 \
        and _claim_first_registration(user)
    if first:
        user.role = "superadmin"
        labels.add(user, "email", "verified", scope="private")  # → state active, level 1
        users.apply_state(user, "active")
    else:
        send_confirmation(user)
    session = sessions.open_session(user, info)
    return user, session


_FIRST = "first_registration"


class _NotFirst(BarongError):
    """Internal: another signup holds the first-registration mark (never reaches a response)."""


def _claim_first_registration(user: User) -> bool:
    """Concurrent first signups each count one user (their own, uncommitted): only the one
    whose insert of the `first_registration` mark (a kv_entries row, whatever the kv store)
    wins becomes superadmin; the mark goes if that signup rolls back."""
    from barong.models import KVEntry
    from barong.services.infra.unit_of_work import add_unique

    lost = {name: (lambda: _NotFirst("identity.user.not_first")) for name in ("pk_kv_entries", "kv_entries.key")}
    try:
        add_unique(KVEntry(key=_FIRST, value=user.uid, expires_at=253402300799), lost)  # 9999-12-31: kept
    except _NotFirst:
        return False
    return True


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
#
# Brute force: failed logins are counted per email address (known or not, so the answer
# never tells whether an account exists) in expiring kv marks. After
# BARONG_LOGIN_LOCKOUT_ATTEMPTS failures within BARONG_LOGIN_LOCKOUT_TIME seconds the
# address is locked for BARONG_LOGIN_LOCKOUT_TIME: every login for it answers 401
# identity.session.locked, even with the right password; a real account gets a mail and
# `locked_until` (shown to operators, lifted by `unlock`). BARONG_RATELIMIT_ENABLED=false
# turns this off (CONTRACT §2).


def _lockout_enabled() -> bool:
    return bool(current_app.config["BARONG_RATELIMIT_ENABLED"])


def is_locked(email: str | None) -> bool:
    return _lockout_enabled() and kv.get(f"login_locked:{email_key(email)}") is not None


#: `locked_until` of a lock that holds until an operator or a password reset lifts it
#: (BARONG_LOGIN_MAX_TEMPORARY_LOCKS reached, or the owner's "this wasn't me")
PERMANENT_LOCK = datetime(9999, 12, 31)


def is_held(user: User | None) -> bool:
    """Is `user` locked until lifted (the temporary locks live in the kv marks, `is_locked`)?"""
    return user is not None and user.locked_until is not None and user.locked_until >= PERMANENT_LOCK


def lock_account(user: User, reason: str) -> None:
    """Lock `user` until an operator unlocks it or a password reset lifts it (mails the owner)."""
    user.locked_until, user.failed_logins = PERMANENT_LOCK, 0
    events.emit("system.user.account.locked", {"user": events.user_summary(user), "domain": _domain(),
                                               "locked_until": None, "permanent": True, "reason": reason})
    db.session.flush()


def _ip_key(ip: str | None) -> str:
    from barong.security.crypto import sha256_hex

    return sha256_hex(ip or "")[:40]


def ip_is_dirty(ip: str | None) -> bool:
    """Have failed logins from `ip` named BARONG_LOGIN_DIRTY_IP_ACCOUNTS different addresses
    within BARONG_LOGIN_LOCKOUT_TIME (a credential-stuffing address)?"""
    if not _lockout_enabled() or not ip:
        return False
    raw = kv.get(f"login_ip_failures:{_ip_key(ip)}")
    return bool(raw) and len(raw.split(",")) >= current_app.config["BARONG_LOGIN_DIRTY_IP_ACCOUNTS"]


def _count_ip_failure(ip: str | None, key: str) -> None:
    """Remember which addresses failed from `ip` (hashed, at most the threshold's worth)."""
    if not ip:
        return
    mark = f"login_ip_failures:{_ip_key(ip)}"
    seen = [k for k in (kv.get(mark) or "").split(",") if k]
    short = key[:12]
    if short not in seen and len(seen) < current_app.config["BARONG_LOGIN_DIRTY_IP_ACCOUNTS"]:
        seen.append(short)
    kv.set(mark, ",".join(seen), current_app.config["BARONG_LOGIN_LOCKOUT_TIME"])


def check_login_captcha(ip: str | None, response) -> None:
    """A dirty address (`ip_is_dirty`) must pass the captcha when one is configured, even
    where `session_create` is not a captcha-protected endpoint; clean addresses are not
    asked. Raises the captcha errors (400 identity.captcha.required, 422 …verification_failed)."""
    from barong.services.access import captcha

    if captcha.enabled() and not captcha.protects("session_create") and ip_is_dirty(ip):
        captcha.verify(response, scope="identity.session")


def _count_failure(email: str, user_id: int | None, ip: str | None = None) -> None:
    """Runs durably (survives the 401's rollback)."""
    if not _lockout_enabled():
        return
    key = email_key(email)
    _count_ip_failure(ip, key)
    window = current_app.config["BARONG_LOGIN_LOCKOUT_TIME"]
    failures = int(kv.get(f"login_failures:{key}") or 0) + 1
    user = db.session.get(User, user_id) if user_id else None
    if failures < current_app.config["BARONG_LOGIN_LOCKOUT_ATTEMPTS"]:
        kv.set(f"login_failures:{key}", str(failures), window)
        if user is not None:
            user.failed_logins = failures
        return
    kv.set(f"login_locked:{key}", "locked", window)
    kv.delete(f"login_failures:{key}")
    if user is not None:
        max_locks = current_app.config["BARONG_LOGIN_MAX_TEMPORARY_LOCKS"]
        if max_locks and (user.temporary_locks or 0) >= max_locks:
            lock_account(user, f"{max_locks} temporary locks")  # this one holds until lifted
            return
        user.temporary_locks = (user.temporary_locks or 0) + 1
        user.failed_logins = 0
        user.locked_until = utcnow() + timedelta(seconds=window)
        events.emit("system.user.account.locked", {"user": events.user_summary(user), "domain": _domain(),
                                                   "locked_until": user.locked_until.isoformat() + "Z"})
    db.session.flush()


def _login_failed(user_id: int, action: str, reason: str, info: RequestInfo) -> None:
    user = db.session.get(User, user_id)
    if user is not None:
        activities.record(user, "session", action, "failed", info, data={"reason": reason})


def login(email: str, password: str, info: RequestInfo, otp_code: str | None = None,
          webauthn_assertion=None) -> tuple[User, sessions.SessionData]:
    """Check credentials (state before password, as Barong), then 2FA; open a session.

    Raises 401 identity.session.locked (address locked after repeated failures),
    401 identity.session.invalid_params|banned|deleted|not_active|missing_otp|missing_webauthn,
    403 identity.session.invalid_otp|invalid_webauthn|webauthn_cloned. The second factor is a
    TOTP/recovery code or a passkey assertion (barong.services.accounts.second_factor).
    Failures are recorded as activities even though the request rolls back (`durable`).
    """
    password = password or ""
    user = users.by_email(email)
    # a permanent lock (max temporary locks, "this wasn't me") holds even with rate limits off
    if is_locked(email) or is_held(user):
        passwords.dummy_verify(password)  # same time as a real check
        if user is not None:
            durable(_login_failed, user.id, "login",
                    "Account locked" if user.locked_until == PERMANENT_LOCK else "Account temporarily locked", info)
        raise BarongError("identity.session.locked", 401)
    if user is None:
        passwords.dummy_verify(password)
        durable(_count_failure, email, None, info.ip)
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
    if not passwords.verify(user.password_digest, password):
        durable(_login_failed, user.id, "login", "Invalid Email or Password", info)
        durable(_count_failure, email, user.id, info.ip)
        raise BarongError("identity.session.invalid_params", 401)
    from barong.services.accounts import second_factor

    def second_factor_failed(reason: str) -> None:
        durable(_login_failed, user.id, "login::2fa", reason, info)
        durable(_count_failure, email, user.id, info.ip)

    action, amr = second_factor.login_step(user, otp_code, webauthn_assertion, info, second_factor_failed)
    from barong.services.accounts import cooldown, networks

    networks.check_login(user, info)  # 403 identity.session.new_network (approval on, unknown network)
    if passwords.needs_rehash(user.password_digest):
        user.password_digest = passwords.hash_password(password)
    if user.failed_logins or user.locked_until or user.temporary_locks:
        user.failed_logins, user.locked_until, user.temporary_locks = 0, None, 0
    cooldown.expire_due(user)
    if _lockout_enabled() and kv.get(f"login_failures:{email_key(email)}") is not None:
        kv.delete(f"login_failures:{email_key(email)}")
    activities.record(user, "session", action, "succeed", info)
    session = sessions.open_session(user, info, amr=amr)
    events.emit("system.session.create",
                {"user": events.user_summary(user), "user_ip": info.ip, "user_agent": info.user_agent})
    return user, session


def logout(session: sessions.SessionData | None, info: RequestInfo, csrf_token: str | None = None, *,
           csrf_checked: bool = False) -> None:
    """Raises 404 identity.session.not_found without a session. Logging out changes state like
    any cookie call: unless the caller checked the token already (the site's form, by
    CSRFProtect) and with BARONG_CSRF_PROTECTION on, `csrf_token` must be the session's —
    401 authz.missing_csrf_token / authz.csrf_token_mismatch (so no cross-site request can
    sign a user out)."""
    user = users.by_uid(session.uid) if session else None
    if user is None:
        raise BarongError("identity.session.not_found", 404)
    if not csrf_checked and current_app.config["BARONG_CSRF_PROTECTION"]:
        if not csrf_token:
            raise BarongError("authz.missing_csrf_token", 401)
        if not sessions.csrf_ok(session, csrf_token):
            raise BarongError("authz.csrf_token_mismatch", 401)
    activities.record(user, "session", "logout", "succeed", info)
    sessions.destroy(session)


def unlock(user: User, *, by_operator: bool = False, info: RequestInfo | None = None) -> None:
    """Lift a brute-force lockout, temporary or permanent (operators; also a successful
    password reset). An operator's unlock starts the security cooldown (services/accounts/cooldown.py)."""
    user.locked_until, user.failed_logins, user.temporary_locks = None, 0, 0
    if by_operator:
        from barong.services.accounts import cooldown

        cooldown.start(user, "operator unlock", info)
    kv.delete(f"login_locked:{email_key(user.email)}")
    kv.delete(f"login_failures:{email_key(user.email)}")
    db.session.flush()


# ---- password reset -------------------------------------------------------------------------

def request_password_reset(email: str, info: RequestInfo) -> None:
    """Unknown email: nothing happens (no enumeration)."""
    user = users.by_email(email)
    if user is None:
        return
    reset_token = secrets.token_hex(10)
    kv.set(f"reset_password_{email_key(user.email)}", reset_token, _ttl())
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
    cached = kv.get(f"reset_password_{email_key(user.email)}")
    from barong.security.crypto import equal

    if not equal(cached, claims.get("reset_token")) or kv.get(f"utilized:{claims['jti']}"):
        raise BarongError("identity.user.utilized_token", 422)
    try:
        users.set_password(user, password)
    except BarongError as err:
        durable(_reset_failed, user.id, info, ",".join(err.codes))
        raise
    kv.delete(f"reset_password_{email_key(user.email)}")
    kv.set(f"utilized:{claims['jti']}", "utilized", _ttl())
    unlock(user)
    activities.record(user, "password", "password reset", "succeed", info)
    from barong.services.accounts import cooldown

    cooldown.start(user, "password reset", info)
    from barong.services.accounts import required_actions

    required_actions.completed(user, "change_password")
    events.emit("system.user.password.reset", {"user": events.user_summary(user), "domain": _domain()})
    sessions.invalidate_all(user.uid)
    return user
