"""Outbox → RabbitMQ, against the real broker: every reference event arrives on the
original's exchange with the original's routing key and payload, signed; an outage
loses nothing; ids make duplicates harmless."""
from __future__ import annotations

import json
import threading
import time

import pytest

from barong.events import REFERENCE_EVENTS, envelope, exchange_for, routing_key_for
from barong.events.dispatcher import Dispatcher, publish_batch
from barong.events.publisher import BrokerUnavailable, Publisher, PublishRejected
from barong.extensions import db
from barong.models import OutboxEvent, User
from barong.security.jwt_keys import keypair
from barong.services.accounts import labels
from barong.services.delivery import events, outbox
from barong.services.infra import unit_of_work
from tests.helpers import DEFAULT_PASSWORD, token_from_mail


def _emit_all() -> list[OutboxEvent]:
    rows = []
    for i, name in enumerate(REFERENCE_EVENTS):
        record = {"user": {"uid": f"ID{i:010d}", "email": f"u{i}@example.com"}, "n": i}
        changes = {"level": 0} if name.endswith(".updated") else None
        rows.append(events.emit(name, record, changes))
    unit_of_work.commit()
    return rows


def _dispatcher(app, port=5672, **kw) -> Dispatcher:
    kw.setdefault("max_backoff", 0.2)
    kw.setdefault("poll_interval", 0.05)
    return Dispatcher(app, publisher=Publisher("127.0.0.1", port, connect_timeout=2), **kw)


def _rows(event_ids) -> dict[str, OutboxEvent]:
    db.session.expire_all()
    return {e.event_id: e for e in db.session.query(OutboxEvent).filter(OutboxEvent.event_id.in_(event_ids))}


def test_every_reference_event_reaches_a_consumer_of_the_original_exchanges(broker_app, consumer):
    rows = _emit_all()
    ids = [r.event_id for r in rows]
    expected = {r.event_id: (r.name, json.loads(r.payload)) for r in rows}
    result = _dispatcher(broker_app).run_once()
    assert result.error is None and sorted(result.published) == sorted(ids)

    messages = consumer.wait_for(ids)
    assert [m["props"].message_id for m in messages] == ids  # once each, in outbox order
    for m in messages:
        name, payload = expected[m["props"].message_id]
        assert m["exchange"] == exchange_for(name) and m["routing_key"] == routing_key_for(name)
        assert m["props"].delivery_mode == 2 and m["props"].content_type == "application/json"
        claims = envelope.verify(m["envelope"], keypair().public_key)  # the server's public key
        assert claims["iss"] == "barong" and claims["jti"] == m["props"].message_id
        assert claims["exp"] == claims["iat"] + 3600
        assert claims["event"] == payload and claims["event"]["name"] == name
        assert set(claims["event"]) == ({"record", "name", "changes"} if name.endswith(".updated")
                                        else {"record", "name"})
    stored = _rows(ids)
    assert all(e.state == "sent" and e.sent_at and e.attempts == 1 and e.last_error is None for e in stored.values())


def test_signup_confirm_login_flow_publishes_what_the_services_emit(broker_app, client, consumer, mailbox,
                                                                    make_user):
    """Real requests: the events and the mails agree (same token), user summary shape as the original."""
    make_user()  # not the first registration (which becomes an active superadmin without mail)
    db.session.query(OutboxEvent).delete()
    db.session.commit()
    resp = client.post("/api/v2/barong/identity/users", json={"email": "flow@example.com",
                                                              "password": DEFAULT_PASSWORD})
    assert resp.status_code == 201, resp.get_json()
    uid = resp.get_json()["uid"]
    mail_token = token_from_mail(mailbox("flow@example.com")[-1])
    resp = client.post("/api/v2/barong/identity/users/email/confirm_code", json={"token": mail_token})
    assert resp.status_code == 201, resp.get_json()
    client.delete("/api/v2/barong/identity/sessions")
    resp = client.post("/api/v2/barong/identity/sessions", json={"email": "flow@example.com",
                                                                 "password": DEFAULT_PASSWORD})
    assert resp.status_code == 201
    ids = [e.event_id for e in db.session.query(OutboxEvent).order_by(OutboxEvent.id)]
    assert not _dispatcher(broker_app).run_once().error
    got = {}
    for m in consumer.wait_for(ids):
        claims = envelope.verify(m["envelope"], keypair().public_key)
        got.setdefault(claims["event"]["name"], []).append((m["routing_key"], claims["event"]))
    for name in ("model.user.created", "system.user.email.confirmation.token", "model.label.created",
                 "model.user.updated", "system.user.email.confirmed", "system.session.create"):
        assert name in got, f"{name} not published; got {sorted(got)}"
    _, created = got["model.user.created"][0]
    assert created["record"]["uid"] == uid
    assert {"uid", "email", "role", "level", "otp", "state", "created_at", "updated_at"} <= set(created["record"])
    key, confirmation = got["system.user.email.confirmation.token"][0]
    assert key == "user.email.confirmation.token"
    assert confirmation["record"]["token"] == mail_token  # the mail was rendered from this very event
    assert confirmation["record"]["user"]["email"] == "flow@example.com"
    assert confirmation["record"]["domain"] == broker_app.config["BARONG_DOMAIN"]
    _, updated = got["model.user.updated"][0]
    assert updated["changes"] == {"level": 0, "state": "pending"} and updated["record"]["state"] == "active"
    _, session = got["system.session.create"][-1]
    assert session["record"]["user"]["uid"] == uid and session["record"]["user_agent"]
    assert session["record"]["user_ip"] == "127.0.0.1"


def test_broker_outage_loses_nothing_and_publishing_resumes(broker_app, consumer, proxy):
    dispatcher = _dispatcher(broker_app, proxy.port)
    first = events.emit("model.label.created", {"id": 1, "key": "k", "value": "v"})
    unit_of_work.commit()
    assert dispatcher.run_once().published == [first.event_id]

    proxy.cut()  # broker "down": connection lost, then refused
    during = [events.emit("model.label.created", {"id": i, "key": "k", "value": "v"}) for i in (2, 3)]
    unit_of_work.commit()
    ids = [e.event_id for e in during]
    for _ in range(12):  # far more passes than MAX_ATTEMPTS: an outage never fails an event
        result = dispatcher.run_once()
        assert result.broker_down and result.published == []
        dispatcher.publisher.close()
    stored = _rows(ids)
    assert [stored[i].state for i in ids] == ["pending", "pending"]
    assert "RabbitMQ" in (stored[ids[0]].last_error or "")
    assert outbox.stats()["pending"] == 2

    proxy.restore()  # broker back
    result = dispatcher.run_once()
    assert result.error is None and result.published == ids
    assert [m["props"].message_id for m in consumer.wait_for([first.event_id] + ids)] == [first.event_id] + ids
    assert {e.state for e in _rows(ids).values()} == {"sent"}


def test_running_dispatcher_rides_out_an_outage(broker_app, consumer, proxy):
    """The worker loop: connection dropped mid-run, events emitted while down, all published after."""
    dispatcher = _dispatcher(broker_app, proxy.port)
    thread = threading.Thread(target=dispatcher.run, daemon=True)
    thread.start()
    try:
        before = events.emit("model.user.created", {"uid": "ID0000000101"})
        unit_of_work.commit()
        assert consumer.wait_for([before.event_id])
        proxy.cut()
        down = [events.emit("model.user.created", {"uid": f"ID00000002{i:02d}"}) for i in range(5)]
        unit_of_work.commit()
        time.sleep(0.5)  # the loop fails to reconnect a few times meanwhile
        assert {e.state for e in _rows([e.event_id for e in down]).values()} == {"pending"}
        proxy.restore()
        ids = [e.event_id for e in down]
        got = consumer.wait_for(ids, timeout=20)
        assert sorted(m["props"].message_id for m in got) == sorted(ids)
        assert proxy.connections >= 2  # it reconnected
    finally:
        dispatcher.stop.set()
        thread.join(timeout=5)
    assert not thread.is_alive()
    assert {e.state for e in _rows(ids).values()} == {"sent"}


def test_a_republished_event_carries_the_same_ids(broker_app, consumer):
    """Crash between publish and mark → published again; message_id and jti let consumers dedupe."""
    event = events.emit("system.user.password.reset.token", {"user": {"uid": "ID0000000301"}, "token": "x"})
    unit_of_work.commit()
    publisher = Publisher("127.0.0.1", 5672)
    publish_batch(publisher)
    db.session.query(OutboxEvent).filter_by(event_id=event.event_id).update({"state": "pending"})  # mark lost
    db.session.commit()
    publish_batch(publisher)
    publisher.close()
    copies = consumer.wait_for([event.event_id])
    assert len(copies) == 2
    jtis = {envelope.verify(m["envelope"], keypair().public_key)["jti"] for m in copies}
    assert jtis == {event.event_id} and {m["props"].message_id for m in copies} == {event.event_id}


class FakePublisher:
    """Raises the queued errors, then publishes (records) normally."""

    def __init__(self, errors=()):
        self.errors = list(errors)
        self.sent: list[str] = []
        self.connected = True

    def connect(self):
        pass

    def publish(self, exchange, routing_key, body, message_id, timestamp):
        if self.errors:
            exc = self.errors.pop(0)
            if exc is not None:
                raise exc
        self.sent.append(message_id)

    def close(self):
        pass


def test_rejected_event_fails_after_max_attempts_and_others_go_on(app):
    bad = events.emit("model.user.created", {"uid": "bad"})
    good = events.emit("model.user.created", {"uid": "good"})
    unit_of_work.commit()
    fake = FakePublisher([PublishRejected("nack"), PublishRejected("nack"), PublishRejected("nack")])
    r1 = publish_batch(fake, max_attempts=3)
    assert r1.error and fake.sent == []  # order kept: nothing overtakes the head event yet
    publish_batch(fake, max_attempts=3)
    r3 = publish_batch(fake, max_attempts=3)
    assert r3.failed == [bad.event_id] and fake.sent == [good.event_id]
    rows = _rows([bad.event_id, good.event_id])
    assert rows[bad.event_id].state == "failed" and rows[bad.event_id].attempts == 3
    assert "nack" in rows[bad.event_id].last_error and rows[good.event_id].state == "sent"

    outbox.retry(bad.event_id)  # operator retries from the console / CLI
    db.session.commit()
    publish_batch(fake, max_attempts=3)
    assert fake.sent == [good.event_id, bad.event_id] and _rows([bad.event_id])[bad.event_id].state == "sent"


def test_broker_down_never_marks_an_event_failed(app):
    event = events.emit("model.user.created", {"uid": "x"})
    unit_of_work.commit()
    fake = FakePublisher([BrokerUnavailable("down")] * 20)
    for _ in range(20):
        assert publish_batch(fake, max_attempts=3).broker_down
    row = _rows([event.event_id])[event.event_id]
    assert row.state == "pending" and row.last_error == "down"


def test_without_a_broker_events_stay_in_the_outbox_and_the_log(app, caplog):
    assert not app.config["BARONG_EVENT_API_RABBITMQ_HOST"]
    with caplog.at_level("INFO", logger="barong.services.delivery.events"):
        event = events.emit("model.user.created", {"uid": "ID0000000401"})
        unit_of_work.commit()
    assert event.event_id in caplog.text and "routing_key=user.created" in caplog.text
    assert _rows([event.event_id])[event.event_id].state == "pending"
    result = app.test_cli_runner().invoke(args=["events", "dispatch", "--once"])
    assert result.exit_code != 0 and "BARONG_EVENT_API_RABBITMQ_HOST is not set" in result.output
    with pytest.raises(RuntimeError):
        Dispatcher(app)


def test_cli_dispatch_once_stats_and_retry(broker_app, consumer):
    event = events.emit("model.label.updated", {"id": 7, "key": "email", "value": "verified"}, {"value": "pending"})
    failed = events.emit("model.label.created", {"id": 8})
    unit_of_work.commit()
    db.session.query(OutboxEvent).filter_by(event_id=failed.event_id).update({"state": "failed", "attempts": 10})
    db.session.commit()
    runner = broker_app.test_cli_runner()
    out = runner.invoke(args=["events", "stats"]).output
    assert "pending: 1" in out and "failed: 1" in out and "broker: configured" in out
    result = runner.invoke(args=["events", "dispatch", "--once"])
    assert result.exit_code == 0 and "published 1" in result.output
    assert consumer.wait_for([event.event_id])[0]["routing_key"] == "label.updated"
    result = runner.invoke(args=["events", "retry", "--all-failed"])
    assert result.exit_code == 0 and "retried 1" in result.output
    assert runner.invoke(args=["events", "retry", "no-such-id"]).exit_code != 0
    assert runner.invoke(args=["events", "dispatch", "--once"]).exit_code == 0
    assert consumer.wait_for([failed.event_id])
    assert "sent: 2" in runner.invoke(args=["events", "stats"]).output


def test_exchange_declared_differently_by_an_operator_is_used_as_is(rabbitmq):
    """406 PRECONDITION_FAILED on declare → passive declare, publishing still works."""
    import uuid

    import pika

    from tests.events.support import rabbit_params

    name = f"barong.test.{uuid.uuid4().hex[:8]}"
    admin = pika.BlockingConnection(rabbit_params())
    ch = admin.channel()
    ch.exchange_declare(name, exchange_type="direct", durable=True)
    try:
        publisher = Publisher("127.0.0.1", 5672)
        publisher.publish(name, "user.created", b"{}", message_id="m-1", timestamp=time.time())
        publisher.close()
    finally:
        ch.exchange_delete(name)
        admin.close()


@pytest.mark.skipif("'postgresql' not in __import__('os').environ.get('TEST_DATABASE_URL', '')",
                    reason="row locks (FOR UPDATE SKIP LOCKED) are PostgreSQL's")
def test_two_dispatchers_never_take_the_same_rows(app):
    from sqlalchemy import text

    a = events.emit("model.user.created", {"uid": "a"})
    b = events.emit("model.user.created", {"uid": "b"})
    unit_of_work.commit()
    with db.engine.connect() as other:  # another dispatcher holds the first row
        other.execute(text("SELECT id FROM event_outbox WHERE event_id = :e FOR UPDATE"), {"e": a.event_id})
        fake = FakePublisher()
        publish_batch(fake)
        assert fake.sent == [b.event_id]
        other.rollback()
    fake = FakePublisher()
    publish_batch(fake)
    assert fake.sent == [a.event_id]
