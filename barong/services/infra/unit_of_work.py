"""One commit per request; work that must wait for the commit (mail, in-process
event consumers) is queued with `after_commit` and run only once it succeeded.

A response with status >= 400 rolls the transaction back, so a failing request
changes no row ("nothing half-written").
"""
from __future__ import annotations

import logging
import sqlite3
from contextlib import contextmanager

from flask import Flask, g, has_request_context
from sqlalchemy.exc import IntegrityError

from barong import flaskctx
from barong.extensions import db

log = logging.getLogger(__name__)


def after_commit(fn, *args, **kwargs) -> None:
    """Run `fn` after the current unit of work commits (immediately-after outside a request)."""
    if has_request_context():
        g.setdefault("_after_commit", []).append((fn, args, kwargs))
    else:
        from flask import current_app

        current_app.extensions.setdefault("barong_after_commit", []).append((fn, args, kwargs))


def durable(fn, *args, **kwargs) -> None:
    """Run `fn` in this request's transaction if it commits, or in a fresh one after a
    rollback: for records that must survive a refusal (failed-login activity, lockout
    counters). Outside a request it runs at once."""
    if has_request_context():
        g.setdefault("_durable", []).append((fn, args, kwargs))
    else:
        fn(*args, **kwargs)


def _session_used() -> bool:
    """Whether this context has an ORM session: `db.session.registry.has()`, answered at once
    while no context of the process has one (the registry's dict is empty)."""
    registry = db.session.registry
    sessions = getattr(registry, "registry", None)
    if isinstance(sessions, dict) and not sessions:
        return False
    return registry.has()


def _run_durable(after_rollback: bool) -> None:
    work = flaskctx.g().pop("_durable", [])
    if not work:
        return
    for fn, args, kwargs in work:
        fn(*args, **kwargs)
    if after_rollback:
        try:
            db.session.commit()
        except Exception:
            db.session.rollback()
            log.exception("could not persist records of a refused request")


def violated_unique(exc: Exception) -> set[str]:
    """What a unique violation names: PostgreSQL's constraint name, SQLite's `table.column`s
    (from "UNIQUE constraint failed: users.email_lower, …"); empty for anything else."""
    if not isinstance(exc, IntegrityError):
        return set()
    orig = exc.orig
    diag = getattr(orig, "diag", None)
    if diag is not None:
        if getattr(orig, "sqlstate", None) != "23505":
            return set()
        return {diag.constraint_name} if diag.constraint_name else set()
    text = str(orig.args[0] if getattr(orig, "args", None) else orig)
    prefix = "UNIQUE constraint failed: "
    if not text.startswith(prefix):
        return set()
    return {part.strip() for part in text[len(prefix):].split(",")}


def _begin_sqlite(session) -> None:
    """pysqlite opens a transaction only before a DML statement: a SAVEPOINT sent first would
    start one itself, and its RELEASE would COMMIT it — past the request's rollback. Open
    the real transaction first (deferred: the coming insert takes the write lock)."""
    conn = session.connection()
    dbapi = conn.connection.dbapi_connection
    if isinstance(dbapi, sqlite3.Connection) and not dbapi.in_transaction:
        conn.exec_driver_sql("BEGIN")


@contextmanager
def savepoint(session=None):
    """A SAVEPOINT inside the current transaction: an exception leaving the block undoes only
    the block's writes (and propagates); the transaction and the work before it stay usable.
    Pending work is flushed first, so it is not part of the savepoint. On SQLite the real
    transaction is opened before the SAVEPOINT (see `_begin_sqlite`), or its RELEASE would
    commit past the request's rollback."""
    session = session or db.session
    session.flush()
    _begin_sqlite(session)
    with session.begin_nested():
        yield session


def add_unique(obj, errors: dict) -> None:
    """Insert `obj` inside a SAVEPOINT; a unique violation of one of `errors`' keys
    (constraint names and/or SQLite `table.column`s) undoes only that insert and raises the
    mapped BarongError (a value, or a callable making one); any other violation re-raises.
    For checks a concurrent request can pass at the same moment (signup email, label key,
    data-storage title): the service's check gives the answer, the unique index makes it
    hold under races. The rest of the transaction stays usable (a caller that swallows
    the error — a best-effort label — keeps its own work), and the request still rolls
    back as a whole when the error reaches the response."""
    try:
        with savepoint() as session:  # earlier pending work stays outside the savepoint
            session.add(obj)
            session.flush()
    except IntegrityError as exc:
        hit = violated_unique(exc)
        for name, error in errors.items():
            if name in hit:
                raise (error() if callable(error) else error) from None
        raise


def run_after_commit_hooks(hooks) -> None:
    for fn, args, kwargs in hooks:
        try:
            fn(*args, **kwargs)
        except Exception:  # a failing hook (SMTP down) must not fail the committed request
            log.exception("after-commit hook %s failed", getattr(fn, "__name__", fn))


def commit() -> None:
    """Commit now and run queued hooks (CLI commands and scripts)."""
    db.session.commit()
    from flask import current_app

    hooks = current_app.extensions.pop("barong_after_commit", [])
    if has_request_context():
        hooks += g.pop("_after_commit", [])
    run_after_commit_hooks(hooks)


def init_app(app: Flask) -> None:
    @app.after_request
    def _commit_or_rollback(response):
        # A request that never touched the ORM session (ping, the gateway check: it reads
        # through barong.authz.reader's own connection) has none in the registry: creating
        # one only to find it empty (and closing it at teardown) cost ~60 µs per request.
        used = _session_used()
        if response.status_code >= 400:
            if used:
                db.session.rollback()
            g.pop("_after_commit", None)
            _run_durable(after_rollback=True)
            return response
        try:
            _run_durable(after_rollback=False)
            if not used and not _session_used():  # a durable() job may have used it
                return response
            session = db.session()  # the scoped_session registry → this request's Session
            # A request that never used the ORM session (the gateway check reads through
            # barong.authz.reader's own connection) has nothing to commit: an empty commit
            # would still begin and end a transaction (~90 µs on the hot path). A request
            # that only read through the session still commits, ending its transaction.
            if session.in_transaction() or session.new or session.dirty or session.deleted:
                session.commit()
        except Exception:
            db.session.rollback()
            g.pop("_after_commit", None)
            raise
        return response

    @app.teardown_request
    def _run_hooks(exc):
        hooks = flaskctx.g().pop("_after_commit", [])  # every request passes here: no LocalProxy
        if exc is None and hooks:
            run_after_commit_hooks(hooks)
