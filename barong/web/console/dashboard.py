"""Dashboard: the admin metrics for a chosen period, as SVG charts."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

from flask import request
from flask_babel import gettext as _

from barong.extensions import db
from barong.models import Level
from barong.web.console import bp, charts
from barong.web.console.helpers import console_requires, render_page_or_partial

PERIODS = {"7": 7, "30": 30, "90": 90}


def _parse_day(raw: str | None) -> date | None:
    try:
        return date.fromisoformat(raw) if raw else None
    except ValueError:
        return None


def period_from(args) -> tuple[date, date, str]:
    today = datetime.now(timezone.utc).date()
    start, end = _parse_day(args.get("from")), _parse_day(args.get("to"))
    if start and end and start <= end and (end - start).days <= 366:
        return start, end, "custom"
    key = args.get("period") if args.get("period") in PERIODS else "30"
    return today - timedelta(days=PERIODS[key] - 1), today, key


def _unix(d: date, end: bool = False) -> int:
    moment = datetime.combine(d, time.max if end else time.min, tzinfo=timezone.utc)
    return int(moment.timestamp())


def metrics_for(start: date, end: date) -> dict:
    """The admin API's metrics (barong.services.operators.metrics) for the period, with the extended
    figures (users by level, verified documents) and logins counted whatever the second
    factor (`login` and `login::2fa`; the admin API keeps the original's password-only count)."""
    from barong.services.operators import metrics

    return metrics.summary(created_from=_unix(start), created_to=_unix(end, end=True), extended=True,
                           any_factor=True)


def level_rows(by_level: dict) -> list[tuple[str, int]]:
    """Users per level (0 = nothing verified yet), named after the level's label."""
    names = {lvl.id: f"{lvl.id} · {lvl.key} {lvl.value}" for lvl in db.session.query(Level).order_by(Level.id)}
    counts = {int(k): int(v) for k, v in (by_level or {}).items()}
    top = max([*names.keys(), *counts.keys(), 0])
    return [(names.get(i, "0 · " + _("none") if i == 0 else str(i)), counts.get(i, 0)) for i in range(0, top + 1)]


def _in_period(series: dict, days: list[date]) -> dict:
    keys = {d.isoformat() for d in days}
    return {str(k): v for k, v in (series or {}).items() if str(k)[:10] in keys}


def _kyc_metrics(start: date, end: date) -> dict | None:
    """Reviewer metrics of the period (GET admin/kyc/metrics), for who may read them."""
    from barong.services.operators import metrics
    from barong.web.console import policy
    from barong.web.console.helpers import actor

    if not policy.can(actor(), "kyc.metrics"):
        return None
    return metrics.kyc_reviewers(_unix(start), _unix(end, end=True))


@bp.get("/")
@console_requires("dashboard")
def dashboard():
    start, end, period = period_from(request.args)
    days = charts.days_between(start, end)
    m = metrics_for(start, end)
    signups = _in_period(m.get("signups"), days)
    logins = _in_period(m.get("sucessful_logins") or m.get("successful_logins"), days)
    failed = _in_period(m.get("failed_logins"), days)
    levels = level_rows(m.get("users_by_level"))
    ctx = dict(
        period=period, start=start, end=end,
        totals={"signups": sum(signups.values()), "logins": sum(logins.values()), "failed": sum(failed.values()),
                "pending": m.get("pending_applications", 0),
                "verified": m.get("verified_documents", 0)},
        signups_chart=charts.daily_bars(signups, days, _("Signups per day")),
        logins_chart=charts.daily_bars(logins, days, _("Successful logins per day"), "bar ok"),
        failed_chart=charts.daily_bars(failed, days, _("Failed logins per day"), "bar bad"),
        levels_chart=charts.hbars(levels, _("Users by level")),
        kyc_metrics=_kyc_metrics(start, end),
    )
    return render_page_or_partial("console/dashboard.html", "console/_dashboard_body.html", **ctx)
