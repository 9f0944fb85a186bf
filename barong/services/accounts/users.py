"""Users: creation with Barong's validations, uid generation, state changes and what
they imply (API keys, service accounts, sessions)."""
from __future__ import annotations

import json
import re
import secrets

from flask import current_app

from barong.errors import ValidationError
from barong.extensions import db
from barong.models import APIKey, Permission, ServiceAccount, User
from barong.security import passwords

_LOCAL = r"[\w\-+!\"'#$%^&*{}/=?`|~]+"
EMAIL_RE = re.compile(
    rf"^{_LOCAL}(?:\.{_LOCAL})*@"
    r"(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.?)*[a-z]{1,63}$",
    re.IGNORECASE | re.UNICODE,
)
USERNAME_RE = re.compile(r"^[a-zA-Z0-9]+$")


def valid_email(email: str | None) -> bool:
    if not email:
        return False
    email = email.strip()
    local, _, _ = email.partition("@")
    return 1 <= len(local) <= 64 and len(email) <= 255 and bool(EMAIL_RE.match(email))


def generate_uid(prefix: str | None = None) -> str:
    prefix = (prefix or current_app.config["BARONG_UID_PREFIX"]).upper()
    while True:
        uid = prefix + secrets.token_hex(5).upper()
        if not db.session.query(User.id).filter_by(uid=uid).first() and \
                not db.session.query(ServiceAccount.id).filter_by(uid=uid).first():
            return uid


def by_email(email: str | None) -> User | None:
    if not email:
        return None
    return db.session.query(User).filter_by(email_lower=email.strip().lower()).first()


def by_uid(uid: str | None) -> User | None:
    if not uid:
        return None
    return db.session.query(User).filter_by(uid=uid).first()


def role_exists(role: str) -> bool:
    from barong.services.accounts.cooldown import COOLDOWN_ROLE

    if role == COOLDOWN_ROLE:  # a pseudo-role whose rows only take away (the security cooldown)
        return False
    return db.session.query(Permission.id).filter_by(role=role).first() is not None


def password_errors(password: str | None) -> list[str]:
    """`password.requirements` / `password.weak` per Barong's policy, or []."""
    from barong.security import password_strength

    cfg = current_app.config
    if not password:
        return ["password.blank"]
    verdict = password_strength.check(
        password, min_entropy=cfg["BARONG_PASSWORD_MIN_ENTROPY"],
        regexp=cfg.get("BARONG_PASSWORD_REGEXP") or password_strength.DEFAULT_REGEXP,
        use_dictionary=cfg["BARONG_PASSWORD_USE_DICTIONARY"],
    )
    return [f"password.{verdict}"] if verdict else []


def validate_fields(email=None, username=None, data=None, role=None, referral_id=None, user=None,
                    check_email=True) -> list[str]:
    errors: list[str] = []
    if check_email:
        if not email or not email.strip():
            errors.append("email.blank")
        elif not valid_email(email):
            errors.append("email.invalid")
        else:
            existing = by_email(email)
            if existing is not None and existing is not user:
                errors.append("email.taken")
    if username is not None:
        if len(username) < 4:
            errors.append("username.too_short")
        elif len(username) > 12:
            errors.append("username.too_long")
        if not USERNAME_RE.match(username):
            errors.append("username.invalid")
        if not errors or not any(e.startswith("username.") for e in errors):
            other = db.session.query(User).filter_by(username=username.lower()).first()
            if other is not None and other is not user:
                errors.append("username.taken")
    if data is not None:
        if len(data) > 1024:
            errors.append("data.too_long")
        else:
            try:
                json.loads(data)
            except (ValueError, TypeError):
                errors.append("data.invalid_format")
    if role is not None and not role_exists(role):
        errors.append("role.doesnt_exist")
    if referral_id is not None and db.session.get(User, referral_id) is None:
        errors.append("referral_id.doesnt_exist")
    return errors


_TAKEN = {name: (lambda code=code: ValidationError(code)) for names, code in (
    (("uq_users_email_lower", "users.email_lower"), "email.taken"),
    (("uq_users_username", "users.username"), "username.taken")) for name in names}


def create(email: str, password: str | None = None, *, username: str | None = None, data: str | None = None,
           referral: User | None = None, role: str = "member", state: str = "pending",
           password_digest: str | None = None, uid: str | None = None) -> User:
    """Insert a user. Raises ValidationError with every failing `<attr>.<reason>` code."""
    errors = validate_fields(email=email, username=username, data=data, role=role)
    if password_digest is None:
        if password is None:
            password = secrets.token_urlsafe(30)  # Barong: a random password when none is given
        else:
            errors += password_errors(password)
    if errors:
        raise ValidationError(list(dict.fromkeys(errors)))
    from barong.services.delivery import events

    email = email.strip()
    user = User(uid=uid or generate_uid(), email=email, email_lower=email.lower(),
                username=username.lower() if username else None, data=data, role=role, state=state, level=0,
                otp=False, referral_id=referral.id if referral else None,
                password_digest=password_digest or passwords.hash_password(password))
    from barong.services.infra.unit_of_work import add_unique

    # a concurrent signup with the same address passes the check above too: the index decides
    add_unique(user, _TAKEN)
    events.emit("model.user.created", events.user_summary(user, omit_nulls=True))
    return user


def set_password(user: User, password: str) -> None:
    """Raises ValidationError(password.requirements|weak)."""
    errors = password_errors(password)
    if errors:
        raise ValidationError(errors)
    user.password_digest = passwords.hash_password(password)
    db.session.flush()


def apply_state(user: User, state: str) -> None:
    """Set `state` and everything it implies (data-model.md §1 "On update", CONTRACT §4)."""
    from barong.services.accounts import sessions

    old = user.state
    user.state = state
    if state != "active":
        deactivate_api_keys(user)
        for sa in db.session.query(ServiceAccount).filter_by(owner_id=user.id):
            sa.state = state
    if state in ("banned", "deleted", "locked") and old != state:
        sessions.invalidate_all(user.uid)
    db.session.flush()


def set_otp(user: User, enabled: bool) -> None:
    """Turn the 2FA flag on/off; off deactivates the user's API keys. Emits model.user.updated."""
    from barong.services.delivery import events

    old = user.otp
    user.otp = enabled
    if not enabled:
        deactivate_api_keys(user)
    db.session.flush()
    if old != enabled:
        events.emit("model.user.updated", events.user_summary(user, omit_nulls=True), {"otp": old})


def update_role_and_data(user: User, role: str | None = None, data: str | None = None) -> User:
    """Management `users/update`: set `role` and/or `data`, emitting model.user.updated with
    the previous values of the fields that changed. Raises ValidationError
    (role.doesnt_exist, data.invalid_format, …) and changes nothing then."""
    from barong.services.delivery import events

    errors = validate_fields(role=role, data=data, user=user, check_email=False)
    if errors:
        raise ValidationError(errors)
    changes = {}
    for name, value in (("role", role), ("data", data)):
        if value is not None and getattr(user, name) != value:
            changes[name] = getattr(user, name)
            setattr(user, name, value)
    db.session.flush()
    if changes:
        events.emit("model.user.updated", events.user_summary(user, omit_nulls=True), changes)
    return user


def deactivate_api_keys(user: User) -> None:
    sa_ids = [i for (i,) in db.session.query(ServiceAccount.id).filter_by(owner_id=user.id)]
    q = db.session.query(APIKey).filter(APIKey.state == "active")
    keys = q.filter(APIKey.key_holder_account_type == "User", APIKey.key_holder_account_id == user.id).all()
    if sa_ids:
        keys += q.filter(APIKey.key_holder_account_type == "ServiceAccount",
                         APIKey.key_holder_account_id.in_(sa_ids)).all()
    for key in keys:
        key.state = "inactive"
