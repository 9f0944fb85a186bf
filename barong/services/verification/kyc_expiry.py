"""Document-expiry watcher (`flask kyc expire-documents`; run once a day beside gunicorn by
`python -m barong.serve`, see `daily_due` / `run_daily`).

For every **approved** document with a `doc_expire` date that is the current one of its slot
(front / back side, selfie, proof of address — a newer upload of the same slot supersedes it):

* 30 days (EXPIRY_WARNING_DAYS) or less before it expires: the user is warned once — event
  `system.document.expiring` (mailed, en/ru) and a user activity `document · expiry warning`
  that also marks the warning as sent (a second run finds it and sends nothing);
* once expired (`doc_expire` before today): the document's review state becomes `expired`
  with a compare-and-set on `approved` (so two runs, or a run and a reviewer, never both act),
  event `system.document.expired`, a user activity `document · expired` (the audit row), then
  the applicant's labels are recomputed through document_review.recompute_labels — the label
  service sets `document: expired` (or `address: expired`), which drops the level by the label
  rules and fires the original's `model.label.updated` / `system.document.*` events; the label
  mail for `document: expired` asks the user for a new document (label_mails), so the user gets
  exactly one mail per expiry. (The KYC queue's `users.kyc_waiting_since` follows the label
  through the label service's signal; approved → expired never makes anyone wait by itself.)

Running it twice changes nothing: the warnings are marked, expired documents are no longer
`approved`, and the labels already say `expired`. `run` flushes; the caller commits.
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

from sqlalchemy import func, update

from barong.extensions import db
from barong.models import Activity, Document, utcnow
from barong.services.audit import activities
from barong.services.delivery import events

log = logging.getLogger(__name__)

EXPIRY_WARNING_DAYS = 30
WARNING_ACTION = "expiry warning"
EXPIRED_ACTION = "expired"
TOPIC = "document"
#: kv key remembering the last daily run (a restart does not run it again the same day)
LAST_RUN_KEY = "kyc:expire_documents:last_run"


@dataclass
class Result:
    warned: int = 0          # documents warned about (one mail per user, date and kind)
    expired: int = 0
    labels_changed: int = 0

    def __str__(self) -> str:
        return f"warned {self.warned}, expired {self.expired}, labels changed {self.labels_changed}"


def _slot(doc: Document) -> str:
    if doc.doc_type == "Address":
        return "address"
    return doc.doc_category or "front_side"


def _is_current(doc: Document) -> bool:
    """Is `doc` the newest upload of its slot for its user?"""
    q = db.session.query(Document.id).filter(Document.user_id == doc.user_id, Document.id > doc.id)
    if doc.doc_type == "Address":
        q = q.filter(Document.doc_type == "Address")
    else:
        q = q.filter(Document.doc_type != "Address")
        if doc.doc_category in (None, "front_side"):
            q = q.filter((Document.doc_category.is_(None)) | (Document.doc_category == "front_side"))
        else:
            q = q.filter(Document.doc_category == doc.doc_category)
    return q.first() is None


def _record(doc: Document, **extra) -> dict:
    data = {"id": doc.id, "user": events.user_summary(doc.user, omit_nulls=True), "doc_type": doc.doc_type,
            "doc_category": doc.doc_category, "doc_expire": doc.doc_expire.isoformat() if doc.doc_expire else None,
            "review_state": doc.review_state, **extra}
    return {k: v for k, v in data.items() if v is not None}


def _warned_ids(user_id: int) -> set[tuple[int, str]]:
    """(document id, expiry date) pairs the user was already warned about (the activity rows)."""
    out = set()
    rows = (db.session.query(Activity.data).filter(Activity.user_id == user_id, Activity.category == "user",
                                                   Activity.topic == TOPIC, Activity.action == WARNING_ACTION))
    for (data,) in rows:
        try:
            mark = json.loads(data or "{}")
        except ValueError:
            continue
        for doc_id in mark.get("document_ids") or []:
            out.add((doc_id, mark.get("doc_expire")))
    return out


def _warn(docs: list[Document], today: date) -> int:
    """One warning per user, expiry date and kind (identity / address) — a passport's front and
    selfie uploaded together expire together and make one mail. Returns documents warned about."""
    groups: dict[tuple, list[Document]] = {}
    warned_cache: dict[int, set] = {}
    for doc in docs:
        if doc.user_id not in warned_cache:
            warned_cache[doc.user_id] = _warned_ids(doc.user_id)
        if (doc.id, doc.doc_expire.isoformat()) in warned_cache[doc.user_id] or not _is_current(doc):
            continue
        groups.setdefault((doc.user_id, doc.doc_expire, doc.doc_type == "Address"), []).append(doc)
    count = 0
    for (_, expire, _), group in groups.items():
        first = group[0]
        events.emit("system.document.expiring", _record(first, days_left=(expire - today).days,
                                                        document_ids=[d.id for d in group]))
        activities.record(first.user, topic=TOPIC, action=WARNING_ACTION, result="succeed",
                          data={"document_ids": [d.id for d in group], "doc_type": first.doc_type,
                                "doc_expire": expire.isoformat()})
        count += len(group)
    return count


def _expire(doc: Document, result: Result) -> bool:
    from barong.services.verification import document_review

    now = utcnow()
    done = db.session.execute(
        update(Document).where(Document.id == doc.id, Document.review_state == "approved")
        .values(review_state="expired", updated_at=now).execution_options(synchronize_session=False))
    if done.rowcount != 1:
        return False
    db.session.refresh(doc)
    events.emit("system.document.expired", _record(doc))
    activities.record(doc.user, topic=TOPIC, action=EXPIRED_ACTION, result="succeed",
                      data={"document_id": doc.id, "doc_type": doc.doc_type, "doc_category": doc.doc_category,
                            "doc_expire": doc.doc_expire.isoformat()})
    if document_review.recompute_labels(doc.user):
        result.labels_changed += 1
    return True


def run(today: date | None = None) -> Result:
    """One pass (module docstring). Flushes; the caller commits."""
    today = today or datetime.now(timezone.utc).date()
    result = Result()
    horizon = today + timedelta(days=EXPIRY_WARNING_DAYS)
    expired = (db.session.query(Document).filter(Document.review_state == "approved", Document.doc_expire.isnot(None),
                                                 Document.doc_expire < today).order_by(Document.id).all())
    for doc in expired:
        if _expire(doc, result):
            result.expired += 1
    soon = (db.session.query(Document).filter(Document.review_state == "approved", Document.doc_expire.isnot(None),
                                              Document.doc_expire >= today, Document.doc_expire <= horizon)
            .order_by(Document.id).all())
    result.warned = _warn(soon, today)
    db.session.flush()
    return result


# ---- once a day ------------------------------------------------------------------------------

def daily_due(now: datetime | None = None) -> bool:
    """Has today's (UTC) run not happened yet? (the last run is kept in the kv store)"""
    from barong.services.infra import kv

    now = now or datetime.now(timezone.utc)
    return kv.get(LAST_RUN_KEY) != now.date().isoformat()


def mark_ran(now: datetime | None = None) -> None:
    """Remember that today's (UTC) run happened."""
    from barong.services.infra import kv

    kv.set(LAST_RUN_KEY, (now or datetime.now(timezone.utc)).date().isoformat(), 3 * 86400)


def run_daily(now: datetime | None = None) -> Result | None:
    """Run once per UTC day: None when today's run already happened. Commits."""
    from barong.services.infra import unit_of_work

    now = now or datetime.now(timezone.utc)
    if not daily_due(now):
        return None
    result = run(now.date())
    mark_ran(now)
    unit_of_work.commit()
    log.info("kyc expire-documents: %s", result)
    return result


def pending_count() -> int:
    """Approved documents already past their expiry (what the next run would expire)."""
    return db.session.query(func.count(Document.id)).filter(
        Document.review_state == "approved", Document.doc_expire < datetime.now(timezone.utc).date()).scalar() or 0

