"""Barong's Event API, producer side (reference/events-and-mail.md).

`emit(name, record, changes)` writes an outbox row in the current transaction; after
the commit the in-process subscribers (the mailer) run. A dispatcher publishes the
outbox to RabbitMQ when it is configured (barong/events/). Names are the original's:
`model.user.created`, `system.user.email.confirmation.token`, …
"""
from __future__ import annotations

import json
import logging
import uuid
from typing import Callable

from barong.events import exchange_for, routing_key_for
from barong.extensions import db
from barong.models import OutboxEvent, iso
from barong.services.unit_of_work import after_commit

log = logging.getLogger(__name__)
_subscribers: list[Callable[[OutboxEvent], None]] = []


def subscribe(fn: Callable[[OutboxEvent], None]) -> Callable:
    """Register an in-process consumer, called after commit with each new outbox event."""
    if fn not in _subscribers:
        _subscribers.append(fn)
    return fn


def user_summary(user, omit_nulls: bool = False) -> dict:
    data = {
        "uid": user.uid, "username": user.username, "email": user.email, "role": user.role, "level": user.level,
        "otp": user.otp, "state": user.state, "referral_uid": user.referral_uid,
        "created_at": iso(user.created_at), "updated_at": iso(user.updated_at),
    }
    return {k: v for k, v in data.items() if v is not None} if omit_nulls else data


def emit(name: str, record: dict, changes: dict | None = None) -> OutboxEvent:
    """Record the event in the outbox, in the caller's transaction (so it exists iff the
    change that caused it is committed). After the commit the in-process subscribers
    (the mailer) run; the dispatcher publishes the row to RabbitMQ when configured.

    A mail-sending event starts with `mail_state="pending"`, so a process dying between
    the commit and the mailer leaves a row the mail retry finds."""
    from barong.services import mail

    payload = {"record": record, "name": name}
    if changes:
        payload["changes"] = changes
    event = OutboxEvent(event_id=str(uuid.uuid4()), name=name, payload=json.dumps(payload, default=str),
                        state="pending", attempts=0, mail_attempts=0,
                        mail_state="pending" if mail.sends_mail(name) else None)
    db.session.add(event)
    db.session.flush()
    log.info("event %s id=%s exchange=%s routing_key=%s", name, event.event_id, exchange_for(name),
             routing_key_for(name))
    after_commit(_deliver_in_process, event.id)
    return event


def _deliver_in_process(event_id: int) -> None:
    event = db.session.get(OutboxEvent, event_id)
    if event is None:
        return
    for fn in list(_subscribers):
        try:
            fn(event)
        except Exception:
            log.exception("event subscriber %s failed for %s", getattr(fn, "__name__", fn), event.name)
    if db.session.dirty or db.session.new:
        db.session.commit()
