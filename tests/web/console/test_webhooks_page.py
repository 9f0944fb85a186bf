"""The console's Webhooks page: register (the secret shown once, on that answer only),
disable/enable, remove after a confirmation, re-queue a failed delivery; abilities; audit."""
from __future__ import annotations

import pytest

from barong.extensions import db
from barong.models.webhook import WebhookDelivery, WebhookEndpoint
from barong.services.delivery import webhooks
from tests.web.console.support import admin_activities

URL = "https://ledger.example.com/barong"


@pytest.fixture
def sa(operator, console):
    return console(operator("superadmin"))


def _register(c, **form):
    return c.post("/admin/webhooks", data={"url": URL, "events": "model.user.*", "description": "ledger", **form})


def test_register_shows_the_secret_once(sa):
    resp = _register(sa)
    assert resp.status_code == 201
    page = resp.get_data(as_text=True)
    endpoint = db.session.query(WebhookEndpoint).one()
    from barong.security.crypto import decrypt

    secret = decrypt(endpoint.secret_encrypted)
    assert secret in page
    again = sa.get("/admin/webhooks").get_data(as_text=True)
    assert secret not in again and URL in again and "model.user.*" in again
    assert [a.action for a in admin_activities(topic="webhooks")] == ["create"]


def test_bad_input_answers_422_on_the_field(sa):
    resp = _register(sa, url="http://plain.example.com/x")
    assert resp.status_code == 422
    assert db.session.query(WebhookEndpoint).count() == 0
    assert admin_activities(topic="webhooks") == []


def test_disable_then_enable(sa):
    _register(sa)
    endpoint = db.session.query(WebhookEndpoint).one()
    assert sa.post(f"/admin/webhooks/{endpoint.id}/state", data={"state": "disabled"}).status_code == 302
    db.session.refresh(endpoint)
    assert endpoint.state == "disabled"
    sa.post(f"/admin/webhooks/{endpoint.id}/state", data={"state": "active"})
    db.session.refresh(endpoint)
    assert endpoint.state == "active"
    assert sa.post(f"/admin/webhooks/{endpoint.id}/state", data={"state": "bogus"}).status_code == 302
    db.session.refresh(endpoint)
    assert endpoint.state == "active"


def test_remove_asks_first(sa):
    _register(sa)
    endpoint = db.session.query(WebhookEndpoint).one()
    first = sa.post(f"/admin/webhooks/{endpoint.id}/delete")
    assert first.status_code == 200 and URL in first.get_data(as_text=True)
    assert 'name="confirm" value="1"' in first.get_data(as_text=True)
    assert db.session.query(WebhookEndpoint).count() == 1
    sa.post(f"/admin/webhooks/{endpoint.id}/delete", data={"confirm": "1"})
    assert db.session.query(WebhookEndpoint).count() == 0
    assert [a.action for a in admin_activities(topic="webhooks")] == ["create", "delete"]


def test_a_failed_delivery_is_queued_again(sa, app, make_user):
    app.config["BARONG_WEBHOOK_ALLOW_HTTP"] = True
    sa.post("/admin/webhooks", data={"url": "http://127.0.0.1:9/none", "events": "model.user.created"})
    make_user()
    delivery = db.session.query(WebhookDelivery).one()
    delivery.state = "failed"
    db.session.commit()
    assert "Retry" in sa.get("/admin/webhooks").get_data(as_text=True)
    sa.post(f"/admin/webhooks/deliveries/{delivery.id}/retry")
    db.session.refresh(delivery)
    assert delivery.state == "pending" and delivery.attempts == 2  # queued, tried once more at once (inline)


@pytest.mark.parametrize("role, status", [("admin", 200), ("technical", 200), ("support", 403), ("member", 403)])
def test_who_sees_it(operator, console, role, status):
    c = console(operator(role))
    resp = c.get("/admin/webhooks")
    assert resp.status_code in ((status,) if status == 200 else (401, 403, 302))


def test_admin_reads_but_cannot_register(operator, console):
    c = console(operator("admin"))
    page = c.get("/admin/webhooks").get_data(as_text=True)
    assert "Register an endpoint" not in page
    resp = _register(c)
    assert resp.status_code in (302, 403)
    assert db.session.query(WebhookEndpoint).count() == 0


def test_the_page_in_russian(sa):
    _register(sa)
    sa.set_cookie("lang", "ru")
    page = sa.get("/admin/webhooks").get_data(as_text=True)
    assert "Зарегистрировать конечную точку" in page and "Последние доставки" in page
    assert "Register an endpoint" not in page
