"""The per-process cache of the callers' accounts (barong.authz.account_cache): session
cookie lookups and API-key holders. A hit decides as a fresh read would; revocations and
changes of what the JWT carries drop it at once in this process and, through the
generation file, in the other workers.

"Behind the cache" below means a Core statement with no ORM hooks, standing in for a
change made by another worker whose generation bump has not been seen yet."""
from __future__ import annotations

import time
from pathlib import Path

import jwt
import pytest

from barong.authz import account_cache, process_cache
from barong.extensions import db
from barong.models import SessionRecord, User
from barong.services.accounts import sessions
from tests.helpers import login_as, logout
from tests.services.test_sessions import store  # noqa: F401  (the database/redis fixture)

from .support import ME, auth, signed


def _claims(resp) -> dict:
    assert resp.status_code == 200, resp.get_json()
    return jwt.decode(resp.headers["Authorization"].split(" ", 1)[1], options={"verify_signature": False})


def _warm(client, user) -> dict:
    login_as(client, user)
    return _claims(auth(client, "GET", ME))


def _delete_sessions_behind_the_cache() -> None:
    db.session.execute(SessionRecord.__table__.delete())
    db.session.commit()


def _generation_file(app) -> Path:
    return Path(app.config["BARONG_INSTANCE_PATH"]) / "accounts_cache_generation"


def _cookie(client) -> tuple[str, str]:
    name = client.application.config["BARONG_SESSION_NAME"]
    return name, client.get_cookie(name).value


def _stamp(app) -> int:
    """The accounts channel's generation-file stamp (0 before the first invalidation)."""
    path = _generation_file(app)
    return path.stat().st_mtime_ns if path.exists() else 0


def test_a_hit_reads_nothing_until_another_worker_bumps(client, make_user):
    _warm(client, make_user())
    _delete_sessions_behind_the_cache()
    assert auth(client, "GET", ME).status_code == 200  # served from this worker's cache
    process_cache.bump(process_cache.ACCOUNTS)  # the other worker's invalidation reaches us
    assert auth(client, "GET", ME).get_json() == {"errors": ["authz.invalid_session"]}


def test_logout_revokes_a_cached_session_at_once(client, make_user):
    _warm(client, make_user())
    name, value = _cookie(client)
    assert logout(client).status_code == 204
    client.set_cookie(name, value)  # a stolen copy of the cookie, replayed after the logout
    assert auth(client, "GET", ME).get_json() == {"errors": ["authz.invalid_session"]}


def test_a_revocation_stamps_the_generation_file_for_the_other_workers(client, make_user, app):
    user = make_user()
    _warm(client, user)
    before = _stamp(app)
    sessions.invalidate_all(user.uid)
    db.session.commit()
    assert _stamp(app) > before
    assert auth(client, "GET", ME).get_json() == {"errors": ["authz.invalid_session"]}


@pytest.mark.parametrize("column,value,claim", [
    ("role", "admin", "role"), ("email", "renamed@example.com", "email"), ("level", 3, "level"),
    ("username", "renamed", "username"),
])
def test_a_change_of_what_the_jwt_carries_is_seen_at_once(client, make_user, column, value, claim):
    user = make_user()
    assert _warm(client, user)[claim] != value
    setattr(user, column, value)
    db.session.commit()
    assert _claims(auth(client, "GET", ME))[claim] == value


def test_a_ban_of_a_cached_user(client, make_user):
    user = make_user()
    _warm(client, user)
    user.state = "banned"
    db.session.commit()
    assert auth(client, "GET", ME).get_json() == {"errors": ["authz.user_not_active"]}


def test_deleting_a_cached_user(client, make_user):
    user = make_user()
    _warm(client, user)
    db.session.delete(db.session.get(User, user.id))
    db.session.commit()
    assert auth(client, "GET", ME).get_json() == {"errors": ["authz.invalid_session"]}


def test_other_user_columns_keep_the_cache(client, make_user, app):
    """A login's bookkeeping (failed_logins, claims of a KYC review…) is no reason to drop every session."""
    user = make_user()
    _warm(client, user)
    before = _stamp(app)
    user.failed_logins = 2
    db.session.commit()
    assert _stamp(app) == before
    _delete_sessions_behind_the_cache()
    assert auth(client, "GET", ME).status_code == 200


def test_a_permission_edit_keeps_the_cached_sessions(client, make_user, app):
    """The permission table is on the "authz" channel: editing it re-reads permissions, not every session."""
    from barong.services.access import permissions

    _warm(client, make_user())
    before = _stamp(app)
    permissions.create("member", "GET", "api/v2/barong/resource/users", "DROP")
    db.session.commit()
    assert _stamp(app) == before
    _delete_sessions_behind_the_cache()
    assert auth(client, "GET", ME).get_json() == {"errors": ["authz.invalid_permission"]}  # new rule, cached session


def test_client_session_mismatch_on_a_cached_session(client, make_user):
    _warm(client, make_user())
    name, value = _cookie(client)
    resp = auth(client, "GET", ME, headers={"User-Agent": "another agent"})
    assert resp.get_json() == {"errors": ["authz.client_session_mismatch"]}
    assert db.session.query(SessionRecord).count() == 0
    client.set_cookie(name, value)  # the response cleared it; the owner's browser still sends it
    assert auth(client, "GET", ME).get_json() == {"errors": ["authz.invalid_session"]}


def test_a_mismatch_stamps_again_after_its_early_commit(client, make_user, monkeypatch):
    """The 401 rolls back and drops the request's after-commit hooks; the session was
    deleted by a commit before that, and the other workers hear of it after that commit too."""
    _warm(client, make_user())
    bumps = []
    real = process_cache.bump
    monkeypatch.setattr(process_cache, "bump", lambda channel="authz": (bumps.append(channel), real(channel)))
    assert auth(client, "GET", ME, headers={"User-Agent": "another agent"}).status_code == 401
    assert bumps.count(process_cache.ACCOUNTS) == 2  # at the delete, and after the commit


def test_a_session_due_for_its_touch_is_read_again(client, make_user, clock):
    _warm(client, make_user())
    _delete_sessions_behind_the_cache()
    clock.advance(sessions.TOUCH_INTERVAL)
    assert auth(client, "GET", ME).get_json() == {"errors": ["authz.invalid_session"]}


def test_the_touch_is_written_and_kept_in_the_entry(client, make_user, clock, app):
    user = make_user()
    _warm(client, user)
    clock.advance(sessions.TOUCH_INTERVAL + 1)
    assert auth(client, "GET", ME).status_code == 200
    row = db.session.query(SessionRecord).filter_by(uid=user.uid).one()
    assert abs(row.expire_time - (time.time() + app.config["BARONG_SESSION_EXPIRE_TIME"])) < 3
    _delete_sessions_behind_the_cache()
    assert auth(client, "GET", ME).status_code == 200  # the refreshed entry is not due again


def test_entries_expire_after_the_ttl(client, make_user, monkeypatch):
    """The backstop for workers on other hosts, which share no generation file."""
    _warm(client, make_user())
    _delete_sessions_behind_the_cache()
    real = time.monotonic
    monkeypatch.setattr(time, "monotonic", lambda: real() + account_cache.TTL)
    assert auth(client, "GET", ME).get_json() == {"errors": ["authz.invalid_session"]}


def test_unknown_cookies_are_not_kept(client, app):
    for n in range(5):
        client.set_cookie(app.config["BARONG_SESSION_NAME"], f"forged-{n}")
        assert auth(client, "GET", ME).get_json() == {"errors": ["authz.invalid_session"]}
    assert account_cache._sessions._entries == {}


def test_a_cached_session_is_a_copy_per_request(client, make_user):
    """The touch mutates the request's SessionData; the cached entry must not change with it."""
    user = make_user()
    _warm(client, user)
    _, value = _cookie(client)
    first, _ = account_cache.session(value, lambda: pytest.fail("read the store"))
    first.expire_time = 0
    second, _ = account_cache.session(value, lambda: pytest.fail("read the store"))
    assert second.expire_time > time.time()


def test_revocation_in_each_store(store, client, make_user):  # noqa: F811
    user = make_user()
    _warm(client, user)
    sessions.invalidate_all(user.uid)
    db.session.commit()
    assert auth(client, "GET", ME).get_json() == {"errors": ["authz.invalid_session"]}
    login_as(client, user)
    assert auth(client, "GET", ME).status_code == 200
    name, value = _cookie(client)
    assert logout(client).status_code == 204
    client.set_cookie(name, value)
    assert auth(client, "GET", ME).get_json() == {"errors": ["authz.invalid_session"]}


def test_channels_are_separate(app):
    """A logout does not drop the permission table (nor a permission edit every session)."""
    authz_file = Path(app.config["BARONG_INSTANCE_PATH"]) / "authz_cache_generation"
    process_cache.bump(process_cache.AUTHZ)
    process_cache.bump(process_cache.ACCOUNTS)
    authz_before, sessions_before = authz_file.stat().st_mtime_ns, _generation_file(app).stat().st_mtime_ns
    process_cache.bump(process_cache.ACCOUNTS)
    assert authz_file.stat().st_mtime_ns == authz_before
    assert _generation_file(app).stat().st_mtime_ns > sessions_before


# ---- API-key holders ------------------------------------------------------------------------

BALANCES = "api/v2/peatio/account/balances"


def _warm_key(client, make_api_key, holder) -> dict:
    key, secret = make_api_key(holder)
    headers = signed(key.kid, secret)
    assert auth(client, "GET", BALANCES, headers=headers).status_code == 200
    return headers


def test_a_cached_holder_reads_nothing_until_another_worker_bumps(client, make_user, make_api_key):
    holder = make_user(otp=True)
    headers = _warm_key(client, make_api_key, holder)
    db.session.execute(User.__table__.update().where(User.__table__.c.id == holder.id).values(state="banned"))
    db.session.commit()  # behind the cache
    assert auth(client, "GET", BALANCES, headers=headers).status_code == 200
    process_cache.bump(process_cache.ACCOUNTS)
    assert auth(client, "GET", BALANCES, headers=headers).get_json() == {"errors": ["authz.invalid_session"]}


@pytest.mark.parametrize("column,value,error", [
    ("state", "banned", "authz.invalid_session"), ("otp", False, "authz.disabled_2fa")])
def test_a_holder_change_is_seen_at_once(client, make_user, make_api_key, column, value, error):
    holder = make_user(otp=True)
    headers = _warm_key(client, make_api_key, holder)
    setattr(holder, column, value)
    db.session.commit()
    assert auth(client, "GET", BALANCES, headers=headers).get_json() == {"errors": [error]}


def test_a_holder_role_change_reaches_the_jwt(client, make_user, make_api_key):
    holder = make_user(otp=True)
    headers = _warm_key(client, make_api_key, holder)
    holder.role = "trader"
    db.session.commit()
    assert _claims(auth(client, "GET", BALANCES, headers=headers))["role"] == "trader"


def test_a_service_account_change_is_seen_at_once(client, make_user, make_api_key, make_service_account):
    from barong.models import Permission

    db.session.add(Permission(role="sa_maker", verb="ALL", path="api/v2/peatio/account", action="ACCEPT"))
    db.session.commit()
    sa = make_service_account(make_user(otp=True), role="sa_maker")
    headers = _warm_key(client, make_api_key, sa)
    sa.state = "disabled"
    db.session.commit()
    assert auth(client, "GET", BALANCES, headers=headers).get_json() == {"errors": ["authz.invalid_session"]}


# ---- other hosts: the Redis counter ---------------------------------------------------------

@pytest.fixture
def redis_generations(app):
    """BARONG_REDIS_URL set (the real Redis of tests/services/test_sessions.py); the
    session store stays the database: only the generation counters go to Redis."""
    from tests.services.test_sessions import REDIS_URL, _redis_or_skip

    r = _redis_or_skip()
    app.config["BARONG_REDIS_URL"] = REDIS_URL
    yield r
    app.extensions.pop("barong_generation_redis", None)
    app.extensions.pop("barong_redis", None)


def test_another_hosts_invalidation_arrives_through_redis(client, make_user, redis_generations, monkeypatch):
    _warm(client, make_user())
    _delete_sessions_behind_the_cache()
    assert auth(client, "GET", ME).status_code == 200
    redis_generations.incr("barong:cache_generation:accounts")  # a worker on another host logged someone out
    monkeypatch.setattr(process_cache, "REDIS_RECHECK", 0)  # instead of waiting 50 ms
    assert auth(client, "GET", ME).get_json() == {"errors": ["authz.invalid_session"]}


def test_an_invalidation_here_increments_the_redis_counter(client, make_user, redis_generations):
    user = make_user()
    _warm(client, user)
    before = int(redis_generations.get("barong:cache_generation:accounts") or 0)
    sessions.invalidate_all(user.uid)
    db.session.commit()
    assert int(redis_generations.get("barong:cache_generation:accounts")) > before


def test_redis_down_falls_back_to_the_file_and_the_ttl(client, make_user, app, caplog, monkeypatch):
    monkeypatch.setattr(process_cache, "_last_redis_warning", [0.0])
    monkeypatch.setattr(process_cache, "_redis_down_until", [0.0])
    from barong.services.infra import kv

    # only the counters' Redis is down here: kv marks (required actions, read on the check) stay in
    # the database; with every Redis client down the check answers 503 (tests/faults/test_redis_outage.py)
    monkeypatch.setattr(kv, "_redis", lambda: None)
    app.config["BARONG_REDIS_URL"] = "redis://127.0.0.1:1/0"  # nothing listens there
    try:
        _warm(client, make_user())
        name, value = _cookie(client)
        assert logout(client).status_code == 204
        client.set_cookie(name, value)
        assert auth(client, "GET", ME).get_json() == {"errors": ["authz.invalid_session"]}
        assert "cache generation: could not" in caplog.text
        assert process_cache._redis(app) is None  # backing off: no connection attempt per RECHECK
    finally:
        app.extensions.pop("barong_generation_redis", None)


def test_a_missing_holder_is_not_kept(client, make_user, make_api_key):
    holder = make_user(otp=True)
    key, secret = make_api_key(holder)
    holder_id, headers = holder.id, signed(key.kid, secret)
    db.session.execute(User.__table__.delete().where(User.__table__.c.id == holder_id))
    db.session.commit()  # behind the cache: the key outlived its holder
    resp = auth(client, "GET", BALANCES, headers=headers)
    assert resp.get_json() == {"errors": ["authz.invalid_session"]}
    assert ("User", holder_id) not in account_cache._holders._entries
