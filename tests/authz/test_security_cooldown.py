"""Security-change cooldown (issue 15): after a security change the user carries the private
label `security: cooldown`; the seeds' DROP rows of the pseudo-role `security_cooldown` refuse
withdrawal paths at the gateway (403 authz.security_cooldown) until the cooldown ends."""
from __future__ import annotations

import time

import pytest

from barong.extensions import db
from barong.models import Activity, Label, OutboxEvent, User
from barong.services.accounts import cooldown, identity
from barong.services.infra import unit_of_work
from tests.helpers import DEFAULT_PASSWORD, login_as

from .support import auth, signed

WITHDRAW = "api/v2/peatio/account/withdraws"
BALANCES = "api/v2/peatio/account/balances"
NEW = "N3w-Passw0rd-for-cooldown"


def _labels(uid):
    db.session.expire_all()
    user = db.session.query(User).filter_by(uid=uid).one()
    return {(l.key, l.value, l.scope) for l in user.labels}, user


@pytest.fixture
def long_sessions(app):
    app.config["BARONG_SESSION_EXPIRE_TIME"] = 10 * 86400  # the faked clock jumps a day ahead


def change_password(client, csrf):
    return client.put("/api/v2/barong/resource/users/password", headers={"X-CSRF-Token": csrf},
                      json={"old_password": DEFAULT_PASSWORD, "new_password": NEW, "confirm_password": NEW})


def test_password_change_drops_withdrawals_until_the_cooldown_ends(client, make_user, long_sessions, monkeypatch):
    user = make_user()
    csrf = login_as(client, user)
    assert auth(client, "POST", WITHDRAW, headers={"X-CSRF-Token": csrf}).status_code == 200
    assert change_password(client, csrf).status_code == 201
    labels, fresh = _labels(user.uid)
    assert ("security", "cooldown", "private") in labels
    assert fresh.security_cooldown_until is not None
    assert db.session.query(OutboxEvent).filter_by(name="model.label.created").filter(
        OutboxEvent.payload.like('%"cooldown"%')).count() == 1

    resp = auth(client, "POST", WITHDRAW, headers={"X-CSRF-Token": csrf})
    assert resp.status_code == 403
    assert resp.get_json() == {"errors": ["authz.security_cooldown"]}
    assert "Authorization" not in resp.headers
    assert auth(client, "GET", WITHDRAW).status_code == 403  # every verb of the path
    assert auth(client, "GET", BALANCES).status_code == 200  # the rest of the account works
    denied = db.session.query(Activity).filter_by(user_id=user.id, category="admin", result="denied").all()
    assert denied and denied[-1].topic == "security_cooldown"

    real = time.time
    monkeypatch.setattr(time, "time", lambda: real() + 86400 + 5)  # a day later
    assert auth(client, "POST", WITHDRAW, headers={"X-CSRF-Token": csrf}).status_code == 200
    monkeypatch.setattr(time, "time", real)


def test_api_keys_of_the_user_are_held_too(client, make_user, make_api_key):
    user = make_user(otp=True)
    key, secret = make_api_key(user)
    assert auth(client, "POST", WITHDRAW, headers=signed(key.kid, secret)).status_code == 200
    cooldown.start(db.session.get(User, user.id), "2fa reset")
    unit_of_work.commit()
    resp = auth(client, "POST", WITHDRAW, headers=signed(key.kid, secret))
    assert resp.get_json() == {"errors": ["authz.security_cooldown"]}


@pytest.mark.parametrize("change", ["password reset", "operator unlock", "2fa disable", "email change"])
def test_each_security_change_starts_it(app, make_user, change):
    from barong.services.accounts import otp
    from barong.services.operators import admin_users
    from tests.helpers import totp_now

    user = make_user(otp=True)
    admin = make_user(role="superadmin")
    if change == "password reset":
        identity.request_password_reset(user.email, identity.RequestInfo("127.0.0.1", "pytest"))
        unit_of_work.commit()
        from barong.security import tokens
        from barong.services.infra import kv

        reset_token = kv.get(f"reset_password_{identity.email_key(user.email)}")
        token = tokens.issue("reset", 3600, email=user.email, uid=user.uid, reset_token=reset_token)
        identity.reset_password(token, NEW, NEW, identity.RequestInfo("127.0.0.1", "pytest"))
    elif change == "operator unlock":
        admin_users.unlock(db.session.get(User, user.id), actor=admin)
    elif change == "2fa disable":
        otp.disable(db.session.get(User, user.id), totp_now(user), identity.RequestInfo("127.0.0.1", "pytest"))
    else:
        admin_users.update(db.session.get(User, user.id), email="changed-" + user.email, actor=admin)
    unit_of_work.commit()
    labels, fresh = _labels(user.uid)
    assert ("security", "cooldown", "private") in labels
    assert cooldown.active(fresh)
    assert db.session.query(Activity).filter_by(user_id=user.id, topic="security", action="cooldown").count() == 1


def test_the_sweeper_removes_the_label_when_it_ends(app, make_user):
    user = make_user()
    cooldown.start(db.session.get(User, user.id), "password change")
    unit_of_work.commit()
    assert cooldown.sweep() == 0  # not over yet
    fresh = db.session.get(User, user.id)
    fresh.security_cooldown_until = fresh.security_cooldown_until.replace(year=2000)
    unit_of_work.commit()
    runner = app.test_cli_runner()
    result = runner.invoke(args=["security", "expire-cooldowns"])
    assert result.output.strip() == "expired 1", result.output
    labels, fresh = _labels(user.uid)
    assert ("security", "cooldown", "private") not in labels
    assert fresh.security_cooldown_until is None
    assert db.session.query(Label).filter_by(user_id=user.id, key="security").count() == 0


def test_lazily_removed_at_the_next_login(client, make_user):
    user = make_user()
    cooldown.start(db.session.get(User, user.id), "password change")
    fresh = db.session.get(User, user.id)
    fresh.security_cooldown_until = fresh.security_cooldown_until.replace(year=2000)
    unit_of_work.commit()
    login_as(client, user)
    labels, fresh = _labels(user.uid)
    assert ("security", "cooldown", "private") not in labels and fresh.security_cooldown_until is None


def test_zero_disables_it(app, make_user, client):
    app.config["BARONG_SECURITY_COOLDOWN"] = 0
    user = make_user()
    csrf = login_as(client, user)
    assert change_password(client, csrf).status_code == 201
    labels, fresh = _labels(user.uid)
    assert ("security", "cooldown", "private") not in labels and fresh.security_cooldown_until is None


def test_the_pseudo_role_is_no_role(app, make_user):
    from barong.errors import ValidationError
    from barong.services.operators import admin_users

    user, admin = make_user(), make_user(role="superadmin")
    with pytest.raises(ValidationError):
        admin_users.change_role(user, cooldown.COOLDOWN_ROLE, actor=admin)


def test_the_events_dispatcher_sweeps_them(app, make_user):
    """The dispatcher's once-a-minute pass runs the sweeper too."""
    from barong.events.dispatcher import Dispatcher

    user = make_user()
    cooldown.start(db.session.get(User, user.id), "password change")
    fresh = db.session.get(User, user.id)
    fresh.security_cooldown_until = fresh.security_cooldown_until.replace(year=2000)
    unit_of_work.commit()
    dispatcher = Dispatcher.__new__(Dispatcher)  # no broker needed for this pass
    dispatcher.app = app
    assert dispatcher.expire_cooldowns() == 1
    labels, fresh = _labels(user.uid)
    assert ("security", "cooldown", "private") not in labels
