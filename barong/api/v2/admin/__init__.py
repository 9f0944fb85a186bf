"""`/api/v2/barong/admin/…`: operators' JSON API (reference/admin.md).

Every view is guarded by `@api_auth` (session cookie / API key / Bearer JWT, then the
RBAC permission table) and then by the caller's admin abilities (`@ability`, after
parameter validation, as in Barong: 401 `admin.ability.not_permitted`). Domain rules,
guards and the audit record live in the services (admin_users, comments, …), shared
with the operator console.
"""
from __future__ import annotations

import functools

from flask import Blueprint, g

from barong.api.params import Param
from barong.services.access import abilities as ability_rules

bp = Blueprint("admin_api", __name__)


def nonblank(name: str, type_=str, **kw) -> Param:
    """An optional param that may not be blank when given (Grape `optional … allow_blank: false`)."""
    return Param(name, type_, allow_blank=False, **kw)


def ability(action: str, subject: str):
    """Refuse (401 `admin.ability.not_permitted`) callers whose role lacks `action` on `subject`."""

    def decorator(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            # the role decides (the cached account's under `@api_auth(load_entity=False)`: no ORM load)
            ability_rules.authorize(g.current_user, action, subject)
            return view(*args, **kwargs)

        return wrapper

    return decorator


def page_and_total(query, page: int, limit: int):
    """`(rows, total)` of one page of `query` (one table, or many-to-one joins: a row per item);
    the COUNT only when the page does not show the total (barong.api.pagination.total_shown)."""
    from barong.api.pagination import total_shown

    items = query.limit(limit).offset((page - 1) * limit).all()
    total = total_shown(len(items), page, limit)
    return items, query.order_by(None).count() if total is None else total


def respond(query, p: dict, serialize):
    """barong.api.pagination.respond with `page_and_total`."""
    from barong.api.pagination import paginated_response

    items, total = page_and_total(query, p["page"], p["limit"])
    return paginated_response(items, total, p["page"], p["limit"], serialize)


from barong.api.v2.admin import (  # noqa: E402,F401
    abilities as abilities_views,
)
from barong.api.v2.admin import (
    activities,
    api_keys,
    comments,
    labels,
    levels,
    metrics,
    permissions,
    profiles,
    restrictions,
    support,
    users,
)
from barong.api.v2.admin import webhooks as webhooks_views  # noqa: E402,F401  (issue 17)
from barong.api.v2.admin import document_review as document_review_views  # noqa: E402,F401  (issue 14)
from barong.api.v2.admin import approvals as approvals_views  # noqa: E402,F401  (issue 17: four-eyes)
from barong.api.v2.admin import authz_explain as authz_explain_views  # noqa: E402,F401  (issue 17)
from barong.api.v2.admin import pii as pii_views  # noqa: E402,F401  (issue 17: PII reveals)
