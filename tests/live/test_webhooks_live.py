"""Signed webhooks through gunicorn (2 workers, the background delivery threads): an
endpoint that is down receives every event once it is back, each once, each signed."""
from __future__ import annotations

import json
import time

import pytest

from barong.services.delivery.webhooks import verify_signature
from tests.api.admin.test_webhooks import Receiver
from tests.live.harness import Client, GunicornServer, free_port

ENV = {"BARONG_WEBHOOK_ALLOW_HTTP": "true", "BARONG_WEBHOOK_RETRY_BASE": "1",
       "BARONG_WEBHOOK_POLL_INTERVAL": "0.5", "BARONG_CONSOLE_REQUIRE_2FA": "false"}


@pytest.fixture(scope="module")
def server(smtp_sink):
    with GunicornServer(env=ENV, smtp=smtp_sink, workers=2, name="webhooks") as s:
        yield s


def _wait(predicate, timeout=30.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


def test_down_endpoint_gets_every_event_once_back(server):
    admin = Client(server.url)
    admin.signup("hooks-admin@example.com")  # first user: superadmin
    port = free_port()
    url = f"http://127.0.0.1:{port}/hook"
    resp = admin.api("POST", "admin/webhooks", json={"url": url, "events": "model.user.created"})
    assert resp.status_code == 201, resp.text
    secret = resp.json()["secret"]
    # nothing listens on the port: every attempt is refused
    emails = [f"hooked-{i}@example.com" for i in range(4)]
    for email in emails:
        Client(server.url).signup(email)
    assert _wait(lambda: all(d["attempts"] >= 2 for d in admin.api(
        "GET", "admin/webhooks/deliveries", params={"state": "pending"}).json()) and len(admin.api(
            "GET", "admin/webhooks/deliveries", params={"state": "pending"}).json()) == 4)
    receiver = Receiver.on_port(port)
    try:
        assert _wait(lambda: len(receiver.received) >= 4)
        time.sleep(2)  # no straggling duplicates
        bodies = [json.loads(r["body"]) for r in receiver.received]
        assert sorted(b["payload"]["record"]["email"] for b in bodies) == sorted(emails)
        ids = [r["headers"]["X-Barong-Event-Id"] for r in receiver.received]
        assert len(ids) == len(set(ids)) == 4
        for r in receiver.received:
            assert verify_signature(secret, r["body"], r["headers"]["X-Barong-Signature"])
        assert admin.api("GET", "admin/webhooks/deliveries", params={"state": "pending"}).json() == []
    finally:
        receiver.close()
