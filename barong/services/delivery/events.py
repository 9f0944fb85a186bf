"""Barong's Event API, producer side (reference/events-and-mail.md).

`emit(name, record, changes)` writes an outbox row in the current transaction; after
the commit the background mail deliverer is woken (services/delivery/mail_worker.py) and
the in-process subscribers, if any, run. A dispatcher publishes the outbox to RabbitMQ
when it is configured (barong/events/). Names are the original's:
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
from barong.services.infra.unit_of_work import after_commit

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


#: record/changes fields kept encrypted in `event_outbox.payload`, as their columns are
#: (documents.doc_number; profiles' first/last name, dob, address): an outbox row, a dump or
#: a backup holds them only sealed with the at-rest key; `payload_of` opens them for the
#: dispatcher, so the published event carries them as the original's does.
SEALED_FIELDS = frozenset({"doc_number", "first_name", "last_name", "dob", "address",
                           "approve_token", "deny_token"})  # the new-network mail's links
_SEALED = "$sealed"


def seal(part):
    """`part` (a record or changes dict) with SEALED_FIELDS values encrypted (top level)."""
    if not isinstance(part, dict):
        return part
    from barong.security.crypto import encrypt

    return {k: {_SEALED: encrypt(json.dumps(v, default=str))} if k in SEALED_FIELDS and v is not None else v
            for k, v in part.items()}


def _unseal(part):
    if not isinstance(part, dict):
        return part
    from barong.security.crypto import decrypt

    out = {}
    for k, v in part.items():
        if isinstance(v, dict) and set(v) == {_SEALED}:
            clear = decrypt(v[_SEALED])
            v = json.loads(clear) if clear is not None else None
        out[k] = v
    return out


def payload_of(event: OutboxEvent | str) -> dict:
    """The event's payload as published: `{record, name[, changes]}` with sealed fields opened."""
    payload = json.loads(event if isinstance(event, str) else event.payload)
    for part in ("record", "changes"):
        if part in payload:
            payload[part] = _unseal(payload[part])
    return payload


def emit(name: str, record: dict, changes: dict | None = None) -> OutboxEvent:
    """Record the event in the outbox, in the caller's transaction (so it exists iff the
    change that caused it is committed). After the commit the mail deliverer is woken
    and the in-process subscribers run; the dispatcher publishes the row to RabbitMQ when
    configured.

    A mail-sending event starts with `mail_state="pending"`: the request does nothing
    more for it; the deliverer (a background thread, services/delivery/mail_worker.py)
    claims and sends it, and a process dying at any point leaves a row it finds again."""
    from barong.services.delivery import mail

    payload = {"record": seal(record), "name": name}
    if changes:
        payload["changes"] = seal(changes)
    sends_mail = mail.sends_mail(name)
    event = OutboxEvent(event_id=str(uuid.uuid4()), name=name, payload=json.dumps(payload, default=str),
                        state="pending", attempts=0, mail_attempts=0,
                        mail_state="pending" if sends_mail else None,
                        mail_uid=mail.recipient_uid(record) if sends_mail else None)
    db.session.add(event)
    db.session.flush()
    log.info("event %s id=%s exchange=%s routing_key=%s", name, event.event_id, exchange_for(name),
             routing_key_for(name))
    if sends_mail:
        from barong.services.delivery import mail_worker

        after_commit(mail_worker.notify, [event.id])
    from barong.services.delivery import webhooks

    webhooks.enqueue(event)  # one delivery per matching endpoint, in this transaction
    if _subscribers:
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
