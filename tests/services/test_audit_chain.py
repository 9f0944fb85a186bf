"""The tamper-evident activity log (barong.services.audit.chain, `flask audit verify`):
any edit, insertion or deletion of a stored activity is found and named; concurrent
writers never break a chain."""
from __future__ import annotations

import os
import threading

import pytest
from sqlalchemy import text

from barong.extensions import db
from barong.models import Activity, AuditChainHead, AuditVerification
from barong.services.audit import activities, chain
from barong.services.infra import unit_of_work
from barong.services.infra.request_info import RequestInfo

INFO = RequestInfo(ip="198.51.100.7", user_agent="Mozilla/5.0 test")


def _write(user, n, topic="session", action="login"):
    ids = []
    for i in range(n):
        ids.append(activities.record(user, topic, f"{action}{i}", "succeed", info=INFO, data={"i": i}).id)
    unit_of_work.commit()
    return ids


def _cli(app, *args):
    return app.test_cli_runner().invoke(args=["audit", *args])


@pytest.fixture
def written(app, make_user):
    alice, bob = make_user(), make_user()
    a_ids = _write(alice, 4)
    b_ids = _write(bob, 3)
    admin = make_user(role="admin")
    activities.record_admin(admin, "users", "update", "succeed", info=INFO, target_uid=alice.uid,
                            data={"state": "banned"})
    unit_of_work.commit()
    return alice, bob, a_ids, b_ids


def test_each_actor_has_a_contiguous_linked_chain(app, written):
    alice, bob, a_ids, _ = written
    rows = db.session.query(Activity).filter_by(user_id=alice.id).order_by(Activity.chain_seq).all()
    assert [r.chain_seq for r in rows] == list(range(1, len(rows) + 1))
    assert rows[0].prev_hash == chain.GENESIS
    for prev, row in zip(rows, rows[1:]):
        assert row.prev_hash == prev.row_hash
        assert row.row_hash == chain.link_hash(row)
    head = db.session.get(AuditChainHead, str(alice.id))
    assert (head.seq, head.last_hash) == (rows[-1].chain_seq, rows[-1].row_hash)


def test_verify_passes_and_is_recorded(app, written):
    total = db.session.query(Activity).count()
    result = _cli(app, "verify")
    assert result.exit_code == 0, result.output
    assert f"ok: {total} activities" in result.output
    last = chain.last_verification()
    assert last.ok is True and last.rows == total and last.first_broken_id is None


@pytest.mark.parametrize("column, value", [("action", "logout"), ("user_ip", "203.0.113.9"),
                                           ("data", '{"i": 99}'), ("result", "failed"),
                                           ("created_at", "2020-01-01 00:00:00")])
def test_an_edited_row_is_named(app, written, column, value):
    _, _, a_ids, _ = written
    victim = a_ids[2]
    db.session.execute(text(f"UPDATE activities SET {column} = :v WHERE id = :id"), {"v": value, "id": victim})
    db.session.commit()
    result = _cli(app, "verify")
    assert result.exit_code == 1
    assert f"first broken row: activity #{victim}" in result.output
    assert "edited" in result.output
    last = chain.last_verification()
    assert last.ok is False and last.first_broken_id == victim


def test_a_deleted_row_is_named_by_its_successor(app, written):
    _, _, a_ids, _ = written
    db.session.execute(text("DELETE FROM activities WHERE id = :id"), {"id": a_ids[1]})
    db.session.commit()
    result = _cli(app, "verify")
    assert result.exit_code == 1
    assert f"activity #{a_ids[2]}" in result.output and "missing" in result.output


def test_a_deleted_last_row_is_found_through_the_head(app, written):
    _, bob, _, b_ids = written
    db.session.execute(text("DELETE FROM activities WHERE id = :id"), {"id": b_ids[-1]})
    db.session.commit()
    result = _cli(app, "verify")
    assert result.exit_code == 1
    assert f"rows after activity #{b_ids[-2]} are missing" in result.output


def test_a_row_inserted_outside_the_log_is_named(app, written):
    alice, _, _, _ = written
    db.session.execute(text(
        "INSERT INTO activities (user_id, category, user_ip, user_agent, topic, action, result, created_at) "
        "VALUES (:u, 'user', '1.2.3.4', 'x', 'session', 'login', 'succeed', '2026-01-01 00:00:00')"),
        {"u": alice.id})
    db.session.commit()
    forged = db.session.query(Activity.id).order_by(Activity.id.desc()).limit(1).scalar()
    result = _cli(app, "verify")
    assert result.exit_code == 1
    assert f"activity #{forged} is not in the chain" in result.output


def test_a_rewritten_chain_is_caught_by_the_head_seal(app, written):
    """An attacker who edits a row and recomputes every SHA-256 after it (no secret needed)
    still cannot produce the head's seal."""
    alice, _, a_ids, _ = written
    rows = db.session.query(Activity).filter_by(user_id=alice.id).order_by(Activity.chain_seq).all()
    rows[1].action = "forged"
    prev = rows[0].row_hash
    for row in rows[1:]:
        row.prev_hash = prev
        row.row_hash = chain.link_hash(row)
        prev = row.row_hash
    head = db.session.get(AuditChainHead, str(alice.id))
    head.last_hash = prev
    db.session.commit()
    result = _cli(app, "verify")
    assert result.exit_code == 1
    assert "seal is wrong" in result.output


def test_a_deleted_chain_with_its_head_is_caught_by_the_last_verification(app, written):
    _, bob, _, _ = written
    assert _cli(app, "verify").exit_code == 0
    db.session.execute(text("DELETE FROM activities WHERE user_id = :u"), {"u": bob.id})
    db.session.execute(text("DELETE FROM audit_chain_heads WHERE chain_key = :k"), {"k": str(bob.id)})
    db.session.commit()
    result = _cli(app, "verify")
    assert result.exit_code == 1
    assert "chain head(s) deleted" in result.output


def test_a_rolled_back_request_leaves_no_link(app, make_user):
    user = make_user()
    _write(user, 2)
    activities.record(user, "session", "login", "failed", info=INFO)
    db.session.rollback()
    _write(user, 1)
    assert _cli(app, "verify").exit_code == 0
    assert db.session.get(AuditChainHead, str(user.id)).seq == 3


def test_verification_rows_are_listed_newest_first(app, written):
    _cli(app, "verify")
    db.session.execute(text("UPDATE activities SET topic = 'x' WHERE id = :id"), {"id": written[2][0]})
    db.session.commit()
    _cli(app, "verify")
    assert [v.ok for v in db.session.query(AuditVerification).order_by(AuditVerification.id)] == [True, False]
    assert chain.last_verification().ok is False


@pytest.mark.skipif("postgresql" not in os.environ.get("TEST_DATABASE_URL", ""),
                    reason="concurrent transactions need PostgreSQL")
def test_parallel_writers_never_break_the_chain(app, make_user):
    """Eight threads, each its own session and transaction, write for two shared actors and
    their own: the chains stay contiguous and verify."""
    shared = [make_user(), make_user()]
    own = [make_user() for _ in range(8)]
    shared_ids = [u.id for u in shared]
    own_ids = [u.id for u in own]
    errors = []
    barrier = threading.Barrier(8)

    def worker(n):
        from barong.models import User
        try:
            with app.app_context():
                barrier.wait()
                for i in range(10):
                    actor = db.session.get(User, shared_ids[i % 2] if i % 3 else own_ids[n])
                    activities.record(actor, "session", f"t{n}-{i}", "succeed", info=INFO)
                    unit_of_work.commit()
                db.session.remove()
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(repr(exc))

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    db.session.expire_all()
    for uid in shared_ids + own_ids:
        seqs = [s for (s,) in db.session.query(Activity.chain_seq).filter_by(user_id=uid).order_by(Activity.chain_seq)]
        assert seqs == list(range(1, len(seqs) + 1))
    assert db.session.query(Activity).count() == 80
    result = chain.verify(record=False)
    assert result.ok, result.problem
