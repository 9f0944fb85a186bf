"""Webhooks: the signed webhook endpoints (register, enable/disable, remove — asking
first) and their recent deliveries (re-queue a failed one). Every write goes through
barong.services.operators.webhook_admin, the admin API's layer (abilities, audit)."""
from __future__ import annotations

from flask import make_response, render_template, request
from flask_babel import gettext as _

from barong.errors import BarongError
from barong.extensions import db
from barong.models.webhook import WebhookDelivery, WebhookEndpoint
from barong.services.delivery import webhooks
from barong.services.operators import webhook_admin
from barong.web.console import bp
from barong.web.console.helpers import actor, ask_first, console_requires, done, field_errors, invalid, refused, term

FIELDS = ("url", "events", "description")
RECENT = 50


def _ctx(**extra) -> dict:
    endpoints = db.session.query(WebhookEndpoint).order_by(WebhookEndpoint.id).all()
    deliveries = db.session.query(WebhookDelivery).order_by(WebhookDelivery.id.desc()).limit(RECENT).all()
    return dict(endpoints=endpoints, deliveries=deliveries, stats=webhooks.stats(), events_of=webhooks.events_of,
                active="webhooks", **extra)


def _page(status: int = 200, **extra):
    return make_response(render_template("console/settings/webhooks.html", **_ctx(**extra)), status)


@bp.get("/webhooks")
@console_requires("webhooks.read")
def webhooks_index():
    return _page()


@bp.post("/webhooks")
@console_requires("webhooks.create")
def webhooks_create():
    form = {k: (request.form.get(k) or "").strip() for k in FIELDS}
    try:
        endpoint, secret = webhook_admin.register(actor(), form["url"], form["events"], form["description"])
    except BarongError as err:
        db.session.rollback()
        return invalid("console/settings/webhooks.html", **_ctx(new=form, new_errors=field_errors(err, FIELDS)))
    # the secret is shown once, on this answer only (never flashed: flashes live in the cookie session)
    return _page(201, created=endpoint, secret=secret)


@bp.post("/webhooks/<int:endpoint_id>/state")
@console_requires("webhooks.update")
def webhooks_state(endpoint_id):
    state = request.form.get("state") or ""
    try:
        endpoint = webhook_admin.change_state(actor(), endpoint_id, state)
    except BarongError as err:
        return refused(err)
    return done(_("Webhook #%(id)s is now %(state)s.", id=endpoint.id, state=term(endpoint.state)), None)


@bp.post("/webhooks/<int:endpoint_id>/delete")
@console_requires("webhooks.destroy")
def webhooks_delete(endpoint_id):
    try:
        endpoint = webhooks.get(endpoint_id)
    except BarongError as err:
        return refused(err)
    question = ask_first(None, _("Remove the webhook to %(url)s?", url=endpoint.url),
                         _("Its pending deliveries are dropped: the endpoint receives nothing more."),
                         _("Remove webhook"))
    if question is not None:
        return question
    webhook_admin.remove(actor(), endpoint_id)
    return done(_("Webhook #%(id)s removed.", id=endpoint_id), None)


@bp.post("/webhooks/deliveries/<int:delivery_id>/retry")
@console_requires("webhooks.update")
def webhooks_retry(delivery_id):
    try:
        webhook_admin.requeue(actor(), delivery_id)
    except BarongError as err:
        return refused(err)
    return done(_("Delivery #%(id)s queued again.", id=delivery_id), None)
