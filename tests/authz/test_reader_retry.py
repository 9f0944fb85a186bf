"""barong.authz.reader.Reader: a connection the database dropped is replaced and the read tried
once more; a statement that fails on a fresh connection too is raised, not retried forever."""
from __future__ import annotations

import sqlite3

import pytest
from sqlalchemy import bindparam, column, select, table, text

from barong.authz.reader import Reader

things = table("things", column("id"), column("name"))
BY_ID = select(things.c.name).where(things.c.id == bindparam("id"))
ALL = select(things.c.id, things.c.name).order_by(things.c.id)


@pytest.fixture
def reader(tmp_path):
    path = tmp_path / "r.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE things (id INTEGER PRIMARY KEY, name TEXT)")
        conn.executemany("INSERT INTO things VALUES (?, ?)", [(1, "a"), (2, "b")])
    return Reader(f"sqlite:///{path}")


@pytest.mark.parametrize("read, expected", [
    (lambda r: r.first(BY_ID, {"id": 1}), ("a",)),
    (lambda r: r.all(ALL, {}), [(1, "a"), (2, "b")]),
])
def test_a_dropped_connection_is_replaced(reader, read, expected):
    assert read(reader) == expected
    reader._local.conn.dbapi_connection.close()  # the database went away under the kept connection
    assert read(reader) == expected
    assert reader._local.conn.dbapi_connection is not None


def test_a_failing_statement_is_raised_after_one_retry(reader, monkeypatch):
    calls = []
    original = reader._connection

    def counting():
        calls.append(1)
        return original()

    monkeypatch.setattr(reader, "_connection", counting)
    with pytest.raises(sqlite3.OperationalError):
        reader.first(select(text("name")).select_from(table("missing")), {})
    assert len(calls) == 2
