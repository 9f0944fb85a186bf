"""Activities: the users' log and the admin audit log, with the admin API's filters
(topic, action, uid, email, result, period, target uid) and CSV export."""
from __future__ import annotations

import csv
import io
from datetime import date, datetime, time, timezone

from flask import Response, request
from sqlalchemy.orm import lazyload

from barong.errors import BarongError
from barong.services.audit import admin_activities, chain
from barong.web.console import bp, policy
from barong.web.console.helpers import (
    Page,
    actor,
    audit,
    console_requires,
    forbidden,
    int_arg,
    is_htmx,
    render_page_or_partial,
)

FILTERS = ("topic", "action", "uid", "email", "result", "target_uid")
RESULTS = ("succeed", "failed", "denied")
CSV_LIMIT = 50_000


def _unix(raw: str | None, end: bool = False) -> int | None:
    try:
        d = date.fromisoformat(raw) if raw else None
    except ValueError:
        return None
    return int(datetime.combine(d, time.max if end else time.min, tzinfo=timezone.utc).timestamp()) if d else None


def _category() -> str:
    return "admin" if request.args.get("category") == "admin" else "user"


def _filters(category: str) -> dict:
    f = {k: request.args.get(k).strip() for k in FILTERS if (request.args.get(k) or "").strip()}
    if category != "admin":
        f.pop("target_uid", None)
    f["from"], f["to"] = _unix(request.args.get("from")), _unix(request.args.get("to"), end=True)
    return f


def _allowed(category: str) -> bool:
    return policy.can(actor(), "activities.admin" if category == "admin" else "activities.read")


@bp.get("/activities")
@console_requires("activities.read")
def activities_index():
    category = _category()
    if not _allowed(category):
        return forbidden()
    error = None
    page_no, limit = int_arg(request.args, "page", 1, 1, 10**6), int_arg(request.args, "limit", 50, 1, 200)
    try:
        items, total = admin_activities.search(category, _filters(category), page_no, limit)
    except BarongError as err:
        items, total, error = [], 0, err.codes
    args = {k: request.args.get(k) for k in (*FILTERS, "from", "to", "category", "limit")}
    page = Page(items, total, page_no, limit, args)
    targets = admin_activities.targets_for(items) if category == "admin" else {}
    choices = _choices(category)
    return render_page_or_partial("console/activities/index.html", "console/activities/_table.html", page=page,
                                  category=category, args=request.args, results=RESULTS, targets=targets, error=error,
                                  choices=choices, oob_choices=is_htmx(), active="activities",
                                  verification=chain.last_verification())


def _choices(category: str) -> dict[str, list[str]]:
    """Topic/action choices: the values that exist (actions of the chosen topic), plus the
    requested value if it is not among them (a link's filter stays selected)."""
    out = admin_activities.filter_choices(category, (request.args.get("topic") or "").strip() or None)
    for name in ("topic", "action"):
        value = (request.args.get(name) or "").strip()
        if value and value not in out[name]:
            out[name] = [value, *out[name]]
    return out


@bp.get("/activities.csv")
@console_requires("activities.read")
def activities_csv():
    category = _category()
    if not _allowed(category):
        return forbidden()
    filters = _filters(category)
    query = admin_activities.search_query(category, filters).options(lazyload("*")).limit(CSV_LIMIT)
    audit("activities", "export csv", data={"category": category, **{k: v for k, v in filters.items() if v}})
    from barong.extensions import db
    from barong.models import User

    columns = ["id", "created_at", "category", "user_uid", "user_email", "target_uid", "topic", "action", "result",
               "user_ip", "user_ip_country", "user_agent", "data"]
    rows = query.all()
    users = {u.id: (u.uid, u.email) for u in db.session.query(User).options(lazyload("*"))
             .filter(User.id.in_({a.user_id for a in rows if a.user_id}))} if rows else {}
    # Plain values now: the body is streamed after the request committed and its session is
    # gone, so the generator must not touch an ORM row (DetachedInstanceError on gunicorn).
    lines = [[a.id, a.created_at.isoformat() + "Z", a.category] + [_safe(v or "") for v in (
        *users.get(a.user_id, ("", "")), a.target_uid, a.topic, a.action, a.result, a.user_ip,
        a.user_ip_country, a.user_agent, a.data)] for a in rows]
    del rows

    def generate():
        buf = io.StringIO()
        writer = csv.writer(buf)
        writer.writerow(columns)
        for line in lines:
            writer.writerow(line)
            if buf.tell() >= 64 * 1024:
                yield buf.getvalue()
                buf.seek(0)
                buf.truncate()
        yield buf.getvalue()

    name = f"barong-{category}-activities-{datetime.now(timezone.utc):%Y%m%d-%H%M%S}.csv"
    return Response(generate(), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


def _safe(value: str) -> str:
    """No spreadsheet formula injection from user-controlled text."""
    return "'" + value if value[:1] in ("=", "+", "-", "@") else value
