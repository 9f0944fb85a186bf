"""Signed webhooks (barong.services.delivery.webhooks, admin/webhooks): registration, the
signature, at-least-once delivery with back-off through an outage, de-duplication by
event id, abilities and audit."""
from __future__ import annotations

import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from barong.extensions import db
from barong.models import Activity, OutboxEvent, utcnow
from barong.models.webhook import WebhookDelivery, WebhookEndpoint
from barong.services.delivery import webhooks
from barong.services.infra import unit_of_work


class Receiver:
    """A local HTTP endpoint: answers `self.status`, records every POST."""

    def __init__(self, port: int = 0):
        self.status = 200
        self.received: list[dict] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                outer.received.append({"headers": dict(self.headers), "body": body})
                self.send_response(outer.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @classmethod
    def on_port(cls, port: int) -> "Receiver":
        return cls(port)

    def close(self):
        self.server.shutdown()
        self.server.server_close()

    def event_ids(self):
        return [r["headers"]["X-Barong-Event-Id"] for r in self.received]


@pytest.fixture
def receiver(app):
    app.config["BARONG_WEBHOOK_ALLOW_HTTP"] = True
    r = Receiver()
    yield r
    r.close()


def _register(sa, url, events="model.user.*"):
    resp = sa.post("/webhooks", json={"url": url, "events": events, "description": "ledger"})
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()


def test_register_answers_the_secret_once_and_stores_it_encrypted(sa, receiver):
    body = _register(sa, receiver.url, "model.user.created, system.session.*")
    assert body["secret"].startswith("whsec_") and body["events"] == ["model.user.created", "system.session.*"]
    row = db.session.get(WebhookEndpoint, body["id"])
    assert body["secret"] not in row.secret_encrypted
    listed = sa.get("/webhooks").get_json()
    assert [e["id"] for e in listed] == [body["id"]] and "secret" not in listed[0]
    # audited once (by the gateway's AUDIT permission for API calls), never with the secret
    audits = db.session.query(Activity).filter_by(category="admin").all()
    assert len(audits) == 1 and "webhooks" in (audits[0].action or "") + (audits[0].data or "")
    assert all(body["secret"] not in (a.data or "") for a in db.session.query(Activity))


@pytest.mark.parametrize("url", ["http://hooks.example.com/x", "ftp://a/b", "https://user:pw@hooks.example.com/",
                                 "not a url", "https://"])
def test_only_https_urls_in_production(sa, url):
    resp = sa.post("/webhooks", json={"url": url, "events": "*"})
    assert resp.status_code == 422
    assert resp.get_json()["errors"] == ["webhook.url.invalid"]
    assert db.session.query(WebhookEndpoint).count() == 0


@pytest.mark.parametrize("events", ["mo*del", "a b", " , "])
def test_event_patterns_are_checked(sa, events):
    resp = sa.post("/webhooks", json={"url": "https://hooks.example.com/x", "events": events})
    assert resp.status_code == 422 and resp.get_json()["errors"] == ["webhook.events.invalid"]


def test_each_matching_event_is_posted_signed_and_verifiable(sa, receiver, make_user):
    secret = _register(sa, receiver.url)["secret"]
    user = make_user()
    created = db.session.query(OutboxEvent).filter_by(name="model.user.created").all()
    assert len(created) >= 1
    posted = [r for r in receiver.received if r["headers"]["X-Barong-Event"] == "model.user.created"]
    assert posted, receiver.received
    req = posted[-1]
    assert webhooks.verify_signature(secret, req["body"], req["headers"]["X-Barong-Signature"])
    assert not webhooks.verify_signature("whsec_other", req["body"], req["headers"]["X-Barong-Signature"])
    assert not webhooks.verify_signature(secret, req["body"] + b" ", req["headers"]["X-Barong-Signature"])
    body = json.loads(req["body"])
    assert body["name"] == "model.user.created" and body["payload"]["record"]["uid"] == user.uid
    assert body["id"] == req["headers"]["X-Barong-Event-Id"]
    # only matching names: no session events were subscribed
    assert all(r["headers"]["X-Barong-Event"].startswith("model.user.") for r in receiver.received)


def test_an_old_signature_is_refused():
    header = webhooks.sign("s", b"{}", 1_000_000)
    assert not webhooks.verify_signature("s", b"{}", header, now=1_000_000 + 301)
    assert webhooks.verify_signature("s", b"{}", header, now=1_000_000 + 299)
    assert not webhooks.verify_signature("s", b"{}", "garbage")


def test_an_endpoint_down_for_a_minute_receives_every_event_once_it_returns(sa, receiver, make_user, app):
    _register(sa, receiver.url)
    receiver.status = 503
    users = [make_user() for _ in range(3)]
    pending = db.session.query(WebhookDelivery).filter_by(state="pending").all()
    assert len(pending) >= 3 and all(d.attempts == 1 for d in pending)
    failures = len(receiver.received)
    assert failures >= 3
    # a minute of outage: every retry fails, nothing is lost
    now = utcnow()
    for step in (15, 40, 60):
        webhooks.deliver_due(now=now + timedelta(seconds=step))
    assert db.session.query(WebhookDelivery).filter_by(state="pending").count() == len(pending)
    receiver.status = 200
    before = len(receiver.received)
    counts = webhooks.deliver_due(now=now + timedelta(hours=2))
    assert counts["delivered"] == len(pending)
    delivered_ids = receiver.event_ids()[before:]
    assert len(delivered_ids) == len(set(delivered_ids)) == len(pending)
    uids = {json.loads(r["body"])["payload"]["record"].get("uid") for r in receiver.received[before:]}
    assert {u.uid for u in users} <= uids
    # nothing more to send: a second pass posts nothing
    webhooks.deliver_due(now=now + timedelta(hours=3))
    assert len(receiver.received) == before + len(pending)
    assert db.session.query(WebhookDelivery).filter(WebhookDelivery.state != "delivered").count() == 0


def test_back_off_doubles_and_gives_up_after_the_maximum_age(sa, receiver, make_user, app):
    app.config["BARONG_WEBHOOK_MAX_AGE"] = 600
    _register(sa, receiver.url, "model.user.created")
    receiver.status = 500
    make_user()
    d = db.session.query(WebhookDelivery).one()
    first_next = d.next_attempt_at
    assert (first_next - d.created_at).total_seconds() == pytest.approx(10, abs=2)
    webhooks.deliver_due(now=first_next)
    db.session.refresh(d)
    assert d.attempts == 2 and (d.next_attempt_at - first_next).total_seconds() == pytest.approx(20, abs=2)
    assert d.last_status == 500 and d.last_error == "HTTP 500"
    webhooks.deliver_due(now=d.created_at + timedelta(seconds=601))
    db.session.refresh(d)
    assert d.state == "failed"
    # an operator re-queues it once the receiver is fixed
    receiver.status = 200
    resp = sa.post("/webhooks/deliveries/retry", json={"id": d.id})
    assert resp.status_code == 201
    db.session.refresh(d)
    assert d.state == "delivered"


def test_a_claimed_delivery_is_not_sent_twice(sa, receiver, make_user):
    _register(sa, receiver.url, "model.user.created")
    receiver.status = 500
    make_user()
    d = db.session.query(WebhookDelivery).one()
    due = d.next_attempt_at
    first = webhooks._claim(due, None)
    assert first == [d.id]
    assert webhooks._claim(due, None) == []  # the lease holds it for the first deliverer
    assert webhooks._claim(due + webhooks.LEASE + timedelta(seconds=1), None) == [d.id]  # it died: taken again


def test_a_refused_request_leaves_no_delivery(sa, receiver, client):
    _register(sa, receiver.url, "*")
    before = db.session.query(WebhookDelivery).count()
    resp = client.post("/api/v2/barong/identity/users", json={"email": "bad", "password": "x"})
    assert resp.status_code == 422
    assert db.session.query(WebhookDelivery).count() == before


def test_disable_and_delete(sa, receiver, make_user):
    endpoint = _register(sa, receiver.url, "model.user.created")
    assert sa.put("/webhooks", json={"id": endpoint["id"], "state": "disabled"}).get_json()["state"] == "disabled"
    make_user()
    assert receiver.received == [] and db.session.query(WebhookDelivery).count() == 0
    assert sa.delete("/webhooks", query_string={"id": endpoint["id"]}).status_code == 204
    assert db.session.query(WebhookEndpoint).count() == 0
    assert sa.delete("/webhooks", query_string={"id": endpoint["id"]}).get_json()["errors"] == ["webhook.doesnt_exist"]
    assert db.session.query(Activity).filter_by(category="admin").count() == 4  # create, update, 2 deletes


def test_console_writes_are_audited_by_the_service(app, make_user, receiver):
    from barong.services.operators import webhook_admin

    admin = make_user(role="superadmin")
    endpoint, _ = webhook_admin.register(admin, receiver.url, "*")
    webhook_admin.change_state(admin, endpoint.id, "disabled")
    webhook_admin.remove(admin, endpoint.id)
    unit_of_work.commit()
    rows = db.session.query(Activity).filter_by(category="admin", topic="webhooks").order_by(Activity.id).all()
    assert [r.action for r in rows] == ["create", "update", "delete"]
    assert json.loads(rows[0].data)["url"] == receiver.url


def test_deliveries_are_listed(sa, receiver, make_user):
    endpoint = _register(sa, receiver.url, "model.user.created")
    make_user()
    rows = sa.get("/webhooks/deliveries", query_string={"endpoint_id": endpoint["id"]}).get_json()
    assert len(rows) == 1 and rows[0]["state"] == "delivered" and rows[0]["event"] == "model.user.created"
    assert sa.get("/webhooks/deliveries", query_string={"state": "failed"}).get_json() == []


@pytest.mark.parametrize("role, read, write", [("admin", 200, 401), ("technical", 200, 201),
                                               ("support", 401, 401), ("compliance", 401, 401)])
def test_abilities_decide(api, role, read, write):
    client = api(role)
    assert client.get("/webhooks").status_code == read
    resp = client.post("/webhooks", json={"url": "https://hooks.example.com/x", "events": "*"})
    assert resp.status_code == write
    if write == 401:  # the gateway's permissions (seeds) or, past them, the abilities
        assert resp.get_json()["errors"][0] in ("admin.ability.not_permitted", "authz.invalid_permission")
        assert db.session.query(WebhookEndpoint).count() == 0


def test_members_cannot_reach_it(client, make_user, app):
    from tests.helpers import login_as

    user = make_user()
    csrf = login_as(client, user)
    resp = client.get("/api/v2/barong/admin/webhooks", headers={"X-CSRF-Token": csrf})
    assert resp.status_code in (401, 403)


def test_a_transport_error_never_stores_or_logs_the_endpoints_path_and_query(sa, app, make_user, caplog):
    """Receivers put tokens in their URLs: the error kept, shown and logged has neither."""
    app.config["BARONG_WEBHOOK_ALLOW_HTTP"] = True
    _register(sa, "http://127.0.0.1:9/hooks/s3cr3t-path?token=s3cr3t-query", "model.user.created")
    make_user()  # nothing listens on port 9: a connection error
    d = db.session.query(WebhookDelivery).one()
    assert d.state == "pending" and d.last_error
    assert "s3cr3t" not in d.last_error
    assert "s3cr3t" not in caplog.text
