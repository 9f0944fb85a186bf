"""MIGRATIONS MATCH THE MODELS: `flask db upgrade` on a fresh SQLite file must produce the
schema the models declare (alembic's autogenerate comparison finds no difference).

If this fails, the models changed after the last migration: regenerate it
(`flask db migrate`), do not edit the test."""
from __future__ import annotations

import subprocess
import sys

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine

from barong.config import ROOT
from barong.extensions import db


def _upgrade(url: str) -> subprocess.CompletedProcess:
    env = {"PATH": "/usr/bin:/bin", "DATABASE_URL": url, "BARONG_RATELIMIT_ENABLED": "false"}
    return subprocess.run([sys.executable, "-m", "flask", "--app", str(ROOT / "app.py"), "db", "upgrade"],
                          cwd=str(ROOT), env=env, capture_output=True, text=True, timeout=180)


def _diffs(url: str) -> list:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            ctx = MigrationContext.configure(conn, opts={"compare_type": True, "compare_server_default": False})
            return compare_metadata(ctx, db.metadata)
    finally:
        engine.dispose()


@pytest.mark.migrations
def test_flask_db_upgrade_matches_the_models(tmp_path, app):
    url = f"sqlite:///{tmp_path / 'migrated.db'}"
    result = _upgrade(url)
    assert result.returncode == 0, result.stderr[-2000:]
    diffs = _diffs(url)
    assert diffs == [], "\n".join(map(str, diffs[:40]))


@pytest.mark.migrations
def test_flask_db_upgrade_runs_on_a_fresh_file(tmp_path):
    result = _upgrade(f"sqlite:///{tmp_path / 'fresh.db'}")
    assert result.returncode == 0, result.stderr[-2000:]
