"""Signed webhooks from the event outbox, for exchanges without RabbitMQ (or beside it).

* `enqueue(event)` — called by `events.emit` in the transaction that writes the event —
  adds one `WebhookDelivery` per active endpoint whose names match, so a delivery exists
  exactly when its event does: never lost. It runs for every event, so it reads a
  per-process snapshot of the active endpoints' (id, patterns) (barong.authz.process_cache,
  channel "webhooks": dropped at once in this worker and, through the generation file and
  the Redis counter, in every other; SNAPSHOT_TTL as the backstop between hosts without
  Redis). Any write to `webhook_endpoints` — an ORM flush or an UPDATE/DELETE/INSERT
  statement through the session — invalidates it. No endpoint → no query at all; matching
  endpoints → one `INSERT … SELECT` that re-checks each is still there and active, so an
  endpoint deleted or disabled a moment ago (a stale snapshot) gets nothing.
* `deliver_due()` claims due rows with a conditional UPDATE (a lease, so several workers
  and hosts never send one row at the same time, and a deliverer that dies mid-send
  leaves a row another takes after the lease), POSTs each, and records the answer.
  A failure is retried with exponential back-off (BARONG_WEBHOOK_RETRY_BASE seconds,
  doubling, at most an hour apart) until BARONG_WEBHOOK_MAX_AGE, then `failed` (listed
  in the console; re-queued by an operator).
* Each POST carries `X-Barong-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret,
  "<t>.<body>")>`, `X-Barong-Event-Id` (the event's UUID: receivers de-duplicate on it —
  delivery is at-least-once) and `X-Barong-Event`. `verify_signature` is the receiver's
  check, with a tolerance against replays.

A background thread per server process runs `deliver_due` (started like the mail
deliverer, barong/services/delivery/mail_worker.py); with BARONG_WEBHOOK_DELIVERY=inline
(tests, CLI) the rows of a commit are sent right after it.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import secrets
import threading
import time
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from flask import Flask, current_app, has_request_context
from sqlalchemy import DateTime, Integer, String, insert, literal, or_, select, update
from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session

from barong.authz.process_cache import WEBHOOKS, ProcessCache, invalidate
from barong.errors import BarongError, ValidationError
from barong.extensions import db
from barong.models import OutboxEvent, utcnow
from barong.models.webhook import WebhookDelivery, WebhookEndpoint
from barong.security.crypto import decrypt, encrypt
from barong.services.infra.unit_of_work import after_commit

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Barong-Signature"
LEASE = timedelta(seconds=60)
MAX_BACKOFF = 3600
BATCH = 50
USER_AGENT = "Barong-Webhooks/1"
#: seconds a worker may use its endpoint snapshot without re-reading (the bound for other
#: hosts without BARONG_REDIS_URL; this host and Redis-connected ones see a change at once)
SNAPSHOT_TTL = 10.0


# ---- endpoints ------------------------------------------------------------------------

def _check_url(url: str) -> str:
    url = (url or "").strip()
    parts = urlsplit(url)
    allow_http = current_app.config.get("BARONG_WEBHOOK_ALLOW_HTTP", False)
    if parts.scheme not in (("https", "http") if allow_http else ("https",)) or not parts.hostname \
            or len(url) > 2048 or parts.username or parts.password:
        raise ValidationError("webhook.url.invalid", field="url")
    return url


def _check_events(events) -> list[str]:
    if isinstance(events, str):
        events = [e.strip() for e in events.replace("\n", ",").split(",")]
    names = sorted({e for e in (events or []) if e})
    if not names or any(len(e) > 128 or " " in e or ("*" in e and not e.endswith("*")) for e in names):
        raise ValidationError("webhook.events.invalid", field="events")
    return names


def create(url: str, events, description: str | None = None, actor=None) -> tuple[WebhookEndpoint, str]:
    """The endpoint and its signing secret (shown once; stored encrypted)."""
    secret = "whsec_" + secrets.token_urlsafe(32)
    endpoint = WebhookEndpoint(url=_check_url(url), events_json=json.dumps(_check_events(events)),
                               description=(description or "").strip()[:255] or None,
                               secret_encrypted=encrypt(secret), state="active",
                               created_by=getattr(actor, "uid", None))
    db.session.add(endpoint)
    db.session.flush()
    _invalidate()
    return endpoint, secret


def get(endpoint_id: int) -> WebhookEndpoint:
    endpoint = db.session.get(WebhookEndpoint, endpoint_id)
    if endpoint is None:
        raise BarongError("webhook.doesnt_exist", 404)
    return endpoint


def set_state(endpoint: WebhookEndpoint, state: str) -> WebhookEndpoint:
    if state not in ("active", "disabled"):
        raise ValidationError("webhook.state.invalid", field="state")
    endpoint.state = state
    db.session.flush()
    _invalidate()
    return endpoint


def delete(endpoint: WebhookEndpoint) -> None:
    db.session.delete(endpoint)
    db.session.flush()
    _invalidate()


def events_of(endpoint: WebhookEndpoint) -> list[str]:
    return json.loads(endpoint.events_json)


def matches(patterns: list[str], name: str) -> bool:
    return any(p == name or (p.endswith("*") and name.startswith(p[:-1])) for p in patterns)


# ---- enqueue (inside the event's transaction) -------------------------------------------

_snapshot = ProcessCache("webhook_endpoints", ttl=SNAPSHOT_TTL, channel=WEBHOOKS, max_entries=64)


#: session.info key: this transaction wrote webhook_endpoints (its own reads bypass the snapshot)
_WROTE = "barong_webhook_endpoints_written"


def _invalidate() -> None:
    invalidate(WEBHOOKS)


def _written(session) -> None:
    session.info[_WROTE] = True
    _invalidate()


@sa_event.listens_for(Session, "after_flush")
def _watch_flush(session, _flush_context) -> None:
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, WebhookEndpoint):
            _written(session)
            return


@sa_event.listens_for(Session, "do_orm_execute")
def _watch_statements(state) -> None:
    if state.is_update or state.is_delete or state.is_insert:
        table = getattr(state.statement, "table", None)
        if getattr(table, "name", None) == WebhookEndpoint.__tablename__:
            _written(state.session)


@sa_event.listens_for(Session, "after_commit")
@sa_event.listens_for(Session, "after_rollback")
def _transaction_over(session) -> None:
    session.info.pop(_WROTE, None)


def _load_active() -> tuple[tuple[int, tuple[str, ...]], ...]:
    rows = db.session.query(WebhookEndpoint.id, WebhookEndpoint.events_json).filter_by(state="active").all()
    return tuple((i, tuple(json.loads(e))) for i, e in sorted(rows))


def _active() -> tuple[tuple[int, tuple[str, ...]], ...]:
    """(id, patterns) of the active endpoints: this worker's snapshot (keyed by database).
    A transaction that wrote endpoints itself reads them, uncached: what it sees is not
    committed yet, and a rollback must not leave it in the snapshot."""
    if db.session.info.get(_WROTE):
        return _load_active()
    return _snapshot.get(current_app.config["SQLALCHEMY_DATABASE_URI"], _load_active)


def enqueue(event: OutboxEvent) -> int:
    """One pending delivery per active endpoint whose patterns match `event` (in the event's
    transaction); the number written."""
    ids = [endpoint_id for endpoint_id, patterns in _active() if matches(patterns, event.name)]
    if not ids:
        return 0
    now = utcnow()
    rows = select(WebhookEndpoint.id, literal(event.id, Integer), literal("pending", String),
                  literal(0, Integer), literal(now, DateTime), literal(now, DateTime)) \
        .where(WebhookEndpoint.id.in_(ids), WebhookEndpoint.state == "active")
    n = db.session.execute(insert(WebhookDelivery).from_select(
        ["endpoint_id", "outbox_id", "state", "attempts", "next_attempt_at", "created_at"], rows)).rowcount or 0
    if n:
        after_commit(notify)
    return n


# ---- signing ----------------------------------------------------------------------------

def sign(secret: str, body: bytes, timestamp: int) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def verify_signature(secret: str, body: bytes, header: str, tolerance: int = 300, now: float | None = None) -> bool:
    """The receiver's check: a v1 HMAC that matches, made less than `tolerance` s ago."""
    try:
        fields = dict(part.split("=", 1) for part in header.split(","))
        timestamp = int(fields["t"])
    except (ValueError, KeyError):
        return False
    if abs((now or time.time()) - timestamp) > tolerance:
        return False
    expected = sign(secret, body, timestamp).split("v1=", 1)[1]
    return hmac.compare_digest(expected, fields.get("v1", ""))


def body_of(event: OutboxEvent) -> bytes:
    from barong.services.delivery.events import payload_of

    return json.dumps({"id": event.event_id, "name": event.name, "created_at": int(event.created_at.timestamp()),
                       "payload": payload_of(event)}, separators=(",", ":"), default=str).encode()


# ---- delivery ---------------------------------------------------------------------------

def _backoff(attempts: int) -> int:
    base = int(current_app.config.get("BARONG_WEBHOOK_RETRY_BASE", 10))
    return min(base * 2 ** max(attempts - 1, 0), MAX_BACKOFF)


def _claim(now: datetime, ids: list[int] | None) -> list[int]:
    q = db.session.query(WebhookDelivery.id).filter(
        WebhookDelivery.state == "pending", WebhookDelivery.next_attempt_at <= now,
        or_(WebhookDelivery.lease_until.is_(None), WebhookDelivery.lease_until < now))
    if ids is not None:
        q = q.filter(WebhookDelivery.id.in_(ids))
    claimed = []
    for (delivery_id,) in q.order_by(WebhookDelivery.id).limit(BATCH).all():
        won = db.session.execute(
            update(WebhookDelivery).where(
                WebhookDelivery.id == delivery_id, WebhookDelivery.state == "pending",
                or_(WebhookDelivery.lease_until.is_(None), WebhookDelivery.lease_until < now))
            .values(lease_until=now + LEASE)).rowcount
        if won:
            claimed.append(delivery_id)
    db.session.commit()
    return claimed


def _post(endpoint: WebhookEndpoint, body: bytes, event: OutboxEvent, delivery_id: int):
    import requests

    timeout = float(current_app.config.get("BARONG_WEBHOOK_TIMEOUT", 5.0))
    headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT,
               SIGNATURE_HEADER: sign(decrypt(endpoint.secret_encrypted), body, int(time.time())),
               "X-Barong-Event-Id": event.event_id, "X-Barong-Event": event.name,
               "X-Barong-Delivery": str(delivery_id)}
    return requests.post(endpoint.url, data=body, headers=headers, timeout=(min(timeout, 3.0), timeout),
                         allow_redirects=False)


def _without_url(text: str, url: str) -> str:
    """A transport error's text without the endpoint's path and query: receivers often put
    a token there, and the text is logged, stored (`last_error`) and shown in the console."""
    parts = urlsplit(url)
    for secretish in (url, parts.path + ("?" + parts.query if parts.query else ""), parts.query):
        if secretish and secretish != "/":
            text = text.replace(secretish, "<endpoint>")
    return text


def deliver_due(now: datetime | None = None, ids: list[int] | None = None) -> dict[str, int]:
    """One pass: send what is due. Returns counts (delivered, retry, failed)."""
    now = now or utcnow()
    max_age = timedelta(seconds=int(current_app.config.get("BARONG_WEBHOOK_MAX_AGE", 3 * 86400)))
    counts = {"delivered": 0, "retry": 0, "failed": 0}
    for delivery_id in _claim(now, ids):
        delivery = db.session.get(WebhookDelivery, delivery_id)
        if delivery is None:
            continue
        endpoint, event = delivery.endpoint, delivery.event
        endpoint_id, event_name = endpoint.id, event.name
        delivery.attempts += 1
        try:
            if endpoint.state != "active":
                raise RuntimeError("endpoint disabled")
            resp = _post(endpoint, body_of(event), event, delivery.id)
            delivery.last_status = resp.status_code
            ok = 200 <= resp.status_code < 300
            error = None if ok else f"HTTP {resp.status_code}"
        except Exception as exc:  # noqa: BLE001 - any transport failure is a retry
            ok, error = False, f"{type(exc).__name__}: {_without_url(str(exc), endpoint.url)[:300]}"
        delivery.lease_until = None
        if ok:
            delivery.state, delivery.delivered_at, delivery.last_error = "delivered", utcnow(), None
            counts["delivered"] += 1
        elif now - delivery.created_at >= max_age:
            delivery.state, delivery.last_error = "failed", error
            counts["failed"] += 1
        else:
            delivery.next_attempt_at = now + timedelta(seconds=_backoff(delivery.attempts))
            delivery.last_error = error
            counts["retry"] += 1
        db.session.commit()
        if not ok:
            log.warning("webhook %s delivery %s (%s) failed: %s", endpoint_id, delivery_id, event_name, error)
    return counts


def requeue(delivery_id: int) -> WebhookDelivery:
    delivery = db.session.get(WebhookDelivery, delivery_id)
    if delivery is None:
        raise BarongError("webhook.delivery.doesnt_exist", 404)
    delivery.state, delivery.next_attempt_at, delivery.lease_until = "pending", utcnow(), None
    delivery.created_at = utcnow()  # a fresh maximum age
    db.session.flush()
    after_commit(notify)
    return delivery


def stats() -> dict[str, int]:
    rows = db.session.query(WebhookDelivery.state, db.func.count()).group_by(WebhookDelivery.state).all()
    return {"pending": 0, "delivered": 0, "failed": 0, **dict(rows)}


# ---- the background deliverer -----------------------------------------------------------

class Worker:
    def __init__(self, app: Flask):
        self.app = app
        self.wake = threading.Event()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, name="barong-webhooks", daemon=True)

    def run(self) -> None:
        interval = float(self.app.config.get("BARONG_WEBHOOK_POLL_INTERVAL") or 5.0)
        while not self.stop.is_set():
            self.wake.clear()
            with self.app.app_context():
                try:
                    deliver_due()
                except Exception:  # database hiccup: the next pass retries
                    log.exception("webhook delivery pass failed")
                    db.session.rollback()
                finally:
                    db.session.remove()
            self.wake.wait(interval)


_lock = threading.Lock()
_current: dict = {"pid": None, "worker": None}


def start(app: Flask) -> Worker:
    with _lock:
        worker = _current["worker"]
        if worker is None or _current["pid"] != os.getpid() or not worker.thread.is_alive():
            worker = Worker(app)
            worker.thread.start()
            _current.update(pid=os.getpid(), worker=worker)
        return worker


def shutdown(timeout: float = 5.0) -> None:
    worker = _current["worker"]
    if worker is not None and _current["pid"] == os.getpid():
        worker.stop.set()
        worker.wake.set()
        worker.thread.join(timeout)
    _current.update(pid=None, worker=None)


def notify() -> None:
    """After a commit that wrote deliveries: wake this process's deliverer (starting it),
    or deliver now with BARONG_WEBHOOK_DELIVERY=inline or outside a request."""
    app = current_app._get_current_object()
    if app.config.get("BARONG_WEBHOOK_DELIVERY", "background") == "background" and has_request_context():
        start(app).wake.set()
        return
    deliver_due()
