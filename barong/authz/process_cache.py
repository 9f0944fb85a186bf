"""Per-process caches of authorization data (permissions, restrictions, API keys, and the
callers' accounts of barong.authz.account_cache).

Gunicorn runs several workers, and a change is served by one of them. Each cache here
belongs to a *channel* ("authz": permissions, restrictions, API keys; "accounts": login
sessions, their users, API-key holders) and is dropped three ways:

* in this process, at once, by `invalidate(channel)` (`caches.clear_all()` drops every
  channel; every admin change of permissions or restrictions calls it);
* in the other workers, by the channel's *generation file*
  `<instance>/<channel>_cache_generation` (`authz_cache_generation` for "authz"): an
  invalidation stamps its mtime (to the nanosecond, set explicitly with utime) and
  every cache compares the stamp it loaded under with the file's (one `stat()` per
  channel and process every RECHECK = 50 ms at most); the stamp is written again after
  the request's commit, so a worker that reloaded between the flush and the commit
  cannot keep the old rows;
* after a TTL, as a backstop for deployments with workers on several hosts.

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
from barong.services import caches

#: what `ProcessCache.lookup` returns for an absent or stale entry
MISSING = object()
AUTHZ = "authz"
ACCOUNTS = "accounts"
CHANNELS = (AUTHZ, ACCOUNTS)
_all: list["ProcessCache"] = []

#: the generation file is stat()ed at most this often per channel and process (seconds)
RECHECK = 0.05
#: (instance path, channel) → (monotonic time of the stat, generation)
_seen: dict[tuple[str, str], tuple[float, int]] = {}


def _generation_path(instance: str, channel: str) -> str:
    return str(Path(instance) / f"{channel}_cache_generation")


def generation(channel: str = AUTHZ) -> int:
    app = flaskctx.app()
    if app is None:
        return 0
    key = (app.config["BARONG_INSTANCE_PATH"], channel)
    now = time.monotonic()
    seen = _seen.get(key)
    if seen is not None and now - seen[0] < RECHECK:
        return seen[1]
    try:
        gen = os.stat(_generation_path(*key)).st_mtime_ns
    except FileNotFoundError:
        gen = 0
    _seen[key] = (now, gen)
    return gen


def bump(channel: str = AUTHZ) -> None:
    """Tell every worker on this host that the channel's data changed."""
    app = flaskctx.app()
    if app is None:
        return
    instance = app.config["BARONG_INSTANCE_PATH"]
    path = _generation_path(instance, channel)
    try:
        Path(path).touch(exist_ok=True)
        stamp = max(time.time_ns(), generation(channel) + 1)
        os.utime(path, ns=(stamp, stamp))
        _seen.pop((instance, channel), None)
    except OSError:  # read-only instance dir: the TTL still bounds staleness
        app.logger.warning("could not write %s", path)


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
        from barong.services import unit_of_work

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

    def get(self, key, loader):
        """The cached value for `key`, or `loader()` (stored unless it raised)."""
        value = self.lookup(key)
        if value is not MISSING:
            return value
        gen = generation(self.channel)
        value = loader()
        self.store(key, value, gen)
        return value


