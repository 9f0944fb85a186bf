"""Paginated responses with the `Total`, `Page`, `Per-Page` headers (CONTRACT §3)."""
from __future__ import annotations

from typing import Callable

from flask import jsonify


def paginate(query, page: int, limit: int):
    total = query.order_by(None).count()
    items = query.limit(limit).offset((page - 1) * limit).all()
    return items, total


def paginated_response(items, total: int, page: int, limit: int, serialize: Callable | None = None):
    response = jsonify([serialize(i) for i in items] if serialize else items)
    response.headers["Total"] = str(total)
    response.headers["Page"] = str(page)
    response.headers["Per-Page"] = str(limit)
    return response


def respond(query, p: dict, serialize: Callable):
    items, total = paginate(query, p["page"], p["limit"])
    return paginated_response(items, total, p["page"], p["limit"], serialize)
