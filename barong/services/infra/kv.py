"""Expiring key/value marks: Redis when BARONG_REDIS_URL is set, else the `kv_entries` table.

Used for single-use token marks, the latest reset token per email, whitelink tokens.
Database writes join the request's unit of work (a refused request leaves no mark).
"""
from __future__ import annotations

import time

from flask import current_app

from barong.extensions import db
from barong.models import KVEntry


def _redis():
    """The marks' client (timeouts and circuit breaker of barong.services.infra.redis_client: an
    outage raises at once, and the request answers 503 server.redis.unavailable)."""
    r = current_app.extensions.get("barong_redis")
    if r is None and current_app.config.get("BARONG_REDIS_URL"):
        from barong.services.infra import redis_client

        r = current_app.extensions["barong_redis"] = redis_client.connect(
            current_app.config["BARONG_REDIS_URL"], redis_client.timeout_of(current_app), decode_responses=True)
    return r


def set(key: str, value: str, ttl: int) -> None:  # noqa: A001 - mirrors a cache API
    r = _redis()
    if r is not None:
        r.set(f"barong:kv:{key}", value, ex=max(1, int(ttl)))
        return
    entry = db.session.get(KVEntry, key) or KVEntry(key=key)
    entry.value, entry.expires_at = value, int(time.time() + ttl)
    db.session.add(entry)
    db.session.flush()


def add(key: str, value: str, ttl: int) -> bool:
    """Set `key` only when it is absent (or expired); True when this call set it.

    Atomic however many requests race on any worker or host: Redis `SET NX`; in the
    database the row's primary key (a concurrent insert of the same key waits for the
    first transaction and then fails). On that failure the request's transaction is
    rolled back (the caller refuses the request, so nothing of it is kept); and since the
    mark joins the request's unit of work, a refused request leaves no mark either."""
    r = _redis()
    if r is not None:
        return bool(r.set(f"barong:kv:{key}", value, ex=max(1, int(ttl)), nx=True))
    from sqlalchemy.exc import IntegrityError

    now = int(time.time())
    db.session.query(KVEntry).filter(KVEntry.key == key, KVEntry.expires_at <= now).delete(
        synchronize_session=False)
    db.session.add(KVEntry(key=key, value=value, expires_at=now + max(1, int(ttl))))
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        return False
    return True


def get(key: str) -> str | None:
    r = _redis()
    if r is not None:
        return r.get(f"barong:kv:{key}")
    entry = db.session.get(KVEntry, key)
    if entry is None or entry.expires_at <= time.time():
        return None
    return entry.value


def count(key: str) -> int:
    """The counter `key` (0 when absent or expired)."""
    return int(get(key) or 0)


def incr(key: str, ttl: int) -> int:
    """Add one to the counter `key`, kept `ttl` seconds from now; the new count (failure counters)."""
    n = count(key) + 1
    set(key, str(n), ttl)
    return n


def delete(key: str) -> None:
    r = _redis()
    if r is not None:
        r.delete(f"barong:kv:{key}")
        return
    db.session.query(KVEntry).filter_by(key=key).delete()
    db.session.flush()


def purge_expired() -> int:
    if _redis() is not None:
        return 0
    n = db.session.query(KVEntry).filter(KVEntry.expires_at <= int(time.time())).delete()
    db.session.flush()
    return n


def email_key(email: str | None) -> str:
    """An address as it keys expiring marks and counters (lockout, reset token, the
    per-address rate limit): trimmed, case-folded, hashed so no address is stored in clear."""
    from barong.security.crypto import sha256_hex

    return sha256_hex((email or "").strip().lower())[:40]
