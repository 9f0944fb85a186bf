"""`flask events dispatch`: publish the outbox to RabbitMQ, at least once.

Loop: lock a batch of `pending` rows in id order (`FOR UPDATE SKIP LOCKED` on
PostgreSQL, so several dispatchers never publish the same row at once), sign each,
publish it with a publisher confirm, mark it `sent`, commit the batch.

* Broker down (cannot connect, connection lost): the row stays `pending` with
  `last_error`, the dispatcher backs off (1 s, 2 s, 4 s … max 30 s) and reconnects;
  an outage of any length loses nothing and never marks an event `failed`.
* Broker refuses a message (nack, channel error) or it cannot be signed: one failed
  attempt; after `MAX_ATTEMPTS` the row becomes `failed` (retry from the console or
  `flask events retry`), and the rows behind it go on.
* A crash after the broker's confirm but before the commit publishes that batch again
  on restart: duplicates are possible, losses are not. Consumers de-duplicate by the
  AMQP `message_id` (= the event's `event_id` = the JWT `jti`).

The loop also sweeps the mail outbox once a minute (`mail.deliver_due`: mails whose
retry is due, or whose deliverer died mid-send), beside the server processes' own
deliverers (services/delivery/mail_worker.py); the claim keeps them from sending twice.
"""
from __future__ import annotations

import json
import logging
import threading
import time
from dataclasses import dataclass, field

from flask import Flask

from barong.events import broker_configured, envelope, exchange_for, routing_key_for
from barong.events.publisher import BrokerUnavailable, Publisher, PublishRejected
from barong.extensions import db
from barong.models import OutboxEvent, utcnow
from barong.services.delivery import events

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 10
BATCH_SIZE = 100
MAX_BACKOFF = 30.0
MAIL_RETRY_INTERVAL = 60.0


@dataclass
class BatchResult:
    published: list[str] = field(default_factory=list)  # event ids
    failed: list[str] = field(default_factory=list)  # event ids that just became `failed`
    error: str | None = None  # why the batch stopped early (broker down, rejection)

    @property
    def broker_down(self) -> bool:
        return self.error is not None and self.error.startswith("broker:")


def _pending_batch(limit: int) -> list[OutboxEvent]:
    query = db.session.query(OutboxEvent).filter(OutboxEvent.state == "pending").order_by(OutboxEvent.id)
    if db.engine.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    return query.limit(limit).all()


def _fail(event: OutboxEvent, message: str, max_attempts: int) -> bool:
    event.last_error = message[:1024]
    if event.attempts >= max_attempts:
        event.state = "failed"
        log.error("event %s %s failed after %s attempts: %s", event.event_id, event.name, event.attempts, message)
        return True
    log.warning("event %s %s not published (attempt %s): %s", event.event_id, event.name, event.attempts, message)
    return False


def publish_batch(publisher: Publisher, limit: int = BATCH_SIZE, max_attempts: int = MAX_ATTEMPTS) -> BatchResult:
    """Publish up to `limit` pending events in id order; commits. Needs an app context."""
    from barong.security.jwt_keys import keypair

    result = BatchResult()
    batch = _pending_batch(limit)
    if not batch:
        db.session.rollback()  # end the (read) transaction
        return result
    key = keypair().private_key
    for event in batch:
        event.attempts = (event.attempts or 0) + 1
        try:
            body = json.dumps(envelope.sign(events.payload_of(event), event.event_id, key),
                              separators=(",", ":"), ensure_ascii=False).encode()
        except Exception as exc:  # a payload we cannot sign: that event's fault only
            if _fail(event, f"sign: {exc!r}", max_attempts):
                result.failed.append(event.event_id)
                continue
            result.error = f"event: {exc!r}"
            break
        try:
            publisher.publish(exchange_for(event.name), routing_key_for(event.name), body,
                              message_id=event.event_id, timestamp=time.time())
        except BrokerUnavailable as exc:
            event.last_error = str(exc)[:1024]
            result.error = f"broker: {exc}"
            break
        except PublishRejected as exc:
            if _fail(event, str(exc), max_attempts):
                result.failed.append(event.event_id)
                continue
            result.error = f"event: {exc}"
            break
        event.state, event.sent_at, event.last_error = "sent", utcnow(), None
        result.published.append(event.event_id)
    db.session.commit()
    if result.published:
        log.info("published %s event(s)", len(result.published))
    return result


class Dispatcher:
    """The worker loop; `run()` until `stop` is set (SIGTERM/SIGINT in the CLI)."""

    def __init__(self, app: Flask, *, publisher: Publisher | None = None, poll_interval: float = 1.0,
                 batch_size: int = BATCH_SIZE, max_attempts: int = MAX_ATTEMPTS, max_backoff: float = MAX_BACKOFF,
                 mail_retry_interval: float = MAIL_RETRY_INTERVAL, stop: threading.Event | None = None):
        if publisher is None:
            if not broker_configured(app.config):
                raise RuntimeError("BARONG_EVENT_API_RABBITMQ_HOST is not set: there is no broker to publish to")
            publisher = Publisher.from_config(app.config)
        self.app, self.publisher = app, publisher
        self.poll_interval, self.batch_size, self.max_attempts = poll_interval, batch_size, max_attempts
        self.max_backoff, self.mail_retry_interval = max_backoff, mail_retry_interval
        self.stop = stop or threading.Event()
        self._backoff = 0.0
        self._next_mail_retry = 0.0

    def run_once(self) -> BatchResult:
        """One pass: connect if needed, publish until the outbox is empty or an error stops us."""
        total = BatchResult()
        with self.app.app_context():
            try:
                while not self.stop.is_set():
                    try:
                        self.publisher.connect()
                    except BrokerUnavailable as exc:
                        total.error = f"broker: {exc}"
                        break
                    result = publish_batch(self.publisher, self.batch_size, self.max_attempts)
                    total.published += result.published
                    total.failed += result.failed
                    if result.error or len(result.published) + len(result.failed) < self.batch_size:
                        total.error = result.error
                        break
            finally:
                db.session.remove()
        return total

    def expire_cooldowns(self) -> int:
        """Once a minute as well: remove the `security: cooldown` labels whose cooldown ended
        (`flask security expire-cooldowns`; the authz check stops applying them on time anyway)."""
        from barong.services.accounts import cooldown
        from barong.services.infra import unit_of_work

        with self.app.app_context():
            try:
                n = cooldown.sweep()
                unit_of_work.commit()
                return n
            except Exception:
                log.exception("cooldown sweep failed")
                db.session.rollback()
                return 0
            finally:
                db.session.remove()

    def retry_mail(self) -> int:
        from barong.services.delivery import mail

        with self.app.app_context():
            try:
                return mail.deliver_due()
            except Exception:
                log.exception("mail retry failed")
                db.session.rollback()
                return 0
            finally:
                db.session.remove()

    def _wait(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while not self.stop.is_set():
            left = deadline - time.monotonic()
            if left <= 0:
                return
            if self.publisher.connected:
                self.publisher.idle(min(left, 0.5))
            else:
                self.stop.wait(min(left, 0.5))

    def run(self) -> None:
        log.info("events dispatcher started (broker %s:%s)", self.publisher.params.host, self.publisher.params.port)
        try:
            while not self.stop.is_set():
                if time.monotonic() >= self._next_mail_retry:
                    self.retry_mail()
                    self.expire_cooldowns()
                    self._next_mail_retry = time.monotonic() + self.mail_retry_interval
                try:
                    result = self.run_once()
                except Exception as exc:  # database hiccup: keep the worker alive, try again later
                    log.exception("dispatch pass failed")
                    result = BatchResult(error=f"database: {exc!r}")
                if result.error:
                    self._backoff = min(self.max_backoff, max(1.0, self._backoff * 2))
                    log.warning("dispatcher backing off %.0f s: %s", self._backoff, result.error)
                    if result.broker_down:
                        self.publisher.close()
                    self._wait(self._backoff)
                else:
                    self._backoff = 0.0
                    self._wait(self.poll_interval)
        finally:
            self.publisher.close()
            log.info("events dispatcher stopped")
