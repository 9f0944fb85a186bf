"""Raw input every layer shares (parameters, the authz audit, the management gate):
JSON that is really JSON, and text a database can store (issue 13, item 12)."""
from __future__ import annotations

import json


def _no_constant(name):
    raise ValueError(f"{name} is not JSON")


def loads_json(text: str):
    """json.loads that refuses what is not JSON — NaN/Infinity, nesting deep enough to
    exhaust the stack (100,000 brackets) — with ValueError, so every caller answers 400."""
    try:
        return json.loads(text, parse_constant=_no_constant)
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None


def clean_text(value: str) -> str:
    """`value`, or ValueError when it cannot be stored as text: a NUL byte (PostgreSQL
    refuses it) or a lone surrogate from a JSON `\\ud800` escape (not UTF-8)."""
    if "\x00" in value:
        raise ValueError("NUL byte")
    value.encode("utf-8")  # UnicodeEncodeError is a ValueError
    return value


def storable(value: str, limit: int | None = None) -> str:
    """`value` made storable instead of refused (audit records must never fail): NUL bytes
    and lone surrogates replaced by U+FFFD, cut to `limit` characters."""
    value = value.replace("\x00", "\ufffd").encode("utf-8", "replace").decode("utf-8")
    return value[:limit] if limit else value
