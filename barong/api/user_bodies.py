"""The `GET resource/users/me` body, and the resource lists built from the same rows,
cached per worker (issue 18).

Every front end asks for users/me on every page. Building it took five ORM queries (the
user, then its labels, phones, profiles and data storages, lazily) and a Fernet
decryption per encrypted field: about four times the whole gateway check. The body is
the same until one of those rows changes, so it is kept per process, keyed by
(database, user id, masking flag), as the JSON-ready dict `entities.user_full` built.

An entry is served only while (barong.authz.process_cache, channel "entities"):

* nothing changed a row of `users`, `labels`, `phones`, `profiles` or `data_storages`:
  an ORM flush that adds, changes or deletes one, or an UPDATE/DELETE/INSERT statement
  run through the session on one of those tables (`update(Label)…`, `query.delete()`),
  invalidates the channel in this process at once, in the other workers of the host from
  their next lookup (the generation file), again after the commit, and on other hosts
  through the Redis counter when BARONG_REDIS_URL is set;
* it is younger than TTL seconds (other hosts without Redis).

Any change of any user drops every user's entry: writes are rare next to reads, and a
coarse rule cannot miss a case.

`resource_body` keeps the other resource GETs whose bodies come only from those tables
(plus `documents` and `service_accounts`, watched the same way) under the same rules:
labels, phones, profiles/me, documents (the review text's language is the user's `data`),
service_accounts. Lists of rows written on the request path (activities, API keys'
last use, sessions' sliding expiry) are not cached here.
"""
from __future__ import annotations

from sqlalchemy import event
from sqlalchemy.orm import Session

from barong import flaskctx
from barong.authz.process_cache import ENTITIES, ProcessCache, invalidate

#: seconds an entry may be served without re-reading (the bound for other hosts without Redis)
TTL = 2.0
#: the tables the body is built from
TABLES = frozenset({"users", "labels", "phones", "profiles", "data_storages", "documents", "service_accounts"})

_bodies = ProcessCache("user_bodies", ttl=TTL, channel=ENTITIES, max_entries=20000)


def user_full(account_id: int, build) -> dict:
    """The users/me body of the user `account_id`: cached, or `build()` (then kept)."""
    config = flaskctx.app().config
    key = (config["SQLALCHEMY_DATABASE_URI"], account_id, bool(config.get("BARONG_API_DATA_MASKING", True)))
    return _bodies.get(key, build)


def resource_body(kind: str, account_id: int, build, *variant):
    """The JSON-ready body of the resource GET `kind` (with `variant`: its parameters and any
    config it shows) for the user `account_id`: cached, or `build()` (then kept)."""
    config = flaskctx.app().config
    key = (config["SQLALCHEMY_DATABASE_URI"], kind, account_id, bool(config.get("BARONG_API_DATA_MASKING", True)),
           *variant)
    return _bodies.get(key, build)


def _touches(obj) -> bool:
    table = getattr(obj, "__tablename__", None)
    return table in TABLES


@event.listens_for(Session, "after_flush")
def _watch_flush(session, _flush_context) -> None:
    for obj in (*session.new, *session.dirty, *session.deleted):
        if _touches(obj):
            invalidate(ENTITIES)
            return


@event.listens_for(Session, "do_orm_execute")
def _watch_statements(state) -> None:
    if not (state.is_update or state.is_delete or state.is_insert):
        return
    table = getattr(state.statement, "table", None)
    if getattr(table, "name", None) in TABLES:
        invalidate(ENTITIES)
