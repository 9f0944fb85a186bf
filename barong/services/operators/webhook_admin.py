"""Operators' webhook actions (admin API and console): ability check, the change
(barong.services.delivery.webhooks), and one admin audit row each."""
from __future__ import annotations

from barong.services.access import abilities
from barong.services.audit import admin_activities
from barong.services.delivery import webhooks


def register(actor, url: str, events, description: str | None = None):
    """(endpoint, secret): the secret is shown once, to the operator who registers it."""
    abilities.authorize(actor, "create", "Webhook")
    endpoint, secret = webhooks.create(url, events, description, actor=actor)
    admin_activities.audit(actor, "webhooks", "create",
                           data={"id": endpoint.id, "url": endpoint.url, "events": webhooks.events_of(endpoint)})
    return endpoint, secret


def change_state(actor, endpoint_id: int, state: str):
    abilities.authorize(actor, "update", "Webhook")
    endpoint = webhooks.set_state(webhooks.get(endpoint_id), state)
    admin_activities.audit(actor, "webhooks", "update", data={"id": endpoint.id, "state": state})
    return endpoint


def remove(actor, endpoint_id: int) -> None:
    abilities.authorize(actor, "destroy", "Webhook")
    endpoint = webhooks.get(endpoint_id)
    data = {"id": endpoint.id, "url": endpoint.url}
    webhooks.delete(endpoint)
    admin_activities.audit(actor, "webhooks", "delete", data=data)


def requeue(actor, delivery_id: int):
    abilities.authorize(actor, "update", "Webhook")
    delivery = webhooks.requeue(delivery_id)
    admin_activities.audit(actor, "webhooks", "requeue", data={"delivery": delivery.id})
    return delivery
