"""Fixtures for the end-user site's form tests."""
from __future__ import annotations

import pytest

from tests.browser.support import TotpClock

HX = {"HX-Request": "true"}


@pytest.fixture
def totp(monkeypatch):
    """`totp(user)`: a fresh TOTP code for `user` (the server's clock moves on 30 s per code,
    since a code works once per time step)."""
    clock = TotpClock().install(monkeypatch)

    def next_code(user) -> str:
        from barong.services.accounts import otp

        return clock.next_code(otp.secret_for(user))

    return next_code


@pytest.fixture
def signed_in(client, make_user):
    """`signed_in(**make_user_kwargs)` → a user whose session cookie is on `client`."""
    from tests.helpers import login_as

    def factory(**kwargs):
        user = make_user(**kwargs)
        login_as(client, user, otp_code=kwargs.get("_otp_code"))
        return user

    return factory
