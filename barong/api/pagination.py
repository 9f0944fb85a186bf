"""Paginated responses with the `Total`, `Page`, `Per-Page` headers (CONTRACT §3)."""
from __future__ import annotations

from typing import Callable

from flask import jsonify


def paginate(query, page: int, limit: int):
    total = query.order_by(None).count()
    items = query.limit(limit).offset((page - 1) * limit).all()
    return items, total


def total_shown(count: int, page: int, limit: int) -> int | None:
    """The list's total when a page of `count` rows shows it — a short page that is not empty,
    or an empty first page, ends the list — else None (a COUNT is needed). Issue 18: most
    lists fit on one page, and the COUNT was a statement per request."""
    offset = (page - 1) * limit
    if 0 < count < limit or (offset == 0 and not count):
        return offset + count
    return None


def paginated_response(items, total: int, page: int, limit: int, serialize: Callable | None = None):
    response = jsonify([serialize(i) for i in items] if serialize else items)
    response.headers["Total"] = str(total)
    response.headers["Page"] = str(page)
    response.headers["Per-Page"] = str(limit)
    return response


def respond(query, p: dict, serialize: Callable):
    items, total = paginate(query, p["page"], p["limit"])
    return paginated_response(items, total, p["page"], p["limit"], serialize)
