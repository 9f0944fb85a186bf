"""Activity log (append-only). `record` for a user's own actions, `record_admin` for privileged ones."""
from __future__ import annotations

import json

from barong.extensions import db
from barong.models import Activity, User
from barong.services.geoip import country_name
from barong.services.request_info import RequestInfo

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
    return json.dumps(mask_secrets(payload)) if payload else None


def record(user: User, topic: str, action: str, result: str, info: RequestInfo | None = None,
           data: dict | None = None) -> Activity:
    info = info or RequestInfo.current()
    activity = Activity(
        user_id=user.id, category="user", user_ip=info.ip, user_ip_country=country_name(info.ip),
        user_agent=(info.user_agent or "")[:512], topic=topic, action=action, result=result,
        data=_data(data, info.user_agent),
    )
    db.session.add(activity)
    db.session.flush()
    return activity


def record_admin(admin: User, topic: str, action: str, result: str, info: RequestInfo | None = None,
                 target_uid: str | None = None, data: dict | None = None) -> Activity | None:
    """Admin audit entry; a target uid that is not a user's is dropped (Barong drops the row)."""
    info = info or RequestInfo.current()
    if target_uid is not None and not db.session.query(User.id).filter_by(uid=target_uid).first():
        target_uid = None
    activity = Activity(
        user_id=admin.id, category="admin", target_uid=target_uid, user_ip=info.ip,
        user_ip_country=country_name(info.ip), user_agent=(info.user_agent or "")[:512], topic=topic,
        action=action, result=result, data=_data(data, info.user_agent),
    )
    db.session.add(activity)
    db.session.flush()
    return activity
