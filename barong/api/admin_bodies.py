"""Admin API GET answers, cached per worker (issue 18: every admin GET within 2x of users/me).

An operator's console polls the same lists (users, the KYC queue, permissions, levels…) over
and over, and each answer cost two or three ORM queries, entity building and, for personal
data, Fernet decryptions: 4-17x the cached users/me. The answer is the same until a row it
is built from changes, so `@cached(*groups)` keeps the view's response (status, headers,
body bytes, before the app's after-request hooks, which still run on every request) per
process, keyed by (database, path and raw query string, the caller's role, config the bodies
read).

Tables are watched in groups (`GROUPS`); a view names the groups its body reads. An entry is
served only while

* no INSERT, UPDATE or DELETE reached a table of its groups: every statement the engine runs
  is looked at (`after_execute`: ORM flushes, `update(Model)…`, Core statements on any
  connection such as the API keys' `last_used_at` write, and raw SQL text, which drops every
  group); the group's channel (barong.authz.process_cache) is then invalidated in this
  process at once, in the other workers of the host from their next lookup (the generation
  file), again after the request's commit and when the writing connection returns to the
  pool (after its own commit: a write outside a request, or on a connection of its own), and
  on other hosts through the Redis counter when BARONG_REDIS_URL is set;
* it is younger than TTL seconds (other hosts without Redis, Redis down).

The key holds the caller's role, not the caller: two operators of one role get the same
answer (the bodies hold no per-operator field), and a role change reaches the cached
account at once (barong.authz.account_cache), so the next request looks under the new role.

What the key does not capture is not cached: a body with personal data (`pii=True`) only for
roles that always read it (`read PersonalData`: a role with reveals depends on each reveal's
expiry), and views pass `when=` to skip parameters whose answer moves with the clock (the
KYC queue's `waiting_hours` and `reviewer` claims).
"""
from __future__ import annotations

import functools
import threading
import time

from flask import current_app, g, has_request_context, request
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.pool import Pool
from sqlalchemy.sql.dml import UpdateBase
from sqlalchemy.sql.elements import TextClause

from barong.authz.process_cache import bump, generation, invalidate
from barong.services.infra import caches

#: seconds an entry may be served without re-reading (the bound for other hosts without Redis)
TTL = 2.0
USERS = "admin_users"
ACTIVITIES = "admin_activities"
RBAC = "admin_rbac"
#: channel → the tables its bodies are built from
GROUPS = {
    USERS: frozenset({"users", "labels", "phones", "profiles", "data_storages", "documents", "comments", "apikeys"}),
    ACTIVITIES: frozenset({"activities"}),
    RBAC: frozenset({"levels", "permissions", "restrictions"}),
}
_BY_TABLE = {table: channel for channel, tables in GROUPS.items() for table in tables}
_DIRTY = "barong_admin_bodies_dirty"
_DML = ("INSERT", "UPDATE", "DELETE", "REPLACE", "WITH")

_entries: dict = {}  # key → ((status, headers, body), generations of its groups, monotonic time)
_lock = threading.Lock()
#: the bodies kept per process, in bytes: every distinct query string (a console search, a
#: page) is an entry, and a worker must stay well under its memory budget (< 150 MB RSS)
MAX_BYTES = 8 * 1024 * 1024
_size = [0]


def _stamp(groups: tuple) -> tuple:
    return tuple(generation(channel) for channel in groups)


def _key(groups: tuple, role) -> tuple:
    config = current_app.config
    return (config["SQLALCHEMY_DATABASE_URI"], groups, request.path, request.query_string, role,
            bool(config.get("BARONG_API_DATA_MASKING", True)), config.get("BARONG_DOMAIN"))


def cached(*groups: str, pii: bool = False, when=None):
    """Serve the view's 200 answer from the cache while no table of `groups` changed.
    `pii`: the body holds personal data (masked per caller): cached only for roles that read it
    unmasked. `when(p)`: False skips the cache for these parameters. Put it innermost, below
    `@ability` (refusals and parameter errors are never cached)."""
    from barong.services.operators import pii as pii_rules

    def decorator(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            caller = g.current_user
            if (pii and not pii_rules.always_sees(caller)) or (when is not None and not when(*args)):
                return view(*args, **kwargs)
            key = _key(groups, getattr(caller, "role", None))
            stamp = _stamp(groups)  # read before building: a change during the build is not hidden
            hit = _entries.get(key)
            if hit is not None and hit[1] == stamp and time.monotonic() - hit[2] < TTL:
                status, headers, body = hit[0]
                return current_app.response_class(body, status=status, headers=headers)
            response = current_app.make_response(view(*args, **kwargs))
            if response.status_code == 200 and not response.is_streamed:
                body = response.get_data()
                value = (response.status_code, list(response.headers.items()), body)
                with _lock:
                    old = _entries.get(key)
                    _size[0] += len(body) - (len(old[0][2]) if old is not None else 0)
                    if _size[0] > MAX_BYTES:  # crude but bounded: start again
                        _entries.clear()
                        _size[0] = len(body)
                    _entries[key] = (value, stamp, time.monotonic())
            return response

        return wrapper

    return decorator


def _channels_of(statement) -> tuple:
    if isinstance(statement, UpdateBase):
        name = getattr(getattr(statement, "table", None), "name", None)
        if name is None:
            return tuple(GROUPS)
        channel = _BY_TABLE.get(name)
        return (channel,) if channel else ()
    if isinstance(statement, TextClause) and statement.text.lstrip()[:7].upper().startswith(_DML):
        return tuple(GROUPS)
    return ()


@event.listens_for(Engine, "after_execute")
def _watch(conn, statement, *_args) -> None:
    """A write to a watched table: bump its group's channel (once per request; the channel is
    bumped again after the request's commit, so a worker that rebuilt in between drops it)."""
    channels = _channels_of(statement)
    if not channels:
        return
    # bumped again once the connection is back in the pool, after its commit (a write on a
    # connection of its own inside a request commits apart from the request's unit of work)
    conn.info.setdefault(_DIRTY, set()).update(channels)
    if not has_request_context():
        for channel in channels:
            bump(channel)
        return
    done = g.setdefault("_admin_bodies_dirty", set())
    for channel in channels:
        if channel not in done:
            done.add(channel)
            invalidate(channel)


@event.listens_for(Pool, "checkin")
def _after_transaction(_dbapi_connection, record) -> None:
    """A connection that wrote a watched table is back in the pool, so its transaction is over:
    bump again. Outside a request (a write after the response, a CLI, a background worker)
    this is the only bump after the commit."""
    channels = record.info.pop(_DIRTY, None) if record is not None else None
    for channel in channels or ():
        bump(channel)


@caches.register
def clear() -> None:
    with _lock:
        _entries.clear()
        _size[0] = 0
    for channel in GROUPS:
        bump(channel)
