"""resource/service_accounts: the user's service accounts and their keys."""
from __future__ import annotations

from barong.extensions import db
from barong.models import APIKey
from barong.services.accounts import api_keys, service_accounts
from tests.api.resource.conftest import errors


def _sa(owner, **kw):
    sa = service_accounts.create(owner, **kw)
    db.session.commit()
    return sa


def test_list(otp_api, make_user):
    sa = _sa(otp_api.user)
    _sa(make_user())
    items = otp_api.get("service_accounts").get_json()
    assert [i["uid"] for i in items] == [sa.uid]
    assert set(items[0]) == {"id", "uid", "owner_id", "email", "role", "level", "state", "created_at", "updated_at"}
    assert items[0]["uid"].startswith("SI") and items[0]["state"] == "active"


def test_keys_lifecycle(otp_api):
    sa = _sa(otp_api.user)
    resp = otp_api.post("service_accounts/api_keys", json={"service_account_uid": sa.uid, "algorithm": "HS256",
                                                          "scope": "trade", "totp_code": otp_api.totp()})
    assert resp.status_code == 201 and "secret" in resp.get_json()
    kid = resp.get_json()["kid"]
    key = db.session.query(APIKey).filter_by(kid=kid).one()
    assert key.key_holder_account_type == "ServiceAccount" and key.key_holder_account_id == sa.id
    resp = otp_api.get("service_accounts/api_keys", query_string={"service_account_uid": sa.uid})
    assert resp.status_code == 200 and [k["kid"] for k in resp.get_json()] == [kid] and resp.headers["Total"] == "1"
    resp = otp_api.put(f"service_accounts/api_keys/{kid}",
                       json={"service_account_uid": sa.uid, "state": "inactive", "totp_code": otp_api.totp()})
    assert resp.status_code == 200 and resp.get_json()["state"] == "inactive"
    resp = otp_api.delete(f"service_accounts/api_keys/{kid}",
                          query_string={"service_account_uid": sa.uid, "totp_code": otp_api.totp()})
    assert resp.status_code == 204
    assert db.session.query(APIKey).filter_by(kid=kid).first() is None


def test_errors(otp_api, make_user):
    foreign = _sa(make_user())
    resp = otp_api.get("service_accounts/api_keys", query_string={"service_account_uid": foreign.uid})
    assert resp.status_code == 404 and errors(resp) == ["resource.service_account.doesnt_exist"]
    resp = otp_api.post("service_accounts/api_keys", json={"service_account_uid": foreign.uid, "algorithm": "HS256",
                                                          "totp_code": "000000"})
    assert resp.status_code == 404  # looked up before the 2FA gate
    sa = _sa(otp_api.user)
    resp = otp_api.post("service_accounts/api_keys", json={"service_account_uid": sa.uid, "algorithm": "HS256",
                                                          "totp_code": "000000"})
    assert resp.status_code == 422 and errors(resp) == ["resource.service_accounts.invalid_totp"]
    resp = otp_api.get("service_accounts/api_keys", query_string={"service_account_uid": sa.uid, "ordering": "x"})
    assert errors(resp) == ["resource.service_accounts.invalid_ordering"]
    resp = otp_api.get("service_accounts/api_keys", query_string={"service_account_uid": sa.uid, "order_by": "x"})
    assert errors(resp) == ["resource.service_accounts.invalid_attribute"]
    resp = otp_api.get("service_accounts/api_keys")
    assert resp.status_code == 400 and errors(resp)[0] == "resource.serviceaccount.missing_service_account_uid"
    resp = otp_api.put("service_accounts/api_keys/nokid",
                       json={"service_account_uid": sa.uid, "state": "active", "totp_code": otp_api.totp()})
    assert resp.status_code == 404 and errors(resp) == ["record.not_found"]
    disabled = _sa(otp_api.user, state="disabled")
    resp = otp_api.post("service_accounts/api_keys", json={"service_account_uid": disabled.uid, "algorithm": "HS256",
                                                          "totp_code": otp_api.totp()})
    assert resp.status_code == 422 and errors(resp) == ["key_holder_account.invalid"]


def test_gate_without_2fa(api):
    sa = _sa(api.user)
    resp = api.post("service_accounts/api_keys", json={"service_account_uid": sa.uid, "algorithm": "HS256",
                                                      "totp_code": "123456"})
    assert resp.status_code == 400 and errors(resp) == ["resource.service_accounts.2fa_disabled"]


def test_service_account_rules(make_user):
    import pytest

    from barong.errors import ValidationError

    owner = make_user(email="owner@example.com")
    sa = service_accounts.create(owner)
    assert sa.email == f"owner+{sa.uid.lower()}@example.com" and sa.role == "service_account"
    with pytest.raises(ValidationError) as err:
        service_accounts.create(owner, email="owner@example.com")
    assert "email_or_uid.not_uniq" in err.value.codes
    with pytest.raises(ValidationError) as err:
        service_accounts.create(owner, role="nope")
    assert err.value.codes == ["role.doesnt_exist"]
    key, _ = api_keys.create(sa, "HS256", require_otp=False)
    service_accounts.update(sa, state="disabled")
    assert key.state == "inactive"


def test_blank_optional_params(otp_api):
    """`scope` / `state` may be left out but not sent blank (400 before the 2FA gate and the lookup)."""
    sa = _sa(otp_api.user)
    resp = otp_api.post("service_accounts/api_keys", json={"service_account_uid": sa.uid, "algorithm": "HS256",
                                                          "scope": " ", "totp_code": otp_api.totp()})
    assert resp.status_code == 400 and errors(resp) == ["resource.serviceaccount.empty_scope"]
    assert db.session.query(APIKey).count() == 0
    key, _ = api_keys.create(sa, "HS256", require_otp=False)
    db.session.commit()
    resp = otp_api.put(f"service_accounts/api_keys/{key.kid}",
                       json={"service_account_uid": sa.uid, "scope": "", "state": "", "totp_code": "000000"})
    assert resp.status_code == 400
    assert errors(resp) == ["resource.serviceaccount.empty_scope", "resource.serviceaccount.empty_state"]
    resp = otp_api.put(f"service_accounts/api_keys/{key.kid}",
                       json={"service_account_uid": sa.uid, "state": "inactive", "totp_code": otp_api.totp()})
    assert resp.status_code == 200 and resp.get_json()["state"] == "inactive"
