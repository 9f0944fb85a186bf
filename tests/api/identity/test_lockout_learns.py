"""Lockout that learns (issue 15): after BARONG_LOGIN_MAX_TEMPORARY_LOCKS temporary locks the
next lock holds until an operator or a password reset lifts it; an address whose failures
named many accounts must pass the captcha (when one is configured); clean ones are not asked."""
from __future__ import annotations

import time

import pytest

from barong.extensions import db
from barong.models import KVEntry
from barong.services.accounts import identity
from barong.services.infra import unit_of_work
from barong.settings import settings
from tests.helpers import DEFAULT_PASSWORD

from .support import API, events_named, user_by_email

WRONG = "Wrong-Passw0rd-x"
DIRTY, CLEAN = "198.51.100.66", "203.0.113.77"


def login(client, email, password=DEFAULT_PASSWORD, ip=CLEAN, **extra):
    return client.post(f"{API}/sessions", json={"email": email, "password": password, **extra},
                       environ_base={"REMOTE_ADDR": ip})


@pytest.fixture
def lockout(app):
    from barong.services.access import rate_limits

    app.config.update(BARONG_RATELIMIT_ENABLED=True, BARONG_LOGIN_LOCKOUT_ATTEMPTS=2, BARONG_LOGIN_LOCKOUT_TIME=600,
                      BARONG_LOGIN_MAX_TEMPORARY_LOCKS=3, BARONG_LOGIN_DIRTY_IP_ACCOUNTS=3)
    rate_limits.reset()
    yield
    rate_limits.reset()


def _lock(client, email):
    for _ in range(2):
        login(client, email, WRONG)
    assert login(client, email).get_json() == {"errors": ["identity.session.locked"]}


def _let_the_lock_expire():
    for entry in db.session.query(KVEntry).filter(KVEntry.key.like("login_locked:%")):
        entry.expires_at = int(time.time()) - 1
    db.session.commit()


def test_the_fourth_temporary_lock_holds_until_unlocked(client, make_user, lockout, mailbox):
    user = make_user()
    for n in range(1, 4):  # three temporary locks, each lifted by time
        _lock(client, user.email)
        assert user_by_email(user.email).temporary_locks == n
        _let_the_lock_expire()
    _lock(client, user.email)  # the fourth
    locked = user_by_email(user.email)
    assert locked.locked_until == identity.PERMANENT_LOCK
    _let_the_lock_expire()
    assert login(client, user.email).get_json() == {"errors": ["identity.session.locked"]}  # time does not lift it
    assert events_named("system.user.account.locked")[-1]["record"]["permanent"] is True
    mail = [m for m in mailbox(user.email) if m["Subject"] == "Account locked"][-1]
    assert "until you reset your password" in mail.get_body(preferencelist=("plain",)).get_content()
    # the operator lifts it (and the security cooldown starts)
    from barong.services.operators import admin_users

    admin = make_user(role="superadmin")
    admin_users.unlock(user_by_email(user.email), actor=admin)
    unit_of_work.commit()
    assert login(client, user.email).status_code == 201
    fresh = user_by_email(user.email)
    assert fresh.temporary_locks == 0 and fresh.locked_until is None and fresh.security_cooldown_until is not None


def test_a_password_reset_lifts_the_permanent_lock(client, make_user, lockout):
    user = make_user()
    identity.lock_account(user_by_email(user.email), "test")
    unit_of_work.commit()
    assert login(client, user.email).get_json() == {"errors": ["identity.session.locked"]}
    identity.unlock(user_by_email(user.email))
    unit_of_work.commit()
    assert login(client, user.email).status_code == 201


def test_zero_keeps_the_original_behaviour(client, make_user, lockout, app):
    app.config["BARONG_LOGIN_MAX_TEMPORARY_LOCKS"] = 0
    user = make_user()
    for _ in range(5):
        _lock(client, user.email)
        _let_the_lock_expire()
    assert login(client, user.email).status_code == 201


def test_a_successful_login_resets_the_count(client, make_user, lockout):
    user = make_user()
    _lock(client, user.email)
    _let_the_lock_expire()
    assert login(client, user.email).status_code == 201
    assert user_by_email(user.email).temporary_locks == 0


@pytest.fixture
def captcha_on(recaptcha, monkeypatch):
    monkeypatch.setattr(settings(), "captcha_protected_endpoints", [])  # login itself not protected
    return recaptcha


def test_captcha_only_for_the_dirty_address(client, make_user, lockout, captcha_on):
    user = make_user()
    for i in range(3):  # one address, three different accounts
        assert login(client, f"victim{i}@example.com", WRONG, ip=DIRTY).status_code == 401
    resp = login(client, user.email, ip=DIRTY)
    assert resp.status_code == 400 and resp.get_json() == {"errors": ["identity.captcha.required"]}
    resp = login(client, user.email, ip=DIRTY, captcha_response="bad")
    assert resp.status_code == 422 and resp.get_json() == {"errors": ["identity.captcha.verification_failed"]}
    assert login(client, user.email, ip=DIRTY, captcha_response="good").status_code == 201
    client.cookie_jar.clear() if hasattr(client, "cookie_jar") else None
    captcha_on.requests.clear()
    assert login(client, user.email, ip=CLEAN).status_code == 201  # a clean address is not asked
    assert captcha_on.requests == []


def test_many_failures_on_one_account_do_not_make_an_address_dirty(client, make_user, lockout, captcha_on):
    user = make_user()
    login(client, user.email, WRONG, ip=DIRTY)
    _let_the_lock_expire()
    assert login(client, user.email, ip=DIRTY).status_code == 201


def test_no_captcha_configured_no_question(client, make_user, lockout):
    user = make_user()
    for i in range(4):
        login(client, f"victim{i}@example.com", WRONG, ip=DIRTY)
    assert identity.ip_is_dirty(DIRTY)
    assert login(client, user.email, ip=DIRTY).status_code == 201
