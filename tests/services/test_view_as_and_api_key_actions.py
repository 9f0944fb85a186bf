"""operators.view_as (the read-only view's mark and audit) and support_actions'
API-key actions, without a client."""
from __future__ import annotations

import json
import time

import pytest

from barong.errors import BarongError
from barong.extensions import db
from barong.models import Activity, APIKey
from barong.services.accounts import api_keys
from barong.services.infra import kv, unit_of_work
from barong.services.operators import support_actions, view_as


def _admin_rows(actor):
    db.session.flush()
    return db.session.query(Activity).filter_by(category="admin", user_id=actor.id).order_by(Activity.id).all()


def test_a_view_is_per_session_ends_and_is_audited(make_user, monkeypatch):
    support, user = make_user(role="support"), make_user()
    view = view_as.start(support, user, "session-a")
    assert view.uid == user.uid and 0 < view.ends_at - time.time() <= view_as.VIEW_SECONDS
    assert view_as.current("session-a") == view
    assert view_as.current("session-b") is None and view_as.current(None) is None and view_as.current("") is None
    # the mark names no session in clear
    assert kv.get("view_as:session-a") is None
    real = time.time
    monkeypatch.setattr(view_as.time, "time", lambda: real() + view_as.VIEW_SECONDS + 1)
    assert view_as.current("session-a") is None
    monkeypatch.setattr(view_as.time, "time", real)
    assert view_as.leave(support, "session-a") == view
    assert view_as.current("session-a") is None and view_as.leave(support, "session-a") is None
    assert [r.action for r in _admin_rows(support)] == ["start view as user", "leave view as user"]


def test_start_needs_the_ability_a_session_and_respects_superadmins(make_user):
    user, boss = make_user(), make_user(role="superadmin")
    with pytest.raises(BarongError) as err:
        view_as.start(make_user(role="compliance"), user, "s")
    assert err.value.status == 401 and err.value.codes == ["admin.ability.not_permitted"]
    with pytest.raises(BarongError) as err:
        view_as.start(make_user(role="admin"), boss, "s")
    assert err.value.codes == ["admin.user.superadmin_change"]
    with pytest.raises(BarongError) as err:
        view_as.start(make_user(role="admin"), user, "")
    assert err.value.codes == ["admin.view_as.no_session"]
    view_as.start(make_user(role="superadmin"), boss, "s2")  # a superadmin may


def test_record_page_and_refused(make_user):
    support, user = make_user(role="support"), make_user()
    view_as.record_page(support, user, "sessions")
    view_as.record_refused(support, user, "password_change", "POST")
    rows = _admin_rows(support)
    assert [(r.action, r.result, r.target_uid, json.loads(r.data)) for r in rows] == [
        ("view as user", "succeed", user.uid, {"page": "sessions"}),
        ("view as user", "denied", user.uid, {"page": "password_change", "method": "POST"})]


def test_disable_and_delete_api_key(make_user):
    admin, user = make_user(role="admin"), make_user(otp=True)
    key, secret = api_keys.create(user, "HS384", scope="trade", require_otp=False)
    unit_of_work.commit()
    assert support_actions.disable_api_key(user, key.kid, actor=admin).state == "inactive"
    with pytest.raises(BarongError) as err:
        support_actions.disable_api_key(user, key.kid, actor=admin)
    assert (err.value.status, err.value.codes) == (422, ["admin.apikey.not_active"])
    support_actions.delete_api_key(user, key.kid, actor=admin)
    assert db.session.query(APIKey).filter_by(kid=key.kid).first() is None
    rows = _admin_rows(admin)
    assert [r.action for r in rows] == ["disable api key", "delete api key"]
    assert json.loads(rows[1].data) == {"kid": key.kid, "algorithm": "HS384", "scope": ["trade"],
                                        "state": "inactive"}
    assert all(secret not in r.data for r in rows)
    with pytest.raises(BarongError) as err:
        support_actions.delete_api_key(user, key.kid, actor=admin)
    assert (err.value.status, err.value.codes) == (404, ["admin.apikey.doesnt_exist"])


@pytest.mark.parametrize("role,fn,allowed", [
    ("technical", "disable_api_key", True), ("technical", "delete_api_key", True),
    ("support", "disable_api_key", False), ("compliance", "delete_api_key", False),
    ("accountant", "disable_api_key", False),
])
def test_api_key_abilities(make_user, role, fn, allowed):
    actor, user = make_user(role=role), make_user(otp=True)
    key, _ = api_keys.create(user, "HS256", require_otp=False)
    unit_of_work.commit()
    if allowed:
        getattr(support_actions, fn)(user, key.kid, actor=actor)
    else:
        with pytest.raises(BarongError) as err:
            getattr(support_actions, fn)(user, key.kid, actor=actor)
        assert err.value.codes == ["admin.ability.not_permitted"]
        assert db.session.query(APIKey).filter_by(kid=key.kid).one().state == "active"


def test_a_view_in_redis_expires_with_its_ttl(app, make_user):
    """With BARONG_REDIS_URL the mark lives in Redis, with the view's TTL."""
    import secrets

    from tests.services.test_sessions import REDIS_URL, _redis_or_skip

    _redis_or_skip()
    app.config["BARONG_REDIS_URL"] = REDIS_URL
    app.extensions.pop("barong_redis", None)
    try:
        support, user = make_user(role="support"), make_user()
        sid = "test-" + secrets.token_hex(8)
        view_as.start(support, user, sid)
        assert view_as.current(sid).uid == user.uid
        r = kv._redis()
        ttl = r.ttl("barong:kv:" + view_as._key(sid))
        assert 0 < ttl <= view_as.VIEW_SECONDS
        view_as.leave(support, sid)
        assert view_as.current(sid) is None and r.get("barong:kv:" + view_as._key(sid)) is None
    finally:
        app.extensions.pop("barong_redis", None)
