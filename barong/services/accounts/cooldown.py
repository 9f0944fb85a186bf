"""Security-change cooldown (issue 15).

After a password change or reset, 2FA disable or reset, a phone or email change, or an
operator unlock, the user carries the private label `security: cooldown` for
BARONG_SECURITY_COOLDOWN seconds (0: never). While it lasts, the permission rows of the
pseudo-role `COOLDOWN_ROLE` (config/seeds.yml: DROP the withdrawal paths) apply on top of
the user's role, in the gateway check and in-process (barong.authz.authorize).

What decides is `users.security_cooldown_until`, read with the account on the authz hot
path (no extra query), so the DROP ends exactly when the cooldown does. The label is what
the user, operators and event consumers see (the original's `model.label.created` event
when it starts); it is removed when the cooldown is over: lazily by the next login or
in-process call of that user, and by `flask security expire-cooldowns` (the events
dispatcher runs it once a minute; run it from cron without a broker). The original emits
no event when a label is deleted; a level/state change it causes emits `model.user.updated`.
A new security change while one runs restarts the period.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app

from barong.extensions import db
from barong.models import User, utcnow
from barong.services.accounts import labels
from barong.services.audit import activities
from barong.services.infra.request_info import RequestInfo

LABEL_KEY, LABEL_VALUE = "security", "cooldown"
#: permission rows with this role apply to users in cooldown (their DROP rows refuse)
COOLDOWN_ROLE = "security_cooldown"


def seconds() -> int:
    return int(current_app.config.get("BARONG_SECURITY_COOLDOWN") or 0)


def start(user: User, reason: str, info: RequestInfo | None = None) -> datetime | None:
    """Begin (or restart) the cooldown of `user` after the security change `reason`
    (password change, 2fa disable, …); the end time, or None when cooldowns are off."""
    ttl = seconds()
    if ttl <= 0 or user is None:
        return None
    until = utcnow() + timedelta(seconds=ttl)
    user.security_cooldown_until = until
    description = f"until {until.isoformat()}Z after {reason}"[:255]
    label = labels.find(user, LABEL_KEY, "private")
    if label is None:
        label = labels.add(user, LABEL_KEY, LABEL_VALUE, scope="private", description=description)
    elif label.value != LABEL_VALUE:
        labels.update(label, value=LABEL_VALUE, description=description)
    else:
        label.description = description
    activities.record(user, "security", "cooldown", "succeed", info, data={"reason": reason,
                                                                          "until": until.isoformat() + "Z"})
    db.session.flush()
    return until


def active(user) -> bool:
    """Is `user` (User, or the authz Account) in cooldown right now?"""
    until = getattr(user, "security_cooldown_until", None)
    return until is not None and until > utcnow()


def expire(user: User) -> bool:
    """End the cooldown of `user` if it is over: clear the mark, remove the label. True when it did."""
    until = user.security_cooldown_until
    if until is not None and until > utcnow():
        return False
    changed = False
    if until is not None:
        user.security_cooldown_until = None
        changed = True
    label = labels.find(user, LABEL_KEY, "private")
    if label is not None and label.value == LABEL_VALUE:
        labels.delete(label)
        changed = True
    if changed:
        db.session.flush()
    return changed


def expire_due(user: User | None) -> None:
    """The lazy path: a login or in-process call of a user whose cooldown has ended."""
    if user is not None and user.security_cooldown_until is not None and user.security_cooldown_until <= utcnow():
        expire(user)


def sweep(limit: int = 500) -> int:
    """Every cooldown that has ended (`flask security expire-cooldowns`); flushes only."""
    due = (db.session.query(User).filter(User.security_cooldown_until.isnot(None),
                                         User.security_cooldown_until <= utcnow())
           .order_by(User.id).limit(limit).all())
    return sum(1 for user in due if expire(user))
