"""Activity log (append-only). `record` for a user's own actions, `record_admin` for privileged ones.
Each row is appended to its actor's hash chain in the same transaction (audit.chain)."""
from __future__ import annotations

import json

from barong.extensions import db
from barong.models import Activity, User
from barong.rawinput import storable
from barong.services.audit import chain
from barong.services.infra.geoip import country_name
from barong.services.infra.request_info import RequestInfo

SECRET_KEYS = {"password", "old_password", "new_password", "confirm_password", "otp_code", "code", "secret",
               "token", "reset_password_token", "whitelink_token", "captcha_response", "password_digest",
               "totp_code", "jwt", "recovery_code"}
_KNOWN_BROWSERS = ("mozilla", "chrome", "safari", "firefox", "edge", "opera", "curl", "python", "okhttp",
                   "postman", "wget", "httpie", "go-http-client", "java", "node")


def mask_secrets(data):
    """A copy of `data` with secret-looking values replaced by `[FILTERED]`."""
    if isinstance(data, dict):
        return {k: ("[FILTERED]" if str(k).lower() in SECRET_KEYS else mask_secrets(v)) for k, v in data.items()}
    if isinstance(data, list):
        return [mask_secrets(v) for v in data]
    return data


def _data(data, user_agent: str) -> str | None:
    payload = dict(data or {})
    if user_agent and not any(b in user_agent.lower() for b in _KNOWN_BROWSERS):
        payload["note"] = "Detected suspicious browser"
    # json.dumps escapes NUL bytes (\u0000) and, with ensure_ascii, lone surrogates: storable text
    return json.dumps(mask_secrets(payload)) if payload else None


def _text(value, limit: int | None = None) -> str | None:
    """A request-derived string for an activity column: never the reason the write fails
    (a NUL byte from `uid=a%00b`, a user agent past the column's length)."""
    return None if value is None else storable(str(value), limit)


def record(user: User, topic: str, action: str, result: str, info: RequestInfo | None = None,
           data: dict | None = None) -> Activity:
    info = info or RequestInfo.current()
    activity = Activity(
        user_id=user.id, category="user", user_ip=info.ip, user_ip_country=country_name(info.ip),
        user_agent=_text(info.user_agent or "", 512), topic=_text(topic, 64), action=_text(action, 128),
        result=result, data=_data(data, info.user_agent),
    )
    db.session.add(activity)
    db.session.flush()
    chain.append(activity)
    return activity


def record_admin(admin: User, topic: str, action: str, result: str, info: RequestInfo | None = None,
                 target_uid: str | None = None, data: dict | None = None) -> Activity | None:
    """Admin audit entry; a target uid that is not a user's is dropped (Barong drops the row)."""
    info = info or RequestInfo.current()
    if target_uid is not None and (not isinstance(target_uid, str) or len(target_uid) > 32 or
                                   storable(target_uid) != target_uid or
                                   not db.session.query(User.id).filter_by(uid=target_uid).first()):
        target_uid = None  # a NUL-bearing or overlong uid is no user's: not even looked up
    activity = Activity(
        user_id=admin.id, category="admin", target_uid=target_uid, user_ip=_text(info.ip, 64),
        user_ip_country=country_name(info.ip), user_agent=_text(info.user_agent or "", 512),
        topic=_text(topic, 64), action=_text(action, 128), result=result, data=_data(data, info.user_agent),
    )
    db.session.add(activity)
    db.session.flush()
    chain.append(activity)
    return activity
