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


def _series(topic: str, action: str | tuple, result: str, start, end, before=None) -> dict[str, int]:
    day = _day().label("day")
    by_action = Activity.action.in_(action) if isinstance(action, tuple) else Activity.action == action
    q = (db.session.query(day, func.count(Activity.id))
         .filter(Activity.topic == topic, by_action, Activity.result == result))
    if start is not None:
        q = q.filter(Activity.created_at >= start)
    if end is not None:
        q = q.filter(Activity.created_at <= end)
    if before is not None:
        q = q.filter(Activity.created_at < before)
    return {str(d): n for d, n in q.group_by(day).order_by(day).all()}


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
    series = {name: _series(*spec, None, None, before=until) for name, spec in SERIES.items()}
    kv.set(ROLLUP_KEY, json.dumps({"until": until.isoformat(), "series": series}), ROLLUP_TTL)
    return until, series


def _all_time() -> dict[str, dict[str, int]]:
    until, closed = _closed_days()
    out = {}
    for name, spec in SERIES.items():
        merged = dict(closed.get(name, {}))
        for day, n in _series(*spec, until, None).items():
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
        out = {name: _series(*spec, start, end) for name, spec in spec_map.items()}
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
