"""Shared fixtures: one app and schema per test session; every test starts from the
seeded state (tables emptied and re-seeded), on SQLite or on TEST_DATABASE_URL."""
from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from barong import create_app
from barong.config import test_config
from barong.extensions import db
from barong.services import seeding
from barong.services.accounts import labels, users
from barong.services.infra import caches, unit_of_work
from tests.helpers import DEFAULT_PASSWORD, UA, login_as, mails


def _worker_database_url() -> str | None:
    """TEST_DATABASE_URL, with one database per pytest-xdist worker (created when missing)."""
    url = os.environ.get("TEST_DATABASE_URL")
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not url or not worker or not url.startswith("postgresql"):
        return url
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    base = make_url(url)
    name = f"{base.database}_{worker}"
    admin = create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if not conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).first():
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def _app(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("instance")
    overrides = {}
    url = _worker_database_url()
    if url:
        overrides["SQLALCHEMY_DATABASE_URI"] = url
    app = create_app(test_config(tmp, **overrides))
    with app.app_context():
        db.drop_all()
        db.create_all()
    yield app
    with app.app_context():
        db.session.remove()
        if db.engine.dialect.name != "sqlite":
            db.drop_all()


SEED_TABLES = ("levels", "permissions", "restrictions")
_seed_snapshot: dict = {}


def _wipe():
    # DELETE beats TRUNCATE on tiny tables (PostgreSQL's TRUNCATE rewrites files: ~20 ms a table).
    for t in reversed(db.metadata.sorted_tables):
        db.session.execute(text(f'DELETE FROM "{t.name}"'))
    db.session.commit()


def _reseed():
    """Restore the seeded rows: seed once per session, then bulk re-insert a snapshot (fast)."""
    if not _seed_snapshot:
        seeding.seed()
        db.session.commit()
        for name in SEED_TABLES:
            table = db.metadata.tables[name]
            _seed_snapshot[name] = [dict(r._mapping) for r in db.session.execute(table.select())]
        return
    for name in SEED_TABLES:
        rows = _seed_snapshot[name]
        if rows:
            db.session.execute(db.metadata.tables[name].insert(), rows)
        if db.engine.dialect.name == "postgresql" and name != "levels":
            db.session.execute(text(f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                                    f"(SELECT COALESCE(MAX(id), 0) + 1 FROM {name}), false)"))
    db.session.commit()


@pytest.fixture
def app(_app):
    """The app, with a clean seeded database and default config restored afterwards."""
    saved = dict(_app.config)
    with _app.app_context():
        _wipe()
        _reseed()
        caches.clear_all()
    _app.extensions.pop("barong_after_commit", None)
    from barong.services.access import rate_limits

    rate_limits.reset()  # counters of a test that switched limits on must not reach the next one
    ctx = _app.app_context()
    ctx.push()
    yield _app
    db.session.rollback()
    db.session.remove()
    ctx.pop()
    _app.config.clear()
    _app.config.update(saved)
    with _app.app_context():
        caches.clear_all()


@pytest.fixture
def client(app):
    c = app.test_client()
    c.environ_base["HTTP_USER_AGENT"] = UA
    return c


@pytest.fixture
def make_user(app):
    """make_user(email=None, password=DEFAULT_PASSWORD, state="active", role="member", otp=False, labels={})"""
    counter = {"n": 0}

    def factory(email=None, password=DEFAULT_PASSWORD, state="active", role="member", otp=False,
                private_labels=None, **extra):
        counter["n"] += 1
        email = email or f"user{counter['n']}-{time.time_ns()}@example.com"
        user = users.create(email, password, role=role, **extra)
        for key, value in (private_labels or ({"email": "verified"} if state == "active" else {})).items():
            labels.add(user, key, value, scope="private")
        if user.state != state:
            users.apply_state(user, state)
        if otp:
            import pyotp

            from barong.security.crypto import encrypt

            user.otp_secret_encrypted = encrypt(pyotp.random_base32())
            user.otp = True
        unit_of_work.commit()
        return user

    return factory


@pytest.fixture
def login():
    return login_as


@pytest.fixture
def mailbox(app):
    """Mails sent during this test: `mailbox(to=None)` returns parsed messages (oldest first)."""
    folder = Path(app.config["BARONG_INSTANCE_PATH"]) / "mail"
    if folder.exists():
        for p in folder.glob("*.eml"):
            p.unlink()
    return lambda to=None: [m for m in mails(app) if to is None or m["To"] == to]
