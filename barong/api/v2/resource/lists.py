"""The resource lists whose rows change on the request path — API keys (`last_used_at`),
activities (every login), sessions (the sliding expiry) — read without the ORM (issue 18).

They cannot be cached like the users/me body (barong.api.user_bodies) without a write on
every request, so they are made cheap instead: the caller comes from the cached Account (no
ORM load of the user), the rows from pre-built Core selects run on the authz reader's
autocommit connection (barong.authz.reader.all_rows: what the request's session would see;
through the session itself when the request has used it), and the COUNT of a paginated list
is skipped when the page shows the total (a short page that is not empty, or an empty first
page). Each row is a named tuple with the attributes the entity functions read, so the
bodies are the ORM path's byte for byte (tests/api/test_resource_get_snapshots.py).
"""
from __future__ import annotations

import time
from collections import namedtuple
from datetime import datetime, timezone

from sqlalchemy import bindparam, func, select

from barong.api.pagination import total_shown
from barong.authz.reader import all_rows
from barong.models import Activity, APIKey, SessionRecord

_keys = APIKey.__table__
_activities = Activity.__table__
_sessions = SessionRecord.__table__

_KEY_COLS = ("id", "kid", "algorithm", "scope", "state", "created_at", "updated_at", "allowed_ips", "expires_at",
             "last_used_at", "last_used_ip")


class KeyRow(namedtuple("KeyRow", [("scope_json" if c == "scope" else c) for c in _KEY_COLS])):
    __slots__ = ()
    scope = APIKey.scope  # the model's parsing of the stored JSON list


_ACTIVITY_COLS = ("id", "user_ip", "user_ip_country", "user_agent", "topic", "action", "result", "data",
                  "created_at")
ActivityRow = namedtuple("ActivityRow", _ACTIVITY_COLS)
_SESSION_COLS = ("id", "uid", "user_ip", "user_agent", "csrf_token", "expire_time", "created_at", "last_seen_at",
                 "auth_time", "amr")
SessionRow = namedtuple("SessionRow", _SESSION_COLS)

_PAGE = {"lim": bindparam("lim"), "off": bindparam("off")}
_statements: dict = {}


def _page(key, build, params: dict, page: int, limit: int):
    """(rows, total) of the page: `build()` gives (select, count) for `key`, built once."""
    stmts = _statements.get(key)
    if stmts is None:
        select_stmt, count_stmt = build()
        stmts = _statements[key] = (select_stmt.limit(_PAGE["lim"]).offset(_PAGE["off"]), count_stmt)
    rows = all_rows(stmts[0], **params, lim=limit, off=(page - 1) * limit)
    total = total_shown(len(rows), page, limit)
    return rows, all_rows(stmts[1], **params)[0][0] if total is None else total


def api_keys(holder_type: str, holder_id: int, order_by: str, ordering: str, page: int, limit: int):
    """The holder's keys as barong.services.accounts.api_keys.query_for orders them: (KeyRow list, total)."""
    def build():
        where = (_keys.c.key_holder_account_type == bindparam("holder_type"),
                 _keys.c.key_holder_account_id == bindparam("holder_id"))
        column = _keys.c[order_by]
        stmt = (select(*(_keys.c[c] for c in _KEY_COLS)).where(*where)
                .order_by(column.desc() if ordering == "desc" else column.asc(), _keys.c.id.asc()))
        return stmt, select(func.count()).select_from(_keys).where(*where)

    rows, total = _page(("api_keys", order_by, ordering), build,
                        {"holder_type": holder_type, "holder_id": holder_id}, page, limit)
    return [KeyRow(*r) for r in rows], total


def _utc(seconds) -> datetime:
    return datetime.fromtimestamp(int(seconds), timezone.utc).replace(tzinfo=None)


def activities(user_id: int, topic: str, filters: dict, page: int, limit: int):
    """The user's activities as barong.services.accounts.account.activity selects them (newest
    first; `topic` already checked): (ActivityRow list, total)."""
    params = {"user_id": user_id}
    if topic != "all":
        params["topic"] = topic
    if filters.get("time_from") is not None:
        params["time_from"] = _utc(filters["time_from"])
    if filters.get("time_to") is not None:
        params["time_to"] = _utc(filters["time_to"])
    if filters.get("result"):
        params["result"] = filters["result"]
    key = ("activities", *sorted(params))

    def build():
        c = _activities.c
        where = [c.user_id == bindparam("user_id")]
        if "topic" in params:
            where.append(c.topic == bindparam("topic"))
        if "time_from" in params:
            where.append(c.created_at >= bindparam("time_from", type_=c.created_at.type))
        if "time_to" in params:
            where.append(c.created_at < bindparam("time_to", type_=c.created_at.type))
        if "result" in params:
            where.append(c.result == bindparam("result"))
        stmt = select(*(c[n] for n in _ACTIVITY_COLS)).where(*where).order_by(c.id.desc())
        return stmt, select(func.count()).select_from(_activities).where(*where)

    rows, total = _page(key, build, params, page, limit)
    return [ActivityRow(*r) for r in rows], total


_SESSIONS_OF = (select(*(_sessions.c[c] for c in _SESSION_COLS))
                .where(_sessions.c.uid == bindparam("uid"), _sessions.c.expire_time > bindparam("now"))
                .order_by(_sessions.c.created_at))


def sessions_of(uid: str):
    """The user's live sessions as barong.services.accounts.sessions.list_for_user gives them."""
    from barong.services.accounts import sessions

    store = sessions.store()
    if not isinstance(store, sessions.DatabaseStore):
        return store.list_for_user(uid)
    rows = all_rows(_SESSIONS_OF, uid=uid, now=int(time.time()))
    return [store._data(SessionRow(*r)) for r in rows]
