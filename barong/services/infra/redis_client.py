"""Every Redis client of the app (sessions, one-time marks, rate-limit counters, cache
generations): bounded waits, a circuit breaker, and one answer when Redis is out.

* Connect and read timeouts of BARONG_REDIS_TIMEOUT seconds (default 0.5) and no
  retries: redis-py 6 retries three times with an exponential back-off by default and
  waits forever without a socket timeout, so a Redis that silently drops packets used
  to hold a login until gunicorn killed the worker.
* A circuit breaker per Redis address and process: a refused, reset or timed-out
  connection opens it for RETRY seconds, during which every command fails at once
  (`RedisUnavailable`) instead of costing the timeout again. The first command after
  that probes the server, so the service recovers by itself about RETRY seconds after
  Redis answers again (no restart).
* Fail closed: nothing falls back to another store. A request that needs Redis
  (cookie sessions, login lockout counters and one-time marks, rate-limited endpoints)
  answers `503 {"errors": ["server.redis.unavailable"]}` with `Retry-After` under
  /api/ (the gateway check included: it refuses, never lets through), and the plain
  error page elsewhere. Endpoints and pages that need no Redis keep working.
  Rate limits fail closed too (no silent in-memory fallback: per-worker counters would
  multiply the login limit by the number of workers and hosts).
* The cache generations (barong.authz.process_cache) use the same breaker with their own
  shorter timeout; they fall back to the generation file and the TTLs instead of failing.
"""
from __future__ import annotations

import logging
import threading
import time

import redis
from redis.backoff import NoBackoff
from redis.connection import Connection, SSLConnection, UnixDomainSocketConnection
from redis.retry import Retry

from barong.services.infra import caches

log = logging.getLogger(__name__)

#: seconds a connect or a reply may take when BARONG_REDIS_TIMEOUT is not configured
DEFAULT_TIMEOUT = 0.5
#: seconds the breaker stays open after a failure (the back-off before the next probe)
RETRY = 1.0
#: the error code of an outage (CONTRACT §3 style: `server.<what>.<reason>`)
ERROR_CODE = "server.redis.unavailable"
#: what a connection failure looks like (RedisUnavailable is a ConnectionError too)
FAILURES = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)


class RedisUnavailable(redis.exceptions.ConnectionError):
    """Raised without touching the network while the breaker is open."""


# ---- the breaker ---------------------------------------------------------------------------

_lock = threading.Lock()
#: address → monotonic time until which commands fail at once
_open_until: dict[str, float] = {}
#: address → monotonic time of the last warning (one line per outage, not per request)
_warned_at: dict[str, float] = {}


def _address(conn) -> str:
    address = conn.__dict__.get("_barong_address")
    if address is None:
        path = getattr(conn, "path", None)
        address = f"unix:{path}" if path else f"{getattr(conn, 'host', '?')}:{getattr(conn, 'port', '?')}"
        conn._barong_address = address
    return address


def is_open(address: str) -> bool:
    until = _open_until.get(address)
    return until is not None and time.monotonic() < until


def trip(address: str, exc: BaseException) -> None:
    now = time.monotonic()
    with _lock:
        first = address not in _open_until
        _open_until[address] = now + RETRY
        warn = first or now - _warned_at.get(address, 0.0) >= 60
        if warn:
            _warned_at[address] = now
    if warn:
        log.warning("redis %s unavailable (%s); failing fast for %.1f s between probes", address,
                    type(exc).__name__, RETRY)


def recovered(address: str) -> None:
    if address in _open_until:
        with _lock:
            was = _open_until.pop(address, None)
        if was is not None:
            log.warning("redis %s answers again", address)


def reset() -> None:
    """Close every breaker (the test suite, between tests)."""
    with _lock:
        _open_until.clear()
        _warned_at.clear()


caches.register(reset)


class _Guarded:
    """Connection mixin: refuse at once while the breaker is open, open it on a failure,
    close it on the first reply (not on a connect: a hung server accepts connections)."""

    def connect_check_health(self, *args, **kwargs):
        address = _address(self)
        if getattr(self, "_sock", None) is None and is_open(address):
            raise RedisUnavailable(f"redis {address} unavailable (backing off)")
        try:
            result = super().connect_check_health(*args, **kwargs)
        except RedisUnavailable:
            raise
        except FAILURES as exc:
            trip(address, exc)
            raise
        return result

    def send_packed_command(self, command, check_health=True):
        address = _address(self)
        if is_open(address):
            self.disconnect()  # an idle pooled connection from before the outage: do not wait on it
            raise RedisUnavailable(f"redis {address} unavailable (backing off)")
        try:
            return super().send_packed_command(command, check_health=check_health)
        except RedisUnavailable:
            raise
        except FAILURES as exc:
            trip(address, exc)
            raise

    def read_response(self, *args, **kwargs):
        try:
            response = super().read_response(*args, **kwargs)
        except RedisUnavailable:
            raise
        except FAILURES as exc:
            trip(_address(self), exc)
            raise
        if _open_until:
            recovered(_address(self))
        return response


class GuardedConnection(_Guarded, Connection):
    pass


class GuardedSSLConnection(_Guarded, SSLConnection):
    pass


class GuardedUnixConnection(_Guarded, UnixDomainSocketConnection):
    pass


def _connection_class(url: str):
    if url.startswith("rediss://"):
        return GuardedSSLConnection
    if url.startswith("unix://") or url.startswith("redis+unix://"):
        return GuardedUnixConnection
    return GuardedConnection


# ---- clients -------------------------------------------------------------------------------

def options(url: str, timeout: float | None = None) -> dict:
    """redis-py keyword arguments: timeouts, no retries, the guarded connection class."""
    timeout = DEFAULT_TIMEOUT if timeout is None else timeout
    return {"socket_timeout": timeout, "socket_connect_timeout": timeout, "retry": Retry(NoBackoff(), 0),
            "connection_class": _connection_class(url)}


def connect(url: str, timeout: float | None = None, **kwargs) -> redis.Redis:
    """A client for `url` with the app's timeouts and the breaker (no I/O until used)."""
    return redis.Redis.from_url(url, **options(url, timeout), **kwargs)


def timeout_of(app) -> float:
    return app.config.get("BARONG_REDIS_TIMEOUT") or DEFAULT_TIMEOUT


# ---- the app -------------------------------------------------------------------------------

def _unavailable(exc):
    from flask import g

    from barong.errors import _html_error, is_api_request, json_errors
    from barong.extensions import db

    db.session.rollback()
    retry_after = {"Retry-After": str(max(1, int(RETRY)))}
    if is_api_request():
        return json_errors([ERROR_CODE], 503, retry_after)
    g.barong_web_user = None  # the error page's header must not ask Redis for the session again
    body, status = _html_error(503, ERROR_CODE)
    return body, status, retry_after


def init_app(app) -> None:
    """Bound the rate limiter's Redis client like the others, and answer an outage with 503."""
    url = app.config.get("BARONG_REDIS_URL")
    if url:
        app.config.setdefault("RATELIMIT_STORAGE_OPTIONS", options(url, timeout_of(app)))
    for exc_class in FAILURES:
        app.register_error_handler(exc_class, _unavailable)
