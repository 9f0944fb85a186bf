"""admin/webhooks: signed webhook endpoints (issue 17) and their deliveries.

Endpoints receive the Event API's events by name (`model.user.*`, `*`), POSTed as JSON with
`X-Barong-Signature: t=…,v1=HMAC-SHA256(secret, "t.body")` and `X-Barong-Event-Id` (see
docs/events.md). Abilities: `manage Webhook` (superadmin, technical), `read Webhook` (admin)."""
from __future__ import annotations

from flask import jsonify

from barong.api.auth import api_auth, current_user
from barong.api.pagination import respond
from barong.api.params import INT32, Param, no_content, use_params
from barong.api.v2.admin import ability, bp
from barong.extensions import db
from barong.models import iso
from barong.models.webhook import WebhookDelivery, WebhookEndpoint
from barong.services.delivery import webhooks
from barong.services.operators import webhook_admin

S = "admin.webhook"
ID = Param("id", int, required=True, allow_blank=False, invalid=f"{S}.non_integer_id", description="endpoint id",
           minimum=INT32[0], maximum=INT32[1])


def endpoint_entity(e: WebhookEndpoint, secret: str | None = None) -> dict:
    body = {"id": e.id, "url": e.url, "events": webhooks.events_of(e), "description": e.description,
            "state": e.state, "created_by": e.created_by, "created_at": iso(e.created_at),
            "updated_at": iso(e.updated_at)}
    if secret is not None:
        body["secret"] = secret
    return body


def delivery_entity(d: WebhookDelivery) -> dict:
    return {"id": d.id, "endpoint_id": d.endpoint_id, "event_id": d.event.event_id, "event": d.event.name,
            "state": d.state, "attempts": d.attempts, "last_status": d.last_status, "last_error": d.last_error,
            "next_attempt_at": iso(d.next_attempt_at), "created_at": iso(d.created_at),
            "delivered_at": iso(d.delivered_at)}


@bp.get("/webhooks")
@api_auth
@use_params(S, paginated=True, summary="Returns the webhook endpoints")
@ability("read", "Webhook")
def webhooks_index(p):
    return respond(db.session.query(WebhookEndpoint).order_by(WebhookEndpoint.id), p, endpoint_entity)


@bp.post("/webhooks")
@api_auth
@use_params(S, Param("url", required=True, allow_blank=False, max_length=2048, description="https:// URL"),
            Param("events", required=True, allow_blank=False, max_length=4096,
                  description="comma-separated event names; a trailing * matches a prefix (model.user.*, *)"),
            Param("description", max_length=255),
            status=201, summary="Registers a webhook endpoint; the answer carries its signing secret, once",
            errors={422: "webhook.url.invalid (https only), webhook.events.invalid"})
@ability("create", "Webhook")
def webhooks_create(p):
    endpoint, secret = webhook_admin.register(current_user(), p["url"], p["events"], p.get("description"))
    return jsonify(endpoint_entity(endpoint, secret)), 201


@bp.put("/webhooks")
@api_auth
@use_params(S, ID, Param("state", required=True, values=("active", "disabled"), invalid=f"{S}.invalid_state"),
            summary="Enables or disables a webhook endpoint", errors={404: "webhook.doesnt_exist"})
@ability("update", "Webhook")
def webhooks_update(p):
    return jsonify(endpoint_entity(webhook_admin.change_state(current_user(), p["id"], p["state"])))


@bp.delete("/webhooks")
@api_auth
@use_params(S, ID, status=204, summary="Removes a webhook endpoint and its deliveries",
            errors={404: "webhook.doesnt_exist"})
@ability("destroy", "Webhook")
@no_content
def webhooks_delete(p):
    webhook_admin.remove(current_user(), p["id"])
    return "", 204


@bp.get("/webhooks/deliveries")
@api_auth
@use_params(S, Param("endpoint_id", int, invalid=f"{S}.non_integer_endpoint_id", minimum=INT32[0], maximum=INT32[1]),
            Param("state", values=("pending", "delivered", "failed"), invalid=f"{S}.invalid_state"),
            paginated=True, summary="Returns webhook deliveries, newest first")
@ability("read", "Webhook")
def webhooks_deliveries(p):
    q = db.session.query(WebhookDelivery)
    if p.get("endpoint_id") is not None:
        q = q.filter(WebhookDelivery.endpoint_id == p["endpoint_id"])
    if p.get("state"):
        q = q.filter(WebhookDelivery.state == p["state"])
    return respond(q.order_by(WebhookDelivery.id.desc()), p, delivery_entity)


@bp.post("/webhooks/deliveries/retry")
@api_auth
@use_params(S, Param("id", int, required=True, allow_blank=False, invalid=f"{S}.non_integer_id",
                     minimum=INT32[0], maximum=INT32[1], description="delivery id"),
            status=201, summary="Sends a delivery again (e.g. a failed one)",
            errors={404: "webhook.delivery.doesnt_exist"})
@ability("update", "Webhook")
def webhooks_retry(p):
    return jsonify(delivery_entity(webhook_admin.requeue(current_user(), p["id"]))), 201
