"""Per-process caches of authorization data (permissions, restrictions, API keys, and the
callers' accounts of barong.authz.account_cache).

Gunicorn runs several workers, and a change is served by one of them. Each cache here
belongs to a *channel* ("authz": permissions, restrictions, API keys; "accounts": login
sessions, their users, API-key holders) and is dropped four ways:

* in this process, at once, by `invalidate(channel)`: every change of permissions,
  restrictions or API keys invalidates "authz" (the services, and the ORM flush hook in
  barong.authz), every session revocation or account change "accounts";
  `caches.clear_all()` (the test suite) drops every channel;
* in the other workers, by the channel's *generation file*
  `<instance>/<channel>_cache_generation` (`authz_cache_generation` for "authz"): an
  invalidation stamps its mtime (to the nanosecond, set explicitly with utime) and
  every cache lookup compares the stamp it loaded under with the file's: one `stat()`
  per lookup (about a microsecond), so the very next request on every worker of the
  host sees the change. The stamp is written again after the request's commit and
  before the response leaves (the after-commit hooks run in the request's teardown,
  before gunicorn sends anything), so once the admin call has answered no worker can
  serve the old rows, and a worker that reloaded between the flush and the commit
  cannot keep them;
* on other hosts, with BARONG_REDIS_URL set, by a counter in Redis
  (`barong:cache_generation:<channel>`) that every invalidation increments and every
  worker reads at most every REDIS_RECHECK (50 ms; a GET per lookup, ~110 µs from Python,
  would cost as much as the whole warm check): another host sees a change at most
  REDIS_RECHECK + one Redis round trip after the admin call answered;
* after a TTL, as a backstop (several hosts without Redis, or Redis down).

Channels keep unrelated changes apart: a logout does not drop the permission table, a
permission edit does not drop every cached session.
"""
from __future__ import annotations

import os
import threading
import time
from pathlib import Path

from flask import has_request_context

from barong import flaskctx
from barong.services.infra import caches

#: what `ProcessCache.lookup` returns for an absent or stale entry
MISSING = object()
AUTHZ = "authz"
ACCOUNTS = "accounts"
#: users' own entities served from a cache (barong.api.user_bodies: the `users/me` body)
ENTITIES = "entities"
#: the enabled webhook endpoints (barong.services.delivery.webhooks: read on every emitted event)
WEBHOOKS = "webhooks"
CHANNELS = (AUTHZ, ACCOUNTS, ENTITIES, WEBHOOKS)
_all: list["ProcessCache"] = []

#: the Redis counter is read at most this often per channel and process (seconds): the
#: bound on how late another host sees a change (the generation file is read on every lookup)
REDIS_RECHECK = 0.05
#: (instance path, channel) → (monotonic time of the read, the Redis counter)
_seen: dict[tuple[str, str], tuple[float, int | None]] = {}
#: (instance path, channel) → the generation file's path
_paths: dict[tuple[str, str], str] = {}


def _generation_path(instance: str, channel: str) -> str:
    key = (instance, channel)
    path = _paths.get(key)
    if path is None:
        path = _paths[key] = str(Path(instance) / f"{channel}_cache_generation")
    return path


def _file_generation(path: str) -> int:
    try:
        return os.stat(path).st_mtime_ns
    except FileNotFoundError:
        return 0


def _redis_key(channel: str) -> str:
    return f"barong:cache_generation:{channel}"


_last_redis_warning = [0.0]
#: after a failure Redis is left alone this long (a blackholed host would otherwise cost
#: REDIS_TIMEOUT every REDIS_RECHECK); meanwhile the file and the TTLs apply
REDIS_RETRY = 1.0
_redis_down_until = [0.0]


def _redis_failed(app, action: str, exc: Exception) -> None:
    """Back off, and log at most once a minute (the counter is read every REDIS_RECHECK)."""
    now = time.monotonic()
    _redis_down_until[0] = now + REDIS_RETRY
    if now - _last_redis_warning[0] >= 60:
        _last_redis_warning[0] = now
        app.logger.warning("cache generation: could not %s Redis (%s); other hosts rely on the TTL", action,
                           type(exc).__name__)


#: a Redis that does not answer within this many seconds counts as down (it is read on
#: the authorization path, once per REDIS_RECHECK)
REDIS_TIMEOUT = 0.2


def _redis(app):
    """A client for the counters, with short timeouts (not the kv client: a hung Redis must
    not stall the check), or None without BARONG_REDIS_URL or while backing off."""
    url = app.config.get("BARONG_REDIS_URL")
    if not url or time.monotonic() < _redis_down_until[0]:
        return None
    held = app.extensions.get("barong_generation_redis")  # (url, client)
    if held is None or held[0] != url:
        from barong.services.infra import (
            redis_client,  # no retries, and the breaker the other clients share
        )

        held = app.extensions["barong_generation_redis"] = (url, redis_client.connect(url, REDIS_TIMEOUT))
    return held[1]


def _redis_generation(app, channel: str) -> int | None:
    """The channel's counter in Redis, shared by every host (None without BARONG_REDIS_URL)."""
    client = _redis(app)
    if client is None:
        return None
    import redis

    try:
        return int(client.get(_redis_key(channel)) or 0)
    except redis.RedisError as exc:
        _redis_failed(app, "read", exc)
        return None


def generation(channel: str = AUTHZ) -> tuple[int, int | None]:
    """The channel's current stamp: the generation file's mtime (read now), and with
    BARONG_REDIS_URL the Redis counter every host bumps too (read at most every
    REDIS_RECHECK). Caches compare it for equality."""
    app = flaskctx.app()
    if app is None:
        return (0, None)
    config = app.config
    key = (config["BARONG_INSTANCE_PATH"], channel)
    stamp = _file_generation(_generation_path(*key))
    if not config.get("BARONG_REDIS_URL"):
        return (stamp, None)
    now = time.monotonic()
    seen = _seen.get(key)
    if seen is None or now - seen[0] >= REDIS_RECHECK:
        seen = _seen[key] = (now, _redis_generation(app, channel))
    return (stamp, seen[1])


def bump(channel: str = AUTHZ) -> None:
    """Tell every worker on this host (and, with Redis, on every host) that the channel's data changed."""
    app = flaskctx.app()
    if app is None:
        return
    instance = app.config["BARONG_INSTANCE_PATH"]
    path = _generation_path(instance, channel)
    try:
        Path(path).touch(exist_ok=True)
        stamp = max(time.time_ns(), _file_generation(path) + 1)
        os.utime(path, ns=(stamp, stamp))
    except OSError:  # read-only instance dir: the TTL still bounds staleness
        app.logger.warning("could not write %s", path)
    client = _redis(app)
    if client is not None:
        import redis

        try:
            client.incr(_redis_key(channel))
        except redis.RedisError as exc:
            _redis_failed(app, "bump", exc)
    _seen.pop((instance, channel), None)


def clear_local(channel: str | None = None) -> None:
    """Drop this process's caches of `channel` (every channel when None)."""
    for key in list(_seen):
        if channel is None or key[1] == channel:
            _seen.pop(key, None)
    for cache in _all:
        if channel is None or cache.channel == channel:
            cache.clear()


def invalidate(channel: str = AUTHZ) -> None:
    """Drop the channel's caches here and in the other workers, and once more after the commit."""
    clear_local(channel)
    bump(channel)
    if has_request_context():
        from barong.services.infra import unit_of_work

        unit_of_work.after_commit(_after_commit, channel)


def _after_commit(channel: str = AUTHZ) -> None:
    clear_local(channel)
    bump(channel)


@caches.register
def invalidate_all() -> None:
    for channel in CHANNELS:
        invalidate(channel)


class ProcessCache:
    """Values loaded from the database on demand, by key (None for a single value)."""

    def __init__(self, name: str, ttl: float, channel: str = AUTHZ, max_entries: int = 10000):
        self.name, self.ttl, self.channel, self.max_entries = name, ttl, channel, max_entries
        self._entries: dict = {}
        self._lock = threading.Lock()
        _all.append(self)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def lookup(self, key):
        """The cached value for `key` if it is still current, else MISSING."""
        hit = self._entries.get(key, MISSING)
        if hit is MISSING or hit[1] != generation(self.channel) or time.monotonic() - hit[2] >= self.ttl:
            return MISSING
        return hit[0]

    def store(self, key, value, gen: int) -> None:
        """Keep `value`, loaded under generation `gen` (read *before* loading, so a change
        that lands during the load is not hidden behind the newer stamp)."""
        with self._lock:
            if len(self._entries) >= self.max_entries:
                self._entries.clear()
            self._entries[key] = (value, gen, time.monotonic())

    def update(self, key, value) -> None:
        """Replace the value of a cached `key`, keeping its generation and age (no-op if absent)."""
        with self._lock:
            hit = self._entries.get(key)
            if hit is not None:
                self._entries[key] = (value, hit[1], hit[2])

    def forget(self, key) -> None:
        with self._lock:
            self._entries.pop(key, None)

    def get(self, key, loader, keep_none: bool = True):
        """The cached value for `key`, or `loader()` (stored unless it raised, or it is
        None and `keep_none` is false)."""
        value = self.lookup(key)
        if value is not MISSING:
            return value
        gen = generation(self.channel)
        value = loader()
        if value is not None or keep_none:
            self.store(key, value, gen)
        return value
