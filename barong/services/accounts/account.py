"""A signed-in user's own account: the `data` field, self-deletion, password change,
activity history."""
from __future__ import annotations

from flask import current_app

from barong.errors import BarongError, ValidationError
from barong.extensions import db
from barong.models import Activity, User
from barong.security import passwords
from barong.services.accounts import labels, otp, sessions, users
from barong.services.audit import activities
from barong.services.delivery import events
from barong.services.infra.request_info import RequestInfo
from barong.services.infra.unit_of_work import durable

TOPICS = ("all", "session", "otp", "password", "account")


def update_data(user: User, data: str) -> User:
    """Replace the user's `data` JSON string. Raises ValidationError data.invalid_format / data.too_long."""
    errors = users.validate_fields(data=data, check_email=False)
    if errors:
        raise ValidationError(errors)
    old = user.data
    user.data = data
    db.session.flush()
    if old != data:
        events.emit("model.user.updated", events.user_summary(user, omit_nulls=True), {"data": old})
    return user


def delete_me(user: User, password: str, otp_code: str | None, info: RequestInfo | None = None) -> User:
    """Self-deletion: private label `delete: by_user` → state `deleted` (API keys deactivated,
    service accounts deleted, every session revoked — CONTRACT §4).

    Raises 422 resource.user.invalid_password, resource.user.missing_otp_code (2FA on, no
    code), resource.user.empty_otp_code, resource.user.invalid_otp. Emits system.user.account.deleted.
    """
    if not passwords.verify(user.password_digest, password or ""):
        raise BarongError("resource.user.invalid_password", 422, field="password")
    if user.otp:
        if otp_code is None:
            raise BarongError("resource.user.missing_otp_code", 422, field="otp_code")
        if not str(otp_code).strip():
            raise BarongError("resource.user.empty_otp_code", 422, field="otp_code")
        if not otp.verify_guarded(user, otp_code):
            raise BarongError("resource.user.invalid_otp", 422, field="otp_code")
    labels.set_value(user, "delete", "by_user", scope="private")
    if user.state != "deleted":  # a custom state_triggers config may not map `delete`
        users.apply_state(user, "deleted")
    sessions.invalidate_all(user.uid)
    events.emit("system.user.account.deleted", {"user": events.user_summary(user)})
    return user


def _password_failed(user_id: int, reason: str, info: RequestInfo) -> None:
    user = db.session.get(User, user_id)
    if user is not None:
        activities.record(user, "password", "password change", "failed", info, data={"reason": reason})


def change_password(user: User, old: str, new: str, confirm: str, info: RequestInfo | None = None,
                    keep_session_id: str | None = None) -> User:
    """Change the password; every other session of the user is revoked (`keep_session_id`
    survives — pass None to revoke them all).

    Raises, in Barong's order (each recording a failed activity): 422 resource.password.doesnt_match,
    400 resource.password.prev_pass_not_correct, 400 resource.password.no_change_provided,
    422 password.requirements / password.weak. Emits system.user.password.change.
    """
    info = info or RequestInfo.current()

    def refuse(code: str, status: int, reason: str, field: str):
        durable(_password_failed, user.id, reason, info)
        return BarongError(code, status, field=field)

    if new != confirm:
        raise refuse("resource.password.doesnt_match", 422, "New passwords don't match", "confirm_password")
    if not passwords.verify(user.password_digest, old or ""):
        raise refuse("resource.password.prev_pass_not_correct", 400, "Previous password is not correct",
                     "old_password")
    if old == new:
        raise refuse("resource.password.no_change_provided", 400, "New password cant be the same, as old one",
                     "new_password")
    errors = users.password_errors(new)
    if errors:
        raise refuse(errors[0], 422, "Password is too weak", "new_password")
    users.set_password(user, new)
    activities.record(user, "password", "password change", "succeed", info)
    from barong.services.accounts import cooldown

    cooldown.start(user, "password change", info)
    from barong.services.accounts import required_actions

    required_actions.completed(user, "change_password")
    events.emit("system.user.password.change",
                {"user": events.user_summary(user), "domain": current_app.config["BARONG_DOMAIN"]})
    sessions.invalidate_all(user.uid, keep=keep_session_id)
    return user


def activity(user: User, topic: str, filters: dict | None = None):
    """The user's activities, newest first, as a query (paginate it).

    `filters`: time_from / time_to (unix seconds; created_at >= from, < to), result.
    Raises 422 resource.user.wrong_topic, resource.user.no_activity (nothing matches).
    """
    from datetime import datetime, timezone

    if topic not in TOPICS:
        raise BarongError("resource.user.wrong_topic", 422)
    filters = filters or {}
    q = db.session.query(Activity).filter(Activity.user_id == user.id)
    if topic != "all":
        q = q.filter(Activity.topic == topic)
    if filters.get("time_from") is not None:
        q = q.filter(Activity.created_at >= datetime.fromtimestamp(int(filters["time_from"]), timezone.utc)
                     .replace(tzinfo=None))
    if filters.get("time_to") is not None:
        q = q.filter(Activity.created_at < datetime.fromtimestamp(int(filters["time_to"]), timezone.utc)
                     .replace(tzinfo=None))
    if filters.get("result"):
        q = q.filter(Activity.result == filters["result"])
    q = q.order_by(Activity.id.desc())
    if q.first() is None:
        raise BarongError("resource.user.no_activity", 422)
    return q
