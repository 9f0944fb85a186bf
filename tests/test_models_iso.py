"""barong.models.iso: its fast path (naive datetimes, years from 1000) writes exactly what
strftime("%Y-%m-%dT%H:%M:%SZ") of the second did."""
from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

from barong.models import iso


def _reference(value):
    return value.replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_iso_is_strftime_of_the_second():
    rng = random.Random(18)
    start = datetime(1000, 1, 1)
    values = [datetime(2024, 3, 1, 12, 30, 45), datetime(2024, 3, 1, 12, 30, 45, 999999),
              datetime(1999, 12, 31, 23, 59, 59, 1), datetime(1000, 1, 1), datetime(9999, 12, 31, 23, 59, 59, 999999),
              datetime(2024, 2, 29, 0, 0, 0, 500000)]
    values += [start + timedelta(seconds=rng.randrange(0, 9000 * 365 * 86400), microseconds=rng.randrange(10**6))
               for _ in range(2000)]
    for value in values:
        assert iso(value) == _reference(value), value


def test_aware_and_early_values_keep_strftime():
    aware = datetime(2024, 3, 1, 12, 30, 45, 7, tzinfo=timezone(timedelta(hours=3)))
    assert iso(aware) == "2024-03-01T12:30:45Z" == _reference(aware)  # the clock fields, as before
    early = datetime(999, 5, 6, 7, 8, 9)
    assert iso(early) == _reference(early)
    assert iso(None) is None
