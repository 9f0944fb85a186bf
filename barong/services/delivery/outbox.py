"""The event outbox for operators: counts, a paged list, retry.

The console's Outbox page and `flask events stats|retry` render from these. Services
flush; the caller (request / CLI) commits.
"""
from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from sqlalchemy import func

from barong.errors import BarongError, NotFound
from barong.events import broker_configured
from barong.extensions import db
from barong.models import OutboxEvent

#: filters `list_events` accepts (None / "all" = every row)
STATES = ("pending", "sent", "failed", "mail_pending", "mail_sent", "mail_failed")


def stats() -> dict:
    """{pending, sent, failed, mail_pending, mail_sent, mail_failed, total,
    oldest_pending_at (datetime|None), broker_configured (bool)}."""
    data = {state: 0 for state in STATES}
    for state, n in db.session.query(OutboxEvent.state, func.count()).group_by(OutboxEvent.state):
        data[state] = n
    for state, n in (db.session.query(OutboxEvent.mail_state, func.count())
                     .filter(OutboxEvent.mail_state.isnot(None)).group_by(OutboxEvent.mail_state)):
        data[f"mail_{state}"] = n
    data["total"] = data["pending"] + data["sent"] + data["failed"]
    data["oldest_pending_at"] = (db.session.query(func.min(OutboxEvent.created_at))
                                 .filter(OutboxEvent.state == "pending").scalar())
    data["broker_configured"] = broker_configured(current_app.config)
    return data


@dataclass
class OutboxPage:
    items: list[OutboxEvent]
    total: int
    page: int
    limit: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.limit))


def list_events(state: str | None = None, page: int = 1, limit: int = 50) -> OutboxPage:
    """Newest first. `state`: one of STATES, or None/"all". Raises 422 admin.outbox.invalid_state."""
    query = db.session.query(OutboxEvent)
    if state and state != "all":
        if state not in STATES:
            raise BarongError("admin.outbox.invalid_state", 422)
        if state.startswith("mail_"):
            query = query.filter(OutboxEvent.mail_state == state[5:])
        else:
            query = query.filter(OutboxEvent.state == state)
    page, limit = max(1, int(page or 1)), min(1000, max(1, int(limit or 50)))
    total = query.count()
    items = query.order_by(OutboxEvent.id.desc()).offset((page - 1) * limit).limit(limit).all()
    return OutboxPage(items, total, page, limit)


def get(event_id: str | int) -> OutboxEvent:
    """By UUID `event_id` or numeric id. Raises NotFound."""
    event = db.session.query(OutboxEvent).filter_by(event_id=str(event_id)).first()
    if event is None and str(event_id).isdigit():
        event = db.session.get(OutboxEvent, int(event_id))
    if event is None:
        raise NotFound()
    return event


def retry(event_id: str | int) -> OutboxEvent:
    """Put a `failed` event back to `pending` (the dispatcher publishes it again) and a
    `failed` mail back to pending (the next mail retry sends it). Raises NotFound,
    422 admin.outbox.not_failed when neither failed."""
    event = get(event_id)
    if event.state != "failed" and event.mail_state != "failed":
        raise BarongError("admin.outbox.not_failed", 422)
    if event.state == "failed":
        event.state, event.attempts, event.last_error = "pending", 0, None
    if event.mail_state == "failed":
        event.mail_state, event.mail_attempts, event.mail_error = "pending", 0, None
        event.mail_due_at = event.mail_claimed_until = None
    db.session.flush()
    return event


def retry_all_failed() -> int:
    """`retry` every failed event/mail; returns how many rows changed."""
    rows = db.session.query(OutboxEvent).filter(
        (OutboxEvent.state == "failed") | (OutboxEvent.mail_state == "failed")).all()
    for event in rows:
        retry(event.event_id)
    return len(rows)
