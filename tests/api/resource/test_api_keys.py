"""resource/api_keys: 2FA gate, HS algorithms, secret shown once and stored encrypted."""
from __future__ import annotations

import re

from barong.extensions import db
from barong.models import APIKey
from barong.services.accounts import api_keys
from tests.api.resource.conftest import errors


def _keys(user):
    return db.session.query(APIKey).filter_by(key_holder_account_type="User", key_holder_account_id=user.id).all()


def test_create(otp_api):
    api = otp_api
    resp = api.post("api_keys", json={"algorithm": "HS256", "scope": "trade, read", "totp_code": api.totp()})
    assert resp.status_code == 201, resp.get_json()
    body = resp.get_json()
    assert body["state"] == "active" and body["scope"] == ["trade", "read"] and body["algorithm"] == "HS256"
    assert re.fullmatch(r"[0-9a-f]{16}", body["kid"]) and re.fullmatch(r"[0-9a-f]{32}", body["secret"])
    key = _keys(api.user)[0]
    assert key.secret == body["secret"] and body["secret"] not in key.secret_encrypted
    listed = api.get("api_keys").get_json()
    assert len(listed) == 1 and "secret" not in listed[0]


def test_create_algorithms(otp_api):
    for algorithm in ("HS384", "HS512"):
        resp = otp_api.post("api_keys", json={"algorithm": algorithm, "totp_code": otp_api.totp()})
        assert resp.status_code == 201 and resp.get_json()["scope"] == []
    resp = otp_api.post("api_keys", json={"algorithm": "kek", "totp_code": otp_api.totp()})
    assert resp.status_code == 422 and errors(resp) == ["kid.blank", "algorithm.inclusion"]
    resp = otp_api.post("api_keys", json={"algorithm": "RS256", "totp_code": otp_api.totp()})
    assert resp.status_code == 422
    assert len(_keys(otp_api.user)) == 2


def test_gate(api, otp_api_factory=None):
    resp = api.post("api_keys", json={"algorithm": "HS256", "totp_code": "123456"})
    assert resp.status_code == 400 and errors(resp) == ["resource.api_key.2fa_disabled"]
    resp = api.post("api_keys", json={"algorithm": "HS256"})
    assert resp.status_code == 400 and errors(resp) == ["resource.api_key.missing_totp"]
    resp = api.post("api_keys", json={"totp_code": "1"})
    assert errors(resp) == ["resource.apikey.missing_algorithm", "resource.apikey.empty_algorithm"]
    assert _keys(api.user) == []


def test_gate_with_2fa(otp_api):
    resp = otp_api.post("api_keys", json={"algorithm": "HS256", "totp_code": "000000"})
    assert resp.status_code == 422 and errors(resp) == ["resource.api_key.invalid_totp"]
    resp = otp_api.post("api_keys", json={"algorithm": "HS256", "totp_code": ""})
    assert resp.status_code == 422 and errors(resp) == ["resource.api_key.missing_totp"]
    resp = otp_api.post("api_keys", json={"algorithm": "HS256", "scope": "", "totp_code": otp_api.totp()})
    assert resp.status_code == 400 and errors(resp) == ["resource.apikey.empty_scope"]
    assert _keys(otp_api.user) == []


def test_could_not_save_secret(otp_api, monkeypatch):
    import barong.security.crypto as crypto

    def broken(value):
        raise RuntimeError("vault down")

    monkeypatch.setattr(crypto, "encrypt", broken)
    resp = otp_api.post("api_keys", json={"algorithm": "HS256", "totp_code": otp_api.totp()})
    assert resp.status_code == 422 and errors(resp) == ["api_key.could_not_save_secret"]
    monkeypatch.undo()
    assert _keys(otp_api.user) == []


def test_list_ordering(otp_api):
    user = otp_api.user
    first, _ = api_keys.create(user, "HS256", "trade", require_otp=False)
    second, _ = api_keys.create(user, "HS256", "sell", require_otp=False)
    db.session.commit()
    resp = otp_api.get("api_keys", query_string={"ordering": "asc"})
    assert resp.status_code == 200 and resp.headers["Total"] == "2"
    items = resp.get_json()
    assert items[0]["kid"] == first.kid and items[0]["scope"] == ["trade"]
    assert otp_api.get("api_keys", query_string={"ordering": "desc"}).get_json()[1]["kid"] == first.kid
    assert otp_api.get("api_keys", query_string={"order_by": "kid"}).status_code == 200
    resp = otp_api.get("api_keys", query_string={"ordering": "resc"})
    assert resp.status_code == 422 and errors(resp) == ["resource.api_key.invalid_ordering"]
    resp = otp_api.get("api_keys", query_string={"order_by": "invalid"})
    assert resp.status_code == 422 and errors(resp) == ["resource.api_key.invalid_attribute"]
    resp = otp_api.get("api_keys", query_string={"limit": 1, "page": 2})
    assert [k["kid"] for k in resp.get_json()] == [second.kid]


def test_update_and_delete(otp_api, make_user):
    user = otp_api.user
    key, _ = api_keys.create(user, "HS256", "trade", require_otp=False)
    db.session.commit()
    resp = otp_api.patch(f"api_keys/{key.kid}", json={"state": "inactive", "totp_code": otp_api.totp()})
    assert resp.status_code == 200 and resp.get_json()["state"] == "inactive" and "secret" not in resp.get_json()
    resp = otp_api.patch(f"api_keys/{key.kid}", json={"scope": "sell", "totp_code": otp_api.totp()})
    assert resp.get_json()["scope"] == ["sell"]
    resp = otp_api.patch(f"api_keys/{key.kid}", json={"state": "active", "totp_code": "000000"})
    assert resp.status_code == 422 and errors(resp) == ["resource.api_key.invalid_totp"]
    resp = otp_api.patch("api_keys/unknown", json={"state": "active", "totp_code": otp_api.totp()})
    assert resp.status_code == 404 and errors(resp) == ["record.not_found"], errors(resp)
    resp = otp_api.patch(f"api_keys/{key.kid}", json={"state": "", "totp_code": otp_api.totp()})
    assert resp.status_code == 400 and errors(resp) == ["resource.apikey.empty_state"]
    other = make_user()
    foreign, _ = api_keys.create(other, "HS256", require_otp=False)
    db.session.commit()
    resp = otp_api.delete(f"api_keys/{foreign.kid}", query_string={"totp_code": otp_api.totp()})
    assert resp.status_code == 404
    resp = otp_api.delete(f"api_keys/{key.kid}", query_string={"totp_code": "000000"})
    assert resp.status_code == 422 and errors(resp) == ["resource.api_key.invalid_totp"]
    resp = otp_api.delete(f"api_keys/{key.kid}", query_string={"totp_code": otp_api.totp()})
    assert resp.status_code == 204
    assert _keys(user) == [] and db.session.get(APIKey, foreign.id) is not None


def test_update_delete_without_2fa(api):
    key, _ = api_keys.create(api.user, "HS256", require_otp=False)
    db.session.commit()
    resp = api.patch(f"api_keys/{key.kid}", json={"state": "inactive", "totp_code": "123456"})
    assert resp.status_code == 400 and errors(resp) == ["resource.api_key.2fa_disabled"]
    resp = api.delete(f"api_keys/{key.kid}", query_string={"totp_code": "123456"})
    assert resp.status_code == 400 and errors(resp) == ["resource.api_key.2fa_disabled"]
    assert db.session.get(APIKey, key.id).state == "active"


def test_activate_for_inactive_holder(otp_api):
    from barong.services.accounts import users

    key, _ = api_keys.create(otp_api.user, "HS256", require_otp=False)
    key.state = "inactive"
    db.session.commit()
    user = otp_api.user
    users.apply_state(user, "pending")
    db.session.commit()
    import pytest

    from barong.errors import ValidationError

    with pytest.raises(ValidationError) as err:
        api_keys.update(key, state="active")
    assert err.value.codes == ["state.invalid"]
    with pytest.raises(ValidationError) as err:
        api_keys.create(user, "HS256", require_otp=False)
    assert err.value.codes == ["key_holder_account.invalid"]


def _signed_headers(kid, secret, algorithm="sha256"):
    import hashlib
    import hmac
    import time

    nonce = str(int(time.time() * 1000))
    signature = hmac.new(secret.encode(), (nonce + kid).encode(), getattr(hashlib, algorithm)).hexdigest()
    return {"X-Auth-Apikey": kid, "X-Auth-Nonce": nonce, "X-Auth-Signature": signature}


def test_new_key_works_at_once(otp_api, app):
    resp = otp_api.post("api_keys", json={"algorithm": "HS512", "totp_code": otp_api.totp()})
    body = resp.get_json()
    fresh = app.test_client()
    me = fresh.get("/api/v2/barong/resource/users/me", headers=_signed_headers(body["kid"], body["secret"], "sha512"))
    assert me.status_code == 200 and me.get_json()["uid"] == otp_api.user.uid


def test_service_account_key_reaches_no_resource(otp_api, app):
    from barong.services.accounts import service_accounts

    sa = service_accounts.create(otp_api.user, role="member")  # a role the resource permissions let through
    key, secret = api_keys.create(sa, "HS256", require_otp=False)
    db.session.commit()
    fresh = app.test_client()
    resp = fresh.get("/api/v2/barong/resource/users/me", headers=_signed_headers(key.kid, secret))
    assert resp.status_code == 404 and errors(resp) == ["record.not_found"], errors(resp)
