"""Event API transport: publish the outbox to RabbitMQ the way Barong (Ruby) does.

* `envelope`  — the JWT envelope (JWS JSON general serialization, RS256, signer `barong`).
* `publisher` — one AMQP connection with publisher confirms (pika).
* `dispatcher` — the `flask events dispatch` worker: outbox → broker, at-least-once.
* `cli`       — the `flask events …` command group.

Naming is the original's: an event `model.user.created` goes to the direct exchange
`barong.events.model` with routing key `user.created`.
"""
from __future__ import annotations

EXCHANGE_PREFIX = "barong.events"
CATEGORIES = ("model", "system")

#: every event of reference/events-and-mail.md §2–3 (+ this server's `system.user.account.locked`)
REFERENCE_EVENTS = (
    "model.user.created", "model.user.updated",
    "model.label.created", "model.label.updated",
    "model.profile.created", "model.profile.updated",
    "model.document.created",
    "model.data_storage.created", "model.data_storage.updated",
    "system.user.email.confirmation.token", "system.user.email.confirmed",
    "system.user.password.reset.token", "system.user.password.reset", "system.user.password.change",
    "system.user.account.deleted", "system.user.account.locked",
    "system.session.create",
    "system.document.verified", "system.document.rejected",
)


def exchange_for(name: str) -> str:
    """`model.user.created` → `barong.events.model`."""
    return f"{EXCHANGE_PREFIX}.{name.split('.', 1)[0]}"


def routing_key_for(name: str) -> str:
    """`model.user.created` → `user.created` (the event name minus its first word)."""
    return name.split(".", 1)[1]


def broker_configured(config) -> bool:
    return bool(config.get("BARONG_EVENT_API_RABBITMQ_HOST"))
