"""API keys for trading bots (issue 15): an optional IP/CIDR allow-list and expiry per key,
checked in the authz hot path with their own codes; a refused use is recorded; last_used_at
and the last IP written at most once a minute, after the response."""
from __future__ import annotations

from datetime import timedelta

import pytest

from barong.authz import key_usage
from barong.extensions import db
from barong.models import Activity, APIKey, utcnow
from barong.services.accounts import api_keys
from barong.errors import ValidationError
from tests.helpers import login_as, totp_now

from .support import auth, signed

PATH = "api/v2/peatio/account/balances"
BOT = "203.0.113.10"
ELSEWHERE = "198.51.100.20"


@pytest.fixture
def holder(make_user):
    return make_user(otp=True)


def _key(make_api_key, holder, **fields):
    key, secret = make_api_key(holder)
    for name, value in fields.items():
        setattr(key, name, value)
    db.session.commit()
    return key, secret


def call(client, key, secret, ip):
    resp = auth(client, "GET", PATH, headers=signed(key.kid, secret), environ_base={"REMOTE_ADDR": ip})
    resp.close()  # runs the after-response work (werkzeug call_on_close), as gunicorn does
    return resp


def fresh_totp(user):
    from barong.models import User

    u = db.session.get(User, user.id)
    db.session.refresh(u)
    u.otp_last_step = None  # each code is single use: let the test use another one in this window
    db.session.commit()
    return totp_now(u)


def refusals(user):
    db.session.expire_all()
    return [(a.topic, a.action, a.result, a.data) for a in
            db.session.query(Activity).filter_by(user_id=user.id, topic="api_key").order_by(Activity.id)]


def test_allow_list_accepts_inside_refuses_outside_and_records(client, holder, make_api_key):
    key, secret = _key(make_api_key, holder, allowed_ips="203.0.113.0/24,2001:db8::/32")
    assert call(client, key, secret, BOT).status_code == 200
    resp = call(client, key, secret, ELSEWHERE)
    assert resp.status_code == 401
    assert resp.get_json() == {"errors": ["authz.apikey_ip_not_allowed"]}
    [row] = refusals(holder)
    assert row[:3] == ("api_key", "use", "denied")
    assert '"ip_not_allowed"' in row[3] and key.kid in row[3]
    db.session.expire_all()
    assert db.session.query(Activity).filter_by(user_id=holder.id, topic="api_key").one().user_ip == ELSEWHERE
    # a bot hammering from outside: recorded once a minute, not per request
    for _ in range(3):
        assert call(client, key, secret, ELSEWHERE).status_code == 401
    assert len(refusals(holder)) == 1
    assert call(client, key, secret, "2001:db8::7").status_code == 200


def test_a_wrong_signature_is_still_the_signature_error(client, holder, make_api_key):
    key, secret = _key(make_api_key, holder, allowed_ips="203.0.113.0/24")
    resp = auth(client, "GET", PATH, headers=signed(key.kid, "0" * 32), environ_base={"REMOTE_ADDR": ELSEWHERE})
    assert resp.get_json() == {"errors": ["authz.invalid_signature"]}
    assert refusals(holder) == []


def test_expired_key_refused_and_recorded(client, holder, make_api_key):
    key, secret = _key(make_api_key, holder, expires_at=utcnow() + timedelta(hours=1))
    assert call(client, key, secret, BOT).status_code == 200
    key = db.session.get(APIKey, key.id)
    key.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    resp = call(client, key, secret, BOT)
    assert resp.status_code == 401 and resp.get_json() == {"errors": ["authz.apikey_expired"]}
    [row] = refusals(holder)
    assert '"expired"' in row[3]


def test_last_used_written_after_the_response_at_most_once_a_minute(client, holder, make_api_key):
    key, secret = _key(make_api_key, holder)
    resp = auth(client, "GET", PATH, headers=signed(key.kid, secret), environ_base={"REMOTE_ADDR": BOT})
    db.session.expire_all()
    assert db.session.get(APIKey, key.id).last_used_at is None  # not on the request's path
    resp.close()
    db.session.expire_all()
    first = db.session.get(APIKey, key.id)
    assert first.last_used_ip == BOT and first.last_used_at is not None
    stamp, updated = first.last_used_at, first.updated_at
    assert updated == db.session.get(APIKey, key.id).updated_at
    assert call(client, key, secret, ELSEWHERE).status_code == 200
    db.session.expire_all()
    assert db.session.get(APIKey, key.id).last_used_ip == BOT  # within the minute: no write
    # another worker (its own throttle) within the minute: the conditional UPDATE writes nothing
    from flask import current_app

    assert key_usage.write_last_used(current_app._get_current_object(), key.id, ELSEWHERE, stamp) is False
    assert key_usage.write_last_used(current_app._get_current_object(), key.id, ELSEWHERE,
                                     stamp + timedelta(seconds=61)) is True


def test_service_validation():
    assert api_keys.parse_allowed_ips(" 10.0.0.1, 10.1.0.0/16\n2001:db8::/32 ") == "10.0.0.1/32,10.1.0.0/16,2001:db8::/32"
    assert api_keys.parse_allowed_ips("") is None
    for bad in ("10.0.0.300", "example.com", ",".join(f"10.0.{i}.0/24" for i in range(51))):
        with pytest.raises(ValidationError) as err:
            api_keys.parse_allowed_ips(bad)
        assert err.value.codes == ["allowed_ips.invalid"]
    with pytest.raises(ValidationError):
        api_keys.parse_expires_at("2001-01-01T00:00:00Z")
    with pytest.raises(ValidationError):
        api_keys.parse_expires_at("soon")
    assert api_keys.parse_expires_at("2999-01-02T03:04:05Z").isoformat() == "2999-01-02T03:04:05"


def test_resource_api_sets_shows_and_clears(client, holder):
    csrf = login_as(client, holder, otp_code=totp_now(holder))
    h = {"X-CSRF-Token": csrf}
    resp = client.post("/api/v2/barong/resource/api_keys", headers=h,
                       json={"algorithm": "HS256", "totp_code": fresh_totp(holder), "allowed_ips": "203.0.113.0/24",
                             "expires_at": "2999-01-01T00:00:00Z"})
    assert resp.status_code == 201, resp.get_json()
    body = resp.get_json()
    assert body["allowed_ips"] == ["203.0.113.0/24"] and body["expires_at"] == "2999-01-01T00:00:00Z"
    assert body["last_used_at"] is None and body["last_used_ip"] is None
    kid = body["kid"]
    bad = client.patch(f"/api/v2/barong/resource/api_keys/{kid}", headers=h,
                       json={"totp_code": fresh_totp(holder), "allowed_ips": "nope"})
    assert bad.status_code == 422 and bad.get_json() == {"errors": ["allowed_ips.invalid"]}
    assert db.session.query(APIKey).filter_by(kid=kid).one().allowed_ips == "203.0.113.0/24"


def test_resource_api_refuses_a_past_expiry(client, holder):
    csrf = login_as(client, holder, otp_code=totp_now(holder))
    before = db.session.query(APIKey).count()
    resp = client.post("/api/v2/barong/resource/api_keys", headers={"X-CSRF-Token": csrf},
                       json={"algorithm": "HS256", "totp_code": fresh_totp(holder), "expires_at": "2001-01-01"})
    assert resp.status_code == 422 and resp.get_json() == {"errors": ["expires_at.invalid"]}
    assert db.session.query(APIKey).count() == before
