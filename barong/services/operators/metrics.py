"""Operator dashboard figures (admin API `GET metrics` and the console).

`summary()` returns Barong's four keys — per-day counts of signups, successful and
failed password logins (activities; `login::2fa` rows are not counted unless `any_factor`), and the number
of pending KYC applications — plus, with `extended=True`, verified documents and user
counts by level and by state. Unlike Barong master (which accepts `created_from`/
`created_to` but never applies them) the period, when given, filters the per-day maps
(the seed documents "statistic in the given time period").

All-time series are cheap on a big table: the per-day counts of past days are computed
once and cached (see `_closed_days`); only today's rows are counted on each call.
"""
from __future__ import annotations

import json
from datetime import datetime, timezone

from sqlalchemy import func

from barong.errors import BarongError
from barong.extensions import db
from barong.models import Activity, Label, User

#: Barong's key names, misspelling included
SERIES = {"signups": ("account", "signup", "succeed"),
          "sucessful_logins": ("session", "login", "succeed"),
          "failed_logins": ("session", "login", "failed")}

#: the console's login figures count every login whatever the second factor: a 2FA user's
#: login is recorded as `login::2fa` (and its wrong code as a failed `login::2fa`), which
#: the original's metrics leave out — the admin API keeps those numbers (`SERIES`)
LOGIN_ACTIONS = ("login", "login::2fa")
ANY_FACTOR_SERIES = {"signups": ("account", "signup", "succeed"),
                     "sucessful_logins": ("session", LOGIN_ACTIONS, "succeed"),
                     "failed_logins": ("session", LOGIN_ACTIONS, "failed")}


def parse_time(value, code: str = "admin.metrics.invalid_time") -> datetime | None:
    """Unix seconds or an ISO 8601 date/time → naive UTC datetime; None for blank."""
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value.replace(tzinfo=None)
    text = str(value).strip()
    try:
        if text.lstrip("-").isdigit():
            return datetime.fromtimestamp(int(text), tz=timezone.utc).replace(tzinfo=None)
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except (ValueError, OverflowError, OSError):
        raise BarongError(code, 422) from None
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(timezone.utc).replace(tzinfo=None)
    return parsed


def _day():
    if db.engine.dialect.name == "sqlite":
        return func.strftime("%Y-%m-%d", Activity.created_at)
    return func.to_char(Activity.created_at, "YYYY-MM-DD")


def _within(q, start, end, before=None):
    """`q` limited to activities created in [start, end] (each bound optional) and before `before`."""
    if start is not None:
        q = q.filter(Activity.created_at >= start)
    if end is not None:
        q = q.filter(Activity.created_at <= end)
    if before is not None:
        q = q.filter(Activity.created_at < before)
    return q


def _series(topic: str, action: str | tuple, result: str, start, end, before=None) -> dict[str, int]:
    day = _day().label("day")
    by_action = Activity.action.in_(action) if isinstance(action, tuple) else Activity.action == action
    q = (db.session.query(day, func.count(Activity.id))
         .filter(Activity.topic == topic, by_action, Activity.result == result))
    q = _within(q, start, end, before)
    return {str(d): n for d, n in q.group_by(day).order_by(day).all()}


def _matches(spec: tuple, topic: str, action: str, result: str) -> bool:
    want_topic, want_action, want_result = spec
    wanted = want_action if isinstance(want_action, tuple) else (want_action,)
    return topic == want_topic and result == want_result and action in wanted


def _series_map(spec_map: dict, start, end, before=None) -> dict[str, dict[str, int]]:
    """`{name: _series(*spec, start, end, before)}` for every series of `spec_map`, in one
    grouped statement instead of one per series (issue 18: the dashboard's GET ran five)."""
    from sqlalchemy import and_, or_

    day = _day().label("day")
    arms = []
    for topic, action, result in spec_map.values():
        by_action = Activity.action.in_(action) if isinstance(action, tuple) else Activity.action == action
        arms.append(and_(Activity.topic == topic, by_action, Activity.result == result))
    q = db.session.query(day, Activity.topic, Activity.action, Activity.result, func.count(Activity.id)).filter(
        or_(*arms))
    q = _within(q, start, end, before)
    out: dict[str, dict[str, int]] = {name: {} for name in spec_map}
    for d, topic, action, result, n in q.group_by(day, Activity.topic, Activity.action, Activity.result).all():
        for name, spec in spec_map.items():
            if _matches(spec, topic, action, result):
                out[name][str(d)] = out[name].get(str(d), 0) + n
    return {name: dict(sorted(days.items())) for name, days in out.items()}


#: per-day counts of days before `until` never change (activities are append-only and
#: stamped with the insert time), so the all-time series are computed once, kept in the
#: kv store (DB or Redis) for a few hours, and only rows since `until` are counted live
ROLLUP_KEY = "metrics:closed_days:v1"
ROLLUP_TTL = 6 * 3600


def _closed_days() -> tuple[datetime, dict]:
    from barong.services.infra import kv

    cached = kv.get(ROLLUP_KEY)
    if cached:
        try:
            data = json.loads(cached)
            return datetime.fromisoformat(data["until"]), data["series"]
        except (ValueError, KeyError, TypeError):
            pass
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    until = datetime(now.year, now.month, now.day)
    series = _series_map(SERIES, None, None, before=until)
    kv.set(ROLLUP_KEY, json.dumps({"until": until.isoformat(), "series": series}), ROLLUP_TTL)
    return until, series


def _all_time() -> dict[str, dict[str, int]]:
    until, closed = _closed_days()
    today = _series_map(SERIES, until, None)
    out = {}
    for name in SERIES:
        merged = dict(closed.get(name, {}))
        for day, n in today[name].items():
            merged[day] = merged.get(day, 0) + n
        out[name] = dict(sorted(merged.items()))
    return out


def clear_cache() -> None:
    """Drop the closed-days rollup (tests, or after importing backdated activities)."""
    from barong.services.infra import kv

    kv.delete(ROLLUP_KEY)


def _private_label_count(key: str, value: str) -> int:
    return db.session.query(func.count(Label.id)).filter(Label.key == key, Label.value == value,
                                                         Label.scope == "private").scalar() or 0


def summary(created_from=None, created_to=None, extended: bool = False, any_factor: bool = False) -> dict:
    """Dashboard figures; `created_from`/`created_to` are unix seconds, ISO strings or
    datetimes (422 `admin.metrics.invalid_time` otherwise). `any_factor=True` (the console)
    counts 2FA logins too (`ANY_FACTOR_SERIES`); the default keeps the original's numbers."""
    start, end = parse_time(created_from), parse_time(created_to)
    if start is None and end is None and not any_factor:
        out: dict = _all_time()
    else:
        spec_map = ANY_FACTOR_SERIES if any_factor else SERIES
        out = _series_map(spec_map, start, end)
    out["pending_applications"] = _private_label_count("document", "pending")
    if extended:
        out["verified_documents"] = _private_label_count("document", "verified")
        out["users_total"] = db.session.query(func.count(User.id)).scalar() or 0
        out["users_by_level"] = {str(level): n for level, n in
                                 db.session.query(User.level, func.count(User.id)).group_by(User.level)
                                 .order_by(User.level)}
        out["users_by_state"] = {state: n for state, n in
                                 db.session.query(User.state, func.count(User.id)).group_by(User.state)
                                 .order_by(User.state)}
    return out


# ---- KYC reviewer metrics ------------------------------------------------------------------

def _decision_seconds():
    """Seconds from upload to decision, in SQL (document_decisions keeps both moments)."""
    from barong.models import DocumentDecision as D

    if db.engine.dialect.name == "sqlite":
        return (func.julianday(D.created_at) - func.julianday(D.uploaded_at)) * 86400.0
    return func.extract("epoch", D.created_at - D.uploaded_at)


def _rates(row: dict) -> dict:
    n = row["decisions"]
    for outcome, name in (("approved", "approval_rate"), ("rejected", "rejection_rate"),
                          ("retried", "retry_rate")):
        row[name] = round(row[outcome] / n, 4) if n else 0.0
    return row


def kyc_reviewers(created_from=None, created_to=None) -> dict:
    """Reviewer metrics over document_decisions in a period (unix seconds, ISO or datetimes;
    422 `admin.kyc.invalid_time`): per reviewer and in total — decisions, approved / rejected /
    retried (re-upload requested) counts and rates, and p50 / p90 seconds from upload to decision.

    One grouped query does it: the percentiles are nearest-rank, picked with window functions
    (ROW_NUMBER within the reviewer's decisions ordered by duration; the p-th percentile is the
    smallest duration whose rank r satisfies r ≥ p·n), so SQLite and PostgreSQL give the same
    figures and no row reaches Python; the (created_at) index bounds the period."""
    from sqlalchemy import case, literal, select

    from barong.models import DocumentDecision as D

    start = parse_time(created_from, "admin.kyc.invalid_time")
    end = parse_time(created_to, "admin.kyc.invalid_time")
    secs = _decision_seconds().label("secs")
    conds = []
    if start is not None:
        conds.append(D.created_at >= start)
    if end is not None:
        conds.append(D.created_at <= end)

    def grouped(by_reviewer: bool):
        part = [D.reviewer_id] if by_reviewer else []
        inner = (select(D.reviewer_id.label("reviewer_id") if by_reviewer else literal(0).label("reviewer_id"),
                        D.outcome.label("outcome"), secs,
                        func.row_number().over(partition_by=part or None, order_by=secs).label("rn"),
                        func.count().over(partition_by=part or None).label("n"))
                 .where(*conds).subquery("d"))
        rows = (select(inner.c.reviewer_id, func.count().label("decisions"),
                       func.sum(case((inner.c.outcome == "approve", 1), else_=0)).label("approved"),
                       func.sum(case((inner.c.outcome == "reject", 1), else_=0)).label("rejected"),
                       func.sum(case((inner.c.outcome == "retry", 1), else_=0)).label("retried"),
                       func.min(case((inner.c.rn * 2 >= inner.c.n, inner.c.secs))).label("p50"),
                       func.min(case((inner.c.rn * 10 >= inner.c.n * 9, inner.c.secs))).label("p90"))
                .group_by(inner.c.reviewer_id))
        return db.session.execute(rows).mappings().all()

    def shape(r) -> dict:
        return _rates({"decisions": int(r["decisions"] or 0), "approved": int(r["approved"] or 0),
                       "rejected": int(r["rejected"] or 0), "retried": int(r["retried"] or 0),
                       "p50_seconds": None if r["p50"] is None else round(float(r["p50"]), 1),
                       "p90_seconds": None if r["p90"] is None else round(float(r["p90"]), 1)})

    per = grouped(True)
    ids = [r["reviewer_id"] for r in per if r["reviewer_id"] is not None]
    who = {u.id: u for u in db.session.query(User).filter(User.id.in_(ids))} if ids else {}
    reviewers = []
    for r in per:
        u = who.get(r["reviewer_id"])
        reviewers.append({"uid": u.uid if u else None, "email": u.email if u else None, **shape(r)})
    reviewers.sort(key=lambda x: (-x["decisions"], x["email"] or ""))
    total = grouped(False)
    empty = {"decisions": 0, "approved": 0, "rejected": 0, "retried": 0, "p50": None, "p90": None}
    return {"from": start.isoformat() if start else None, "to": end.isoformat() if end else None,
            "total": shape(total[0] if total else empty), "reviewers": reviewers}
