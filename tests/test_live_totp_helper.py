"""tests/live/harness.Totp: every code it hands out is still accepted a few seconds later by a
server that takes the previous, current and next 30 s step (the live suites' 2FA flows were
flaky when a previous-step code was handed out in the last second of a step)."""
from __future__ import annotations

import pyotp
import pytest

from tests.live import harness

SECRET = pyotp.random_base32()


@pytest.mark.parametrize("offset", [0.0, 1.0, 15.0, 26.5, 27.5, 29.0, 29.9])
def test_codes_stay_valid_across_the_step_boundary(monkeypatch, offset):
    clock = [30 * 1_000_000 + offset]
    monkeypatch.setattr(harness.time, "time", lambda: clock[0])
    monkeypatch.setattr(harness.time, "sleep", lambda s: clock.__setitem__(0, clock[0] + s))
    totp, server = harness.Totp(SECRET), pyotp.TOTP(SECRET)
    seen = set()
    for _ in range(4):
        code = totp.next_code()
        clock[0] += 2.5  # the request reaches the server a little later
        step = totp.last_step
        assert step not in seen  # single use per step
        seen.add(step)
        assert server.verify(code, for_time=clock[0], valid_window=1), (offset, step)
