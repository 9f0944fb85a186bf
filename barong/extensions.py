"""Bare extension instances; `create_app` binds them to the app."""
import sqlite3

from flask_babel import Babel
from flask_limiter import Limiter
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase

from barong.security.client_ip import remote_ip

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
csrf = CSRFProtect()
login_manager = LoginManager()
babel = Babel()
limiter = Limiter(key_func=remote_ip, default_limits=[], headers_enabled=True)


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, _record):
    """SQLite (the embedded default): write-ahead log, so readers never block the writer
    (several gunicorn workers) and a commit costs an append, not an fsync of the whole
    journal; `synchronous=NORMAL` is durable against a process crash (a power cut may
    lose the last transactions); wait for a busy lock instead of failing at once."""
    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=5000")
        cursor.close()


@event.listens_for(Engine, "handle_error")
def _no_values_in_db_errors(context):
    """A database error's text reaches log lines (tracebacks): PostgreSQL's DETAIL repeats the
    offending values (`Key (email_lower)=(a@b.c) already exists`), so the DBAPI error keeps
    its primary message only (its `diag` still has everything for code that inspects it).
    The statement's parameters are hidden by the engines' `hide_parameters=True`."""
    orig = context.original_exception
    diag = getattr(orig, "diag", None)
    if diag is None or not getattr(diag, "message_detail", None):
        return
    primary = diag.message_primary or type(orig).__name__
    orig.args = (primary,)
    wrapped = context.sqlalchemy_exception
    if wrapped is not None and wrapped.args:
        wrapped.args = (f"({type(orig).__module__}.{type(orig).__name__}) {primary}",) + tuple(wrapped.args[1:])
