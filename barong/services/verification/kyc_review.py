"""KYC review by operators (the `local` provider): the queue, a claim per applicant,
and the two decisions.

The queue (`queue_query`, shared by the console and `GET admin/users/documents/pending`)
lists every user with a document in review state `pending` — identity documents and
proofs of address alike, so a re-upload after a `retry` decision puts the applicant back
— oldest pending upload first, with every admin/users filter plus `doc_type`,
`waiting_hours` and `reviewer`; `sla_status` grades the wait against BARONG_KYC_SLA_HOURS.

Who waits, and since when, is the denormalised `users.kyc_waiting_since` (indexed with the
id): the queue is an index range scan whatever the filter, instead of building the waiting
list from documents and labels on every page. `refresh_waiting` is the one place that writes
it — always to exactly what `waiting_subquery` (the definition, kept as the tests' oracle)
computes for that user — and runs in the transaction of every change it depends on: an upload,
a decision, the expiry watcher, a purge here or in privacy; a `document` label set or removed
(accounts.labels, operators.admin_users) through the `kyc_waiting_changed` signal.

The decision is what the original's KYC step does: the user's private `document`
label becomes `verified` or `rejected` (labels.py recomputes level/state and emits
`model.label.updated` + `system.document.<value>`, which the mailer turns into the
user's mail), and a `submitted` profile follows through the profiles service.

Two reviewers never both decide one applicant: `claim` takes the applicant with one
conditional UPDATE (`review_claimed_by` is empty, ours, or stale); `decide` releases
it with another that only the holder can win (else 409 `admin.kyc.claimed`), then
takes the pending `document` label with a third (`value IN (pending, replaced)`), so
of two decisions racing without any claim exactly one finds it pending; the other gets
409 `admin.kyc.not_pending`. Nothing of a refused decision is written.
"""
from __future__ import annotations

from datetime import timedelta

from flask import current_app
from sqlalchemy import exists, func, or_, select, update
from sqlalchemy.orm.attributes import set_committed_value

from barong import signals
from barong.errors import BarongError, ValidationError
from barong.extensions import db
from barong.models import Document, Label, Profile, User, utcnow
from barong.services.audit import admin_activities
from barong.services.operators import admin_actions, admin_users

#: a claim left by a reviewer who walked away expires after this long
CLAIM_TTL = timedelta(minutes=15)
PENDING_VALUES = ("pending", "replaced")
DECISIONS = {"approve": "verified", "reject": "rejected"}
REASON_MAX = 255


#: the queue's own filters, beside every admin/users filter (barong.services.operators.admin_users)
QUEUE_FILTERS = ("doc_type", "waiting_hours", "reviewer")


def parse_queue_filters(params: dict | None) -> dict:
    """The queue's filters from raw values → `{doc_type, waiting_hours, reviewer}` (absent: None).
    Raises 422 admin.kyc.non_integer_waiting_hours. `reviewer` is a uid (a live claim by that
    reviewer) or `none` (nobody holds the applicant)."""
    params = dict(params or {})
    out: dict = {}
    doc_type = params.get("doc_type")
    out["doc_type"] = str(doc_type).strip() if doc_type not in (None, "") else None
    raw = params.get("waiting_hours")
    if raw in (None, ""):
        out["waiting_hours"] = None
    else:
        try:
            value = int(str(raw).strip()) if not isinstance(raw, bool) else None
        except ValueError:
            value = None
        if value is None or value < 0 or value > 10**6:
            raise BarongError("admin.kyc.non_integer_waiting_hours", 422)
        out["waiting_hours"] = value
    reviewer = params.get("reviewer")
    out["reviewer"] = str(reviewer).strip() if reviewer not in (None, "") else None
    return out


def waiting_subquery(doc_type: str | None = None, min_wait=None):
    """`(user_id, since)` of every applicant waiting for a review: a document (identity or proof of
    address) in review state `pending` — `since` is the oldest pending upload, served by the
    (review_state, user_id, created_at) index — and, as in the original, a user whose private
    `document` label is `pending`/`replaced` without any document (set through the admin or
    management API; `since` is the label's update). A user whose documents were all decided
    (say, one sent back for a new upload) keeps `document: pending` but is not waiting."""
    from sqlalchemy import union_all

    docs = select(Document.user_id.label("user_id"), Document.created_at.label("since")).where(
        Document.review_state == "pending")
    if doc_type:
        docs = docs.where(Document.doc_type == doc_type)
        rows = docs.subquery("pending_rows")
    else:
        legacy = select(Label.user_id.label("user_id"), Label.updated_at.label("since")).where(
            Label.key == "document", Label.scope == "private", Label.value.in_(PENDING_VALUES),
            # NOT IN (a hashed subplan: one pass over the documents' user_id index) rather than NOT
            # EXISTS, which the planner runs as one index probe per pending label
            Label.user_id.notin_(select(Document.user_id)))
        rows = union_all(docs, legacy).subquery("pending_rows")
    grouped = select(rows.c.user_id, func.min(rows.c.since).label("since")).group_by(rows.c.user_id)
    if min_wait is not None:  # waiting since at least `min_wait`
        grouped = grouped.having(func.min(rows.c.since) <= min_wait)
    return grouped.subquery("waiting")


def waiting_since_expr(user_id):
    """SQL for what `waiting_subquery` computes for the user `user_id` (a value, or a column to
    correlate with, e.g. `User.id` in an UPDATE of users): the oldest pending document's upload,
    else — for a user without any document — the pending/replaced `document` label's update."""
    docs, any_doc, lab = (Document.__table__.alias("wd"), Document.__table__.alias("wa"),
                          Label.__table__.alias("wl"))
    oldest = (select(func.min(docs.c.created_at))
              .where(docs.c.user_id == user_id, docs.c.review_state == "pending").scalar_subquery())
    legacy = (select(func.min(lab.c.updated_at))
              .where(lab.c.user_id == user_id, lab.c.key == "document", lab.c.scope == "private",
                     lab.c.value.in_(PENDING_VALUES), ~exists().where(any_doc.c.user_id == user_id))
              .scalar_subquery())
    return func.coalesce(oldest, legacy)


def refresh_waiting(user: User | int) -> None:
    """Recompute `users.kyc_waiting_since` of `user` (a User or an id) from its documents and
    labels, as they are in this transaction (pending changes are flushed first). The one writer
    of the column; `users.updated_at` is left as it was (nothing the user or an operator did)."""
    user_id = user if isinstance(user, int) else user.id
    if user_id is None:
        return
    db.session.flush()
    # lock the user row first, in a statement of its own: the UPDATE below then reads the
    # documents and labels with a snapshot taken after any concurrent refresh of this user has
    # committed (READ COMMITTED), so of an upload and a decision racing, the later refresh sees
    # both. NO KEY UPDATE, like the claim's UPDATE: it does not wait for the KEY SHARE lock a
    # concurrent document INSERT holds through its foreign key (no deadlock with an upload)
    db.session.execute(select(User.id).where(User.id == user_id).with_for_update(key_share=True))
    since = db.session.execute(
        update(User).where(User.id == user_id)
        .values(kyc_waiting_since=waiting_since_expr(user_id), updated_at=User.updated_at)
        .returning(User.kyc_waiting_since)
        .execution_options(synchronize_session=False)).scalar_one_or_none()
    obj = user if isinstance(user, User) else db.session.identity_map.get(db.session.identity_key(User, user_id))
    if obj is not None:  # the loaded user says what the row now says (no reload to read it)
        set_committed_value(obj, "kyc_waiting_since", since)


@signals.kyc_waiting_changed.connect
def _on_waiting_changed(user, **_kw) -> None:
    refresh_waiting(user)


def refresh_all_waiting() -> int:
    """Recompute the column for every user who is or may be waiting (bulk seeds, repairs): one
    UPDATE, same expression as the migration's backfill. Returns the rows updated."""
    candidates = or_(
        User.id.in_(select(Document.user_id).where(Document.review_state == "pending")),
        User.id.in_(select(Label.user_id).where(Label.key == "document", Label.scope == "private",
                                                Label.value.in_(PENDING_VALUES))),
        User.kyc_waiting_since.isnot(None))
    db.session.flush()
    result = db.session.execute(
        update(User).where(candidates)
        .values(kyc_waiting_since=waiting_since_expr(User.id), updated_at=User.updated_at)
        .execution_options(synchronize_session=False))
    db.session.expire_all()
    return result.rowcount


def _parts(params: dict | None):
    """(filters, conditions on users) of the queue filters `params`: waiting at all, every
    admin/users filter, and the queue's own — each a plain condition on `users` (country a
    semi-join on profiles, doc_type an EXISTS on the documents' (review_state, user_id, …) index)."""
    f = admin_users.parse_filters(params, ordering=False)
    qf = parse_queue_filters(params)
    # country as a plain semi-join, not admin/users' DISTINCT id list (built for counting
    # 100,000 profiles alone): the page then walks the waiting index and probes
    # profiles (country, user_id) per applicant — 3 ms instead of 150 ms at 1,000,000 users
    country = f.pop("country", None)
    conds = [User.kyc_waiting_since.isnot(None)] + list(admin_users.user_conditions(f))
    if country:
        conds.append(User.id.in_(select(Profile.user_id).where(Profile.country == country)))
    min_wait = None if qf["waiting_hours"] is None else utcnow() - timedelta(hours=qf["waiting_hours"])
    if qf["doc_type"]:
        # a pending document of that type (uploaded at least `waiting_hours` ago, when given:
        # its oldest such upload is what waiting_subquery(doc_type, min_wait) compared)
        pending = exists().where(Document.user_id == User.id, Document.review_state == "pending",
                                 Document.doc_type == qf["doc_type"])
        if min_wait is not None:
            pending = pending.where(Document.created_at <= min_wait)
        conds.append(pending)
    elif min_wait is not None:
        conds.append(User.kyc_waiting_since <= min_wait)
    if qf["reviewer"]:
        cutoff = utcnow() - CLAIM_TTL
        if qf["reviewer"].lower() == "none":
            conds.append(or_(User.review_claimed_by.is_(None), User.review_claimed_at < cutoff))
        else:
            conds += [User.review_claimed_by == qf["reviewer"].upper(), User.review_claimed_at >= cutoff]
    return f, conds


def queue_query(params: dict | None = None, *, options: bool = True):
    """`(query, since, count_query)`: the applicants waiting for a review, oldest first (the
    applicant's oldest pending upload), under every `GET admin/users` filter (uid, email,
    country, level, state, role, q, from/to…) plus `doc_type` (a pending document of that type),
    `waiting_hours` (waiting at least that long) and `reviewer` (a uid holding a live claim, or
    `none`). The query yields users; `since` (users.kyc_waiting_since) is the moment they have
    waited since. Raises 422 on a bad filter value."""
    f, conds = _parts(params)
    q = db.session.query(User).filter(*conds)
    if options:
        q = q.options(*admin_users.list_options(f["extended"], kyc=f["extended"]))
    q = q.order_by(User.kyc_waiting_since.asc(), User.id.asc())
    counted = select(func.count()).select_from(User).where(*conds)
    return q, User.kyc_waiting_since, counted


def queue(params: dict | None = None, page: int = 1, limit: int = 25, preload: tuple | None = None):
    """One page of the review queue → `(items, total)`; each item is `(user, since)`. The admin
    API's `GET users/documents/pending` lists the same page.

    The page is a range scan of the (kyc_waiting_since, id) index under the filters, cut by
    LIMIT/OFFSET; the total is a count over the same conditions (the waiting users only)."""
    f, conds = _parts(params)
    offset = (page - 1) * limit
    rows = (db.session.query(User).filter(*conds)
            .options(*(_preload(preload) if preload else admin_users.list_options(f["extended"], kyc=f["extended"])))
            .order_by(User.kyc_waiting_since.asc(), User.id.asc()).limit(limit).offset(offset).all())
    if rows and offset == 0 and len(rows) < limit:
        total = len(rows)  # the whole queue fits on this page
    else:
        total = db.session.execute(select(func.count()).select_from(User).where(*conds)).scalar_one()
    return [(u, u.kyc_waiting_since) for u in rows], total


def _preload(relations: tuple) -> list:
    """Loader options: `relations` of User in one SELECT … IN each (the console's queue needs the
    profiles and documents of its page only), the labels left unloaded."""
    from sqlalchemy.orm import lazyload, selectinload

    return [lazyload(User.labels)] + [selectinload(getattr(User, name)) for name in relations]


def sla_status(since, now=None) -> str:
    """`ok`, `due` (over three quarters of BARONG_KYC_SLA_HOURS waited) or `overdue`."""
    if since is None:
        return "ok"
    hours = current_app.config.get("BARONG_KYC_SLA_HOURS", 24)
    waited = ((now or utcnow()) - since).total_seconds() / 3600
    if waited >= hours:
        return "overdue"
    return "due" if waited >= hours * 0.75 else "ok"


def is_pending(user: User) -> bool:
    """Is `user` waiting for a review: a document (identity or proof of address) pending a decision,
    or — without any document — a `document` label pending/replaced (waiting_subquery)? Reads
    users.kyc_waiting_since."""
    return user.kyc_waiting_since is not None


def next_pending(after: User | None = None, reviewer: User | None = None,
                 params: dict | None = None) -> User | None:
    """The oldest pending applicant other than `after` that nobody else is holding (under the
    queue filters `params`, so `j` walks the filtered queue)."""
    cutoff = utcnow() - CLAIM_TTL
    q, _, _ = queue_query(params, options=False)
    if after is not None:
        q = q.filter(User.id != after.id)
    if reviewer is not None:
        q = q.filter(or_(User.review_claimed_by.is_(None), User.review_claimed_by == reviewer.uid,
                         User.review_claimed_at < cutoff))
    return q.first()


def claimed_by_other(applicant: User, reviewer: User) -> bool:
    return bool(applicant.review_claimed_by and applicant.review_claimed_by != reviewer.uid
                and applicant.review_claimed_at and applicant.review_claimed_at >= utcnow() - CLAIM_TTL)


def claim(applicant: User, reviewer: User) -> None:
    """Hold `applicant` for `reviewer`. Raises 409 admin.kyc.claimed when another
    reviewer holds a live claim. Atomic: a conditional UPDATE, not read-then-write."""
    now = utcnow()
    result = db.session.execute(
        update(User)
        .where(User.id == applicant.id)
        .where(or_(User.review_claimed_by.is_(None), User.review_claimed_by == reviewer.uid,
                   User.review_claimed_at.is_(None), User.review_claimed_at < now - CLAIM_TTL))
        .values(review_claimed_by=reviewer.uid, review_claimed_at=now)
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(applicant, ["review_claimed_by", "review_claimed_at"])
    if result.rowcount != 1:
        raise BarongError("admin.kyc.claimed", 409)


def release(applicant: User, reviewer: User) -> None:
    """Let go of our claim (no-op if we do not hold it)."""
    db.session.execute(
        update(User).where(User.id == applicant.id, User.review_claimed_by == reviewer.uid)
        .values(review_claimed_by=None, review_claimed_at=None)
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(applicant, ["review_claimed_by", "review_claimed_at"])


def _take_decision_right(applicant: User, reviewer: User) -> None:
    """Clear the claim iff `reviewer` holds it (or nobody does): exactly one of two
    concurrent deciders gets rowcount 1."""
    now = utcnow()
    result = db.session.execute(
        update(User)
        .where(User.id == applicant.id)
        .where(or_(User.review_claimed_by == reviewer.uid, User.review_claimed_by.is_(None),
                   User.review_claimed_at < now - CLAIM_TTL))
        .values(review_claimed_by=None, review_claimed_at=None)
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(applicant, ["review_claimed_by", "review_claimed_at"])
    if result.rowcount != 1:
        raise BarongError("admin.kyc.claimed", 409)


def _lock_pending_document(applicant: User) -> None:
    """Take the applicant's pending `document` label with a conditional UPDATE: a second
    decision running at the same time waits on the row lock, then matches nothing (the
    value is no longer pending) and is refused with 409 admin.kyc.not_pending."""
    result = db.session.execute(
        update(Label)
        .where(Label.user_id == applicant.id, Label.key == "document", Label.scope == "private",
               Label.value.in_(PENDING_VALUES))
        .values(updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise BarongError("admin.kyc.not_pending", 409)
    db.session.expire(applicant, ["labels"])  # what follows works on the row as it is now


def _set_profile_state(applicant: User, state: str, reviewer: User) -> Profile | None:
    """A `submitted` profile follows the decision, exactly as PUT admin/profiles does it
    (barong.services.operators.admin_actions.review_profile; audited once, as the KYC decision)."""
    if not any(p.state == "submitted" for p in applicant.profiles):
        return None
    return admin_actions.review_profile(applicant, state, actor=reviewer, audit=False)


def decide(applicant: User, reviewer: User, decision: str, reason: str | None = None) -> Label:
    """Approve or reject `applicant`'s documents.

    Raises 401 admin.ability.not_permitted (no `update Label`), 422 admin.kyc.invalid_decision,
    422 reason.blank / reason.too_long (reject needs a reason), 422 admin.user.update_himself,
    422 admin.user.superadmin_change,
    409 admin.kyc.not_pending (already decided), 409 admin.kyc.claimed (another reviewer
    holds the applicant). Side effects: document label (→ level/state, events, mail),
    submitted profile state (422 admin.profiles.second_admin_approval when the
    double-verification rule forbids this reviewer), admin audit activity.
    """
    value = DECISIONS.get(decision)
    if value is None:
        raise BarongError("admin.kyc.invalid_decision", 422)
    reason = (reason or "").strip() or None
    if decision == "reject":
        if not reason:
            raise ValidationError("reason.blank", field="reason")
        if len(reason) > REASON_MAX:
            raise ValidationError("reason.too_long", field="reason")
    if applicant.id == reviewer.id:
        raise BarongError("admin.user.update_himself", 422)
    if applicant.role == "superadmin" and reviewer.role != "superadmin":
        raise BarongError("admin.user.superadmin_change", 422)
    _take_decision_right(applicant, reviewer)
    _lock_pending_document(applicant)
    # exactly POST admin/users/labels/update key=document scope=private (the description is
    # the rejection reason, cleared on approval); audited once below as the KYC decision
    label = admin_users.upsert_label(applicant, "document", value, "private", description=reason,
                                     replace=False, actor=reviewer, audit=False)
    # every pending document (identity and proof of address) follows, one DocumentDecision each
    from barong.services.verification import document_review

    document_review.settle_all(applicant, reviewer, decision, reason)
    _set_profile_state(applicant, value, reviewer)
    refresh_waiting(applicant)
    admin_activities.audit(reviewer, "kyc", decision, target_uid=applicant.uid,
                           data={"document": value, "reason": reason})
    return label
