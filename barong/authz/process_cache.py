"""Per-process caches of authorization data (permissions, restrictions, API keys, rules).

Gunicorn runs several workers, and an admin change is served by one of them. Each
cache here is therefore dropped three ways:

* in this process, at once, by `caches.clear_all()` (which every admin change calls);
* in the other workers, by the *generation file* `<instance>/authz_cache_generation`:
  an invalidation stamps its mtime (to the nanosecond, set explicitly with utime) and
  every cache compares the stamp it loaded under with the file's (one `stat()` per
  process every RECHECK = 50 ms at most);
  the stamp is written again after the request's commit, so a worker that reloaded
  between the flush and the commit cannot keep the old rows;
* after a TTL, as a backstop for deployments with workers on several hosts.
"""
from __future__ import annotations

import os
import threading
import time
from pathlib import Path

from flask import current_app, has_app_context, has_request_context

from barong.services import caches

_MISSING = object()
_all: list["ProcessCache"] = []


_paths: dict = {}


def _generation_path() -> str | None:
    if not has_app_context():
        return None
    instance = current_app.config["BARONG_INSTANCE_PATH"]
    path = _paths.get(instance)
    if path is None:
        path = _paths[instance] = str(Path(instance) / "authz_cache_generation")
    return path


#: the generation file is stat()ed at most this often per process (seconds)
RECHECK = 0.05
_seen = {"path": None, "at": 0.0, "gen": 0}


def generation() -> int:
    path = _generation_path()
    if path is None:
        return 0
    now = time.monotonic()
    if _seen["path"] == path and now - _seen["at"] < RECHECK:
        return _seen["gen"]
    try:
        gen = os.stat(path).st_mtime_ns
    except FileNotFoundError:
        gen = 0
    _seen.update(path=path, at=now, gen=gen)
    return gen


def bump() -> None:
    """Tell every worker on this host that authorization data changed."""
    path = _generation_path()
    if path is None:
        return
    try:
        Path(path).touch(exist_ok=True)
        stamp = max(time.time_ns(), generation() + 1)
        os.utime(path, ns=(stamp, stamp))
        _seen["path"] = None
    except OSError:  # read-only instance dir: the TTL still bounds staleness
        current_app.logger.warning("could not write %s", path)


def clear_local() -> None:
    _seen["path"] = None
    for cache in _all:
        cache.clear()


def invalidate() -> None:
    """Drop the caches here and in the other workers, and once more after the commit."""
    clear_local()
    bump()
    if has_request_context():
        from barong.services import unit_of_work

        unit_of_work.after_commit(_after_commit)


def _after_commit() -> None:
    clear_local()
    bump()


caches.register(invalidate)


class ProcessCache:
    """One value (or a dict of values by key) loaded from the database on demand."""

    def __init__(self, name: str, ttl: float):
        self.name, self.ttl = name, ttl
        self._entries: dict = {}
        self._lock = threading.Lock()
        _all.append(self)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def get(self, key, loader):
        """The cached value for `key`, or `loader()` (stored unless it raised)."""
        gen = generation()
        now = time.monotonic()
        hit = self._entries.get(key, _MISSING)
        if hit is not _MISSING and hit[1] == gen and now - hit[2] < self.ttl:
            return hit[0]
        value = loader()
        with self._lock:
            if len(self._entries) > 10000:
                self._entries.clear()
            self._entries[key] = (value, gen, now)
        return value
