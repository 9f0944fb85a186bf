"""Activity-log queries for operators (admin API and console), and the audit record of
admin actions.

Audit policy (decided here, in one place): every admin *write* service
(`admin_users`, `comments`, `admin_api` views over permissions/restrictions/profiles)
calls `audit(actor, …)`. It writes one `admin` activity — actor, topic, action, target
uid, payload with secrets masked — unless

* the caller passed `audit=False`, or
* this request was already audited by the authz layer: the RBAC `AUDIT` permission
  (barong.authz) records admin API calls itself; then a second row would be a duplicate.

So API calls are audited once (by authz when an AUDIT row matches, else here), and
console actions — which never pass through authz — are always audited here.
"""
from __future__ import annotations

from datetime import datetime, timezone

from flask import g, has_request_context, request
from sqlalchemy.orm import joinedload, lazyload

from barong.errors import BarongError
from barong.extensions import db
from barong.models import Activity, User
from barong.services.audit import activities

CATEGORIES = ("user", "admin")
FILTERS = ("topic", "action", "uid", "email", "from", "to", "target_uid", "range", "result")


def already_audited() -> bool:
    """Was this request already recorded by the authz layer? True when it is an API call
    whose RBAC decision for the caller's role includes a matching AUDIT row
    (permissions.decide — the same cached decision authz took; the seeded operator roles
    AUDIT every POST/PUT/DELETE)."""
    if not has_request_context():
        return False
    caller = g.get("caller")
    if caller is None or not request.path.startswith("/api/"):
        return False
    from barong.services.access import permissions

    decision = permissions.decide(caller.account.role, request.method, request.path.lstrip("/"))
    return bool(decision.allowed and decision.audit)


def audit(actor, topic: str, action: str, target_uid: str | None = None, data: dict | None = None,
          result: str = "succeed", audit: bool = True) -> Activity | None:  # noqa: A002 - flag name
    """Record one admin activity for `actor` (see module docstring for when it is skipped).
    `data` is stored as JSON with secret-looking keys masked (activities.mask_secrets)."""
    if not audit or actor is None or already_audited():
        return None
    return activities.record_admin(actor, topic=topic, action=action, result=result, target_uid=target_uid,
                                   data=data)


def _ts(value) -> datetime:
    return datetime.fromtimestamp(int(value), tz=timezone.utc).replace(tzinfo=None)


def _int(filters: dict, name: str, scope: str):
    value = filters.get(name)
    if value in (None, ""):
        return None
    if isinstance(value, bool):
        raise BarongError(f"{scope}.non_integer_{name}", 422)
    try:
        return int(value)
    except (TypeError, ValueError):
        raise BarongError(f"{scope}.non_integer_{name}", 422) from None


def search_query(category: str, filters: dict | None = None, scope: str = "admin.activity"):
    """Query of `category` ('user' or 'admin') activities, newest first (id desc).

    Filters (all optional, exact match): topic, action, result, uid / email (the *acting*
    user), target_uid (admin only), from / to (unix seconds on created_at), range (admin
    only; `created` is the only value). Raises 422 `admin.activity.invalid_range`,
    `admin.activity.non_string_<p>`, `admin.activity.non_integer_<from|to>`.
    """
    if category not in CATEGORIES:
        raise BarongError(f"{scope}.invalid_category", 422)
    filters = dict(filters or {})
    errors = [f"{scope}.non_string_{p}" for p in ("topic", "action", "uid", "email", "target_uid")
              if filters.get(p) is not None and not isinstance(filters.get(p), str)]
    if errors:
        raise BarongError(errors, 422)
    if category == "admin" and filters.get("range") not in (None, "", "created"):
        raise BarongError(f"{scope}.invalid_range", 422)
    q = db.session.query(Activity).filter(Activity.category == category)
    for name in ("topic", "action", "result"):
        if filters.get(name):
            q = q.filter(getattr(Activity, name) == filters[name])
    if filters.get("uid") or filters.get("email"):
        users = db.session.query(User.id)
        if filters.get("uid"):
            users = users.filter(User.uid == filters["uid"])
        if filters.get("email"):
            users = users.filter(User.email_lower == str(filters["email"]).strip().lower())
        q = q.filter(Activity.user_id.in_(users.scalar_subquery()))
    if category == "admin" and filters.get("target_uid"):
        q = q.filter(Activity.target_uid == filters["target_uid"])
    start, end = _int(filters, "from", scope), _int(filters, "to", scope)
    if start is not None:
        q = q.filter(Activity.created_at >= _ts(start))
    if end is not None:
        q = q.filter(Activity.created_at <= _ts(end))
    return q.options(joinedload(Activity.user).lazyload(User.labels)).order_by(Activity.id.desc())


def search(category: str, filters: dict | None = None, page: int = 1, limit: int = 100):
    """`(items, total)` for one page of `search_query`."""
    q = search_query(category, filters)
    total = q.order_by(None).options(lazyload("*")).count()
    items = q.limit(limit).offset((max(page, 1) - 1) * limit).all()
    return items, total


#: distinct (topic, action) pairs per category, for the console's filter choices: one
#: DISTINCT query per category at most every CHOICES_TTL seconds per process
CHOICES_TTL = 60
_choices: dict[str, tuple[float, list[tuple[str, str]]]] = {}


def _clear_choices() -> None:
    _choices.clear()


def filter_choices(category: str, topic: str | None = None) -> dict[str, list[str]]:
    """`{"topic": [...], "action": [...]}` — the values that exist in the activity table for
    `category` (sorted); actions only of `topic` when one is given. Cached briefly."""
    import time

    from barong.services.infra import caches

    caches.register(_clear_choices)
    hit = _choices.get(category)
    if hit is None or time.monotonic() - hit[0] > CHOICES_TTL:
        pairs = [(t or "", a or "") for t, a in db.session.query(Activity.topic, Activity.action)
                 .filter(Activity.category == category).distinct()]
        hit = _choices[category] = (time.monotonic(), pairs)
    pairs = hit[1]
    topics = sorted({t for t, _ in pairs if t})
    actions = sorted({a for t, a in pairs if a and (not topic or t == topic)})
    return {"topic": topics, "action": actions}


def targets_for(rows) -> dict[str, User]:
    """`{target_uid: User}` for a page of admin activities, in one query."""
    uids = {a.target_uid for a in rows if a.target_uid}
    if not uids:
        return {}
    users = db.session.query(User).options(lazyload(User.labels)).filter(User.uid.in_(uids)).all()
    return {u.uid: u for u in users}
