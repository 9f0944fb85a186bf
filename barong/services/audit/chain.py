"""Tamper-evident activity log: every activity row (user and admin) is a link in its
actor's hash chain.

A row's `row_hash` is SHA-256 over the canonical JSON (sorted keys, no spaces, UTF-8) of
its content, its `chain_seq` and the previous link's hash (`prev_hash`); the chain's last
link is kept in `audit_chain_heads`. So an edit changes a row's hash, a deletion leaves a
gap in the sequence (or a head ahead of the last row), and an insertion has no valid
place (no sequence, a taken one, or a wrong `prev_hash`) — `verify` names the first
broken row.

Why one chain per actor (the activity's `user_id`) rather than one for the whole table:
the link is appended inside the request's own transaction, holding a row lock on that
actor's head until commit. One global chain would make every audited request in the
deployment wait for the previous one to commit; per actor, only requests of the same
user (or the same operator) queue, which they practically never do. The heads
themselves are sealed: SHA-256 alone can be recomputed by anyone who can write the
tables, so each head carries an HMAC (`seal`) under a key derived from the app secret,
which a database-only attacker lacks; heads are never deleted, and a verification that
finds fewer chains than the last one reports it.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import lazyload

from barong.extensions import db
from barong.models import Activity, AuditChainHead, AuditVerification
from barong.security.crypto import equal, keyed_hash

GENESIS = "0" * 64
#: the columns a link covers, in the canonical document (plus chain_seq and prev_hash)
FIELDS = ("id", "user_id", "category", "target_uid", "user_ip", "user_ip_country", "user_agent",
          "topic", "action", "result", "data", "created_at")


def chain_key(activity: Activity) -> str:
    return str(activity.user_id or 0)


def canonical(activity: Activity) -> bytes:
    doc = {f: getattr(activity, f) for f in FIELDS}
    doc["created_at"] = activity.created_at.isoformat(timespec="seconds") if activity.created_at else None
    doc["chain_seq"] = activity.chain_seq
    doc["prev_hash"] = activity.prev_hash
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def link_hash(activity: Activity) -> str:
    return hashlib.sha256(canonical(activity)).hexdigest()


def head_seal(key: str, seq: int, last_hash: str) -> str:
    return keyed_hash(f"audit-chain-head:{key}:{seq}:{last_hash}")


def _lock_head(key: str) -> AuditChainHead:
    """The chain's head, created if absent, locked until the transaction ends (PostgreSQL
    FOR UPDATE; SQLite has one writer at a time anyway)."""
    dialect = db.session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    db.session.execute(insert(AuditChainHead).values(chain_key=key, seq=0, last_hash=GENESIS,
                                                               seal=head_seal(key, 0, GENESIS))
                       .on_conflict_do_nothing(index_elements=["chain_key"]))
    return db.session.execute(
        select(AuditChainHead).where(AuditChainHead.chain_key == key)
        .with_for_update().execution_options(populate_existing=True)).scalar_one()


def append(activity: Activity) -> None:
    """Make a flushed activity the next link of its actor's chain (same transaction)."""
    head = _lock_head(chain_key(activity))
    activity.chain_seq = head.seq + 1
    activity.prev_hash = head.last_hash
    activity.row_hash = link_hash(activity)
    head.seq = activity.chain_seq
    head.last_hash = activity.row_hash
    head.seal = head_seal(head.chain_key, head.seq, head.last_hash)
    db.session.flush()


@dataclass
class Result:
    ok: bool
    rows: int
    chains: int
    first_broken_id: int | None = None
    problem: str | None = None


def _check(rows_in_order, heads: dict[str, AuditChainHead]):
    """Yield (activity id or None, problem) for each break, walking chain by chain."""
    key, expect_seq, expect_prev, last_id = None, 0, GENESIS, None

    def close(k, seq, last):
        head = heads.pop(k, None)
        if head is None:
            return (last, f"chain of user_id {k}: its head is missing")
        if not equal(head.seal, head_seal(k, head.seq, head.last_hash)):
            return (last, f"chain of user_id {k}: its head's seal is wrong (the chain was rewritten)")
        if head.seq != seq or (seq and head.last_hash != expect_prev):
            return (last, f"chain of user_id {k}: rows after activity #{last} are missing "
                          f"(head at {head.seq}, last row at {seq})")
        return None

    for a in rows_in_order:
        k = chain_key(a)
        if a.chain_seq is None:
            yield a.id, f"activity #{a.id} is not in the chain (written outside the audit log)"
            continue
        if k != key:
            if key is not None and (bad := close(key, expect_seq, last_id)):
                yield bad
            key, expect_seq, expect_prev, last_id = k, 0, GENESIS, None
        if a.chain_seq != expect_seq + 1:
            yield a.id, (f"activity #{a.id}: sequence {a.chain_seq} where {expect_seq + 1} was expected "
                         f"(a row is missing or was inserted)")
        elif a.prev_hash != expect_prev:
            yield a.id, f"activity #{a.id}: does not link to the previous row (inserted or reordered)"
        elif a.row_hash != link_hash(a):
            yield a.id, f"activity #{a.id}: content does not match its hash (edited)"
        expect_seq, expect_prev, last_id = a.chain_seq, a.row_hash, a.id
    if key is not None and (bad := close(key, expect_seq, last_id)):
        yield bad
    for k, head in heads.items():
        if head.seq:
            yield None, f"chain of user_id {k}: all {head.seq} rows are missing"


def verify(record: bool = True) -> Result:
    """Walk every chain; the first broken row is the lowest activity id among the breaks
    (a missing head or all rows of a chain gone name no row). With `record`, the result is
    stored for the console (the caller commits)."""
    heads = {h.chain_key: h for h in db.session.query(AuditChainHead)}
    n_chains = len(heads)
    q = db.session.scalars(
        select(Activity).options(lazyload("*"))
        .order_by(Activity.chain_seq.is_(None), Activity.user_id, Activity.chain_seq, Activity.id)
        .execution_options(yield_per=2000))
    rows = 0

    def counted():
        nonlocal rows
        for a in q:
            rows += 1
            yield a

    breaks = list(_check(counted(), heads))
    last = last_verification()
    if last is not None and n_chains < last.chains:
        breaks.append((None, f"{last.chains - n_chains} chain head(s) deleted since the verification "
                             f"of {last.created_at:%Y-%m-%d %H:%M} UTC"))
    if breaks:
        with_id = [b for b in breaks if b[0] is not None]
        first = min(with_id, key=lambda b: b[0]) if with_id else breaks[0]
        result = Result(False, rows, n_chains, first[0], first[1])
    else:
        result = Result(True, rows, n_chains)
    if record:
        db.session.add(AuditVerification(ok=result.ok, rows=rows, chains=n_chains,
                                         first_broken_id=result.first_broken_id, problem=result.problem))
        db.session.flush()
    return result


def last_verification() -> AuditVerification | None:
    return db.session.query(AuditVerification).order_by(AuditVerification.id.desc()).first()
