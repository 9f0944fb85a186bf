"""Helpers shared by the management endpoints."""
from __future__ import annotations

from datetime import datetime, timezone

from barong.api.params import UNIX_SECONDS, Param
from barong.errors import BarongError, NotFound
from barong.services.accounts import users

RANGE = Param("range", values=("created", "updated"), default="created",
              description="which timestamp `from`/`to` filter on: created or updated")
FROM = Param("from", int, description="unix seconds; only records at or after this time",
             minimum=UNIX_SECONDS[0], maximum=UNIX_SECONDS[1])
TO = Param("to", int, description="unix seconds; only records at or before this time",
           minimum=UNIX_SECONDS[0], maximum=UNIX_SECONDS[1])
EXTENDED = Param("extended", bool, default=False, description="when true, full information about users")


def epoch(value: int) -> datetime:
    try:
        return datetime.fromtimestamp(value, timezone.utc).replace(tzinfo=None)
    except (OverflowError, OSError, ValueError):
        raise BarongError("management.invalid_time_range", 422) from None


def time_window(query, column_created, column_updated, p: dict):
    column = column_updated if p.get("range") == "updated" else column_created
    if p.get("from") is not None:
        query = query.filter(column >= epoch(p["from"]))
    if p.get("to") is not None:
        query = query.filter(column <= epoch(p["to"]))
    return query


def user_or_404(uid: str):
    user = users.by_uid(uid)
    if user is None:
        raise NotFound()
    return user


def user_or_422(uid: str):
    user = users.by_uid(uid)
    if user is None:
        raise BarongError("user.doesnt_exist", 422)
    return user
