"""unit_of_work.savepoint: the block's writes are undone by an exception, the work before
it stays, and the request's rollback still undoes everything (on SQLite too: the SAVEPOINT's
RELEASE must not commit). And no service reaches for unit_of_work's private helpers."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

from barong.extensions import db
from barong.models import Label
from barong.services.accounts import labels
from barong.services.infra.unit_of_work import savepoint


def _keys(user) -> set[str]:
    return {k for (k,) in db.session.query(Label.key).filter_by(user_id=user.id)}


def test_an_exception_undoes_only_the_block(app, make_user):
    user = make_user()
    labels.add(user, "before", "yes", scope="private")
    with pytest.raises(RuntimeError):
        with savepoint():
            labels.add(user, "inside", "yes", scope="private")
            raise RuntimeError("refused")
    with savepoint():
        labels.add(user, "kept", "yes", scope="private")
    assert {"before", "kept"} <= _keys(user) and "inside" not in _keys(user)


def test_the_outer_rollback_still_undoes_the_released_savepoint(app, make_user):
    user = make_user()
    with app.test_request_context("/"):
        with savepoint():
            labels.add(user, "released", "yes", scope="private")
        db.session.rollback()
    db.session.expire_all()
    assert "released" not in _keys(user)


def test_no_service_imports_private_unit_of_work_names():
    root = Path(__file__).resolve().parents[2] / "barong"
    bad = []
    for path in root.rglob("*.py"):
        if path.name == "unit_of_work.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").endswith("unit_of_work"):
                bad += [f"{path.relative_to(root)}: {a.name}" for a in node.names if a.name.startswith("_")]
            elif isinstance(node, ast.Attribute) and node.attr.startswith("_begin") and \
                    getattr(node.value, "id", None) == "unit_of_work":
                bad.append(f"{path.relative_to(root)}: unit_of_work.{node.attr}")
    assert bad == []
