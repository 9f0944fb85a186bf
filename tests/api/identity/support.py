"""Query helpers for identity tests (fixtures are in conftest.py)."""
from __future__ import annotations

import json

from barong.extensions import db
from barong.models import Activity, KVEntry, OutboxEvent, SessionRecord, User

API = "/api/v2/barong/identity"


def activities_of(user, topic=None):
    q = db.session.query(Activity).filter_by(user_id=user.id)
    if topic:
        q = q.filter_by(topic=topic)
    return [(a.topic, a.action, a.result) for a in q.order_by(Activity.id)]


def events_named(name):
    return [json.loads(e.payload) for e in db.session.query(OutboxEvent).filter_by(name=name).order_by(OutboxEvent.id)]


def user_by_email(email):
    db.session.expire_all()
    return db.session.query(User).filter_by(email_lower=email.lower()).first()


def counts():
    """Row counts that a refused request must leave unchanged."""
    db.session.expire_all()
    return {m.__name__: db.session.query(m).count() for m in (User, Activity, OutboxEvent, SessionRecord, KVEntry)}
