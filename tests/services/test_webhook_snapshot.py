"""webhooks.enqueue reads a per-process snapshot of the active endpoints: an event with no
endpoint subscribed runs no webhook query; a change made by another worker is seen on the
next event; an endpoint deleted or disabled behind a stale snapshot gets nothing."""
from __future__ import annotations

import pytest
from sqlalchemy import event as sa_event
from sqlalchemy import text

from barong.extensions import db
from barong.models.webhook import WebhookDelivery, WebhookEndpoint
from barong.services.delivery import events, webhooks
from barong.services.infra import unit_of_work


@pytest.fixture
def webhook_queries(app):
    """The statements run on the engine that name a webhook table, while the list is live."""
    seen: list[str] = []

    def before(_conn, _cursor, statement, *_args):
        if "webhook" in statement.lower():
            seen.append(statement)

    sa_event.listen(db.engine, "before_cursor_execute", before)
    yield seen
    sa_event.remove(db.engine, "before_cursor_execute", before)


def emit(name="model.user.updated") -> int:
    ev = events.emit(name, {"uid": "ID0000000001", "email": "a@example.com"})
    unit_of_work.commit()
    return db.session.query(WebhookDelivery).filter_by(outbox_id=ev.id).count()


def behind_the_cache(sql: str, **params) -> None:
    """A write on its own connection: no session hook sees it (another host without Redis)."""
    with db.engine.begin() as conn:
        conn.execute(text(sql), params)


def test_no_endpoint_costs_no_webhook_query(app, webhook_queries):
    emit()  # the first event of the worker loads the (empty) snapshot
    webhook_queries.clear()
    for _ in range(3):
        events.emit("model.user.updated", {"uid": "ID0000000001"})
    unit_of_work.commit()
    assert webhook_queries == []


def test_non_matching_endpoint_costs_no_query_either(app, webhook_queries):
    webhooks.create("https://hooks.example.com/a", "model.document.*")
    unit_of_work.commit()
    emit()
    webhook_queries.clear()
    events.emit("model.user.updated", {"uid": "ID0000000001"})
    unit_of_work.commit()
    assert webhook_queries == []


def test_an_endpoint_added_by_another_worker_is_seen_on_the_next_event(app):
    assert emit() == 0
    stale = dict(webhooks._snapshot._entries)  # this worker's snapshot: no endpoint
    webhooks.create("https://hooks.example.com/a", "model.user.*")  # "another worker": bumps the generation
    unit_of_work.commit()
    webhooks._snapshot._entries.clear()
    webhooks._snapshot._entries.update(stale)  # ... while this worker still holds the old snapshot
    assert emit() == 1


def test_disabled_or_deleted_endpoint_gets_nothing_even_behind_a_stale_snapshot(app):
    a, _ = webhooks.create("https://hooks.example.com/a", "model.user.*")
    b, _ = webhooks.create("https://hooks.example.com/b", "*")
    unit_of_work.commit()
    assert emit() == 2  # the snapshot now holds both
    behind_the_cache("UPDATE webhook_endpoints SET state = 'disabled' WHERE id = :id", id=a.id)
    behind_the_cache("DELETE FROM webhook_endpoints WHERE id = :id", id=b.id)
    db.session.expire_all()
    assert len(webhooks._active()) == 2  # stale on purpose
    assert emit() == 0


def test_disabling_through_the_service_is_seen_at_once(app):
    endpoint, _ = webhooks.create("https://hooks.example.com/a", "model.user.*")
    unit_of_work.commit()
    assert emit() == 1
    webhooks.set_state(endpoint, "disabled")
    unit_of_work.commit()
    assert emit() == 0
    webhooks.set_state(endpoint, "active")
    unit_of_work.commit()
    assert emit() == 1


def test_an_endpoint_created_in_a_rolled_back_transaction_never_enters_the_snapshot(app):
    assert emit() == 0
    webhooks.create("https://hooks.example.com/a", "model.user.*")
    assert len(webhooks._active()) == 1  # its own transaction sees it
    db.session.rollback()
    assert webhooks._active() == ()
    assert db.session.query(WebhookEndpoint).count() == 0
