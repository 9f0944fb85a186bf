"""Dates as Barong's `type: Date` reads them (CONTRACT §3).

Grape coerces a `Date` parameter with Ruby's `Date.parse`, so clients (the OpenDAX front
end among them) send day-first dates: `dob: "02/01/1990"` is 2 January 1990. Accepted:

* ISO `YYYY-MM-DD` (optionally followed by a time, `1990-01-02T00:00:00Z`: the date part),
* day-first `DD/MM/YYYY`, `DD.MM.YYYY`, `DD-MM-YYYY` (one- or two-digit day and month).

Anything else — and impossible dates such as 31/02/2020 or 2020-13-01 — raises ValueError,
which each caller maps to its own error code. Responses always carry ISO dates.
"""
from __future__ import annotations

import re
from datetime import date

_ISO = re.compile(r"(\d{4})-(\d{2})-(\d{2})(?:[T ][0-9:.+\-Z]*)?")
_DAY_FIRST = re.compile(r"(\d{1,2})([/.\-])(\d{1,2})\2(\d{4})")


def parse_date(value) -> date:
    """`value` (a date, or a string in one of the forms above) → date; ValueError otherwise."""
    if isinstance(value, date):
        return value
    if not isinstance(value, str):
        raise ValueError("not a date")
    text = value.strip()
    m = _ISO.fullmatch(text)
    if m:
        year, month, day = m.group(1), m.group(2), m.group(3)
    else:
        m = _DAY_FIRST.fullmatch(text)
        if not m:
            raise ValueError("not a date")
        day, month, year = m.group(1), m.group(3), m.group(4)
    return date(int(year), int(month), int(day))  # ValueError for 31/02, month 13, year 0
