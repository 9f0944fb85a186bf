"""management service_accounts and api_keys."""
import pytest

from barong.extensions import db
from barong.models import APIKey, ServiceAccount
from barong.services.accounts import api_keys, service_accounts
from tests.api.management.support import mgmt

pytestmark = pytest.mark.usefixtures("keychain")
SA_KEYS = ["email", "uid", "role", "level", "state", "user", "created_at", "updated_at"]


@pytest.fixture
def owner(make_user):
    return make_user(email="owner@example.com")


def _sa(owner=None, **kw):
    sa = service_accounts.create(owner, **kw)
    db.session.commit()
    return sa


# --- service accounts -------------------------------------------------------------------------

def test_get_by_uid_and_email(client, owner):
    sa = _sa(owner)
    for data in ({"uid": sa.uid}, {"email": sa.email}):
        resp = mgmt(client, "service_accounts/get", data)
        assert resp.status_code == 201
        body = resp.get_json()
        assert list(body) == SA_KEYS or set(body) == set(SA_KEYS)
        assert body["uid"] == sa.uid and body["user"]["uid"] == owner.uid
    assert mgmt(client, "service_accounts/get", {"uid": "SI0000000000"}).status_code == 404
    resp = mgmt(client, "service_accounts/get", {})
    assert resp.status_code == 422
    assert resp.get_json() == {"errors": ["management.serviceaccount.missing_uid_email"]}
    resp = mgmt(client, "service_accounts/get", {"uid": sa.uid, "email": sa.email})
    assert resp.get_json() == {"errors": ["management.serviceaccount.mutually_exclusive_uid_email"]}


def test_read_scope_signers(client, owner):
    sa = _sa(owner)
    assert mgmt(client, "service_accounts/get", {"uid": sa.uid}, signers=("james",)).status_code == 401
    assert mgmt(client, "service_accounts/list", {}, signers=("alex",)).status_code == 401


def test_list(client, owner, make_user):
    other = make_user()
    a, b, c = _sa(owner), _sa(owner), _sa(other)
    resp = mgmt(client, "service_accounts/list", {})
    assert resp.status_code == 201
    assert [s["uid"] for s in resp.get_json()] == [a.uid, b.uid, c.uid]
    resp = mgmt(client, "service_accounts/list", {"owner_uid": owner.uid})
    assert [s["uid"] for s in resp.get_json()] == [a.uid, b.uid]
    resp = mgmt(client, "service_accounts/list", {"owner_email": other.email})
    assert [s["uid"] for s in resp.get_json()] == [c.uid]
    resp = mgmt(client, "service_accounts/list", {"owner_uid": "ID0000000000"})
    assert len(resp.get_json()) == 3
    resp = mgmt(client, "service_accounts/list", {"limit": 2, "page": 2})
    assert (resp.headers["Total"], resp.headers["Page"], resp.headers["Per-Page"]) == ("3", "2", "2")
    assert [s["uid"] for s in resp.get_json()] == [c.uid]


def test_create_with_owner(client, owner):
    resp = mgmt(client, "service_accounts/create", {
        "service_account_role": "admin", "owner_uid": owner.uid, "service_account_uid": "SI1234567890",
        "service_account_email": "bot@example.com", "service_account_level": 3})
    assert resp.status_code == 201, resp.get_json()
    body = resp.get_json()
    assert body["uid"] == "SI1234567890" and body["email"] == "bot@example.com" and body["role"] == "admin"
    assert body["state"] == owner.state and body["level"] == owner.level and body["user"]["uid"] == owner.uid
    resp = mgmt(client, "service_accounts/create", {"service_account_role": "admin", "owner_uid": owner.uid})
    assert resp.get_json()["email"].startswith("owner+si")


def test_create_without_owner(client):
    resp = mgmt(client, "service_accounts/create", {"service_account_role": "admin",
                                                    "service_account_email": "free@example.com",
                                                    "service_account_level": 2})
    body = resp.get_json()
    assert resp.status_code == 201 and body["user"] is None and body["state"] == "pending" and body["level"] == 2
    resp = mgmt(client, "service_accounts/create", {"service_account_role": "admin",
                                                    "service_account_email": "free2@example.com",
                                                    "service_account_state": "active", "service_account_level": 3})
    assert (resp.get_json()["state"], resp.get_json()["level"]) == ("active", 3)


@pytest.mark.parametrize("data,status,first", [
    ({}, 400, "management.serviceaccount.missing_service_account_role"),
    ({"service_account_role": "admin", "owner_uid": "{owner}", "service_account_email": "bad"}, 422,
     "email.invalid"),
    ({"service_account_role": "invalid", "owner_uid": "{owner}"}, 422, "role.doesnt_exist"),
    ({"service_account_role": "admin", "owner_uid": "{owner}", "service_account_uid": "{owner}"}, 422,
     "email_or_uid.not_uniq"),
    ({"service_account_role": "admin", "owner_uid": "ID0000000000"}, 422, "user.doesnt_exist"),
    ({"service_account_role": "admin", "owner_uid": "{owner}", "service_account_level": "high"}, 422,
     "management.serviceaccount.invalid_service_account_level"),
])
def test_create_errors(client, owner, data, status, first):
    data = {k: v.replace("{owner}", owner.uid) if isinstance(v, str) else v for k, v in data.items()}
    resp = mgmt(client, "service_accounts/create", data)
    assert resp.status_code == status, resp.get_json()
    assert first in resp.get_json()["errors"]
    assert ServiceAccount.query.count() == 0


def test_update(client, owner, make_user):
    free = _sa(None, email="free@example.com")
    owned = _sa(owner)
    resp = mgmt(client, "service_accounts/update", {"uid": free.uid})
    assert resp.status_code == 201
    assert (resp.get_json()["state"], resp.get_json()["level"], resp.get_json()["user"]) == ("pending", 0, None)
    resp = mgmt(client, "service_accounts/update", {"uid": owned.uid})
    assert resp.get_json()["user"]["uid"] == owner.uid and resp.get_json()["state"] == owner.state
    new_owner = make_user(private_labels={"email": "verified", "phone": "verified"})
    assert new_owner.level != owner.level or True
    resp = mgmt(client, "service_accounts/update", {"uid": free.uid, "owner_uid": new_owner.uid})
    body = resp.get_json()
    assert resp.status_code == 201
    assert body["user"]["uid"] == new_owner.uid
    assert (body["level"], body["state"]) == (new_owner.level, new_owner.state)


def test_update_errors(client):
    resp = mgmt(client, "service_accounts/update", {})
    assert resp.status_code == 400
    assert resp.get_json() == {"errors": ["management.serviceaccount.missing_uid", "management.serviceaccount.empty_uid"]}
    resp = mgmt(client, "service_accounts/update", {"uid": "SI0000000000"})
    assert resp.status_code == 422 and resp.get_json() == {"errors": ["service_account.doesnt_exist"]}


def test_delete_disables_and_deactivates_keys(client, owner):
    sa = _sa(owner)
    key, _ = api_keys.create(sa, "HS256", require_otp=False)
    db.session.commit()
    resp = mgmt(client, "service_accounts/delete", {"uid": sa.uid})
    assert resp.status_code == 201 and resp.get_json()["state"] == "disabled"
    db.session.expire_all()
    assert db.session.get(APIKey, key.id).state == "inactive"
    assert mgmt(client, "service_accounts/delete", {"uid": "SI0000000000"}).status_code == 404
    resp = mgmt(client, "service_accounts/delete", {})
    assert resp.status_code == 400


# --- api keys ---------------------------------------------------------------------------------

KEY_FIELDS = {"kid", "algorithm", "scope", "state", "secret", "created_at", "updated_at",
              "allowed_ips", "expires_at", "last_used_at", "last_used_ip"}  # + issue 15


@pytest.fixture
def enabled(app):
    app.config["BARONG_MGN_API_KEYS_USER"] = True
    app.config["BARONG_MGN_API_KEYS_SA"] = True


def test_api_key_for_service_account(client, owner, enabled):
    sa = _sa(owner)
    resp = mgmt(client, "api_keys", {"uid": sa.uid, "algorithm": "HS256", "scopes": "trade"})
    assert resp.status_code == 201, resp.get_json()
    body = resp.get_json()
    assert set(body) == KEY_FIELDS
    assert body["state"] == "active" and body["scope"] == ["trade"] and len(body["secret"]) >= 32
    key = APIKey.query.filter_by(kid=body["kid"]).one()
    assert key.key_holder_account_type == "ServiceAccount" and key.secret == body["secret"]


def test_api_key_for_user_without_2fa(client, owner, enabled):
    resp = mgmt(client, "api_keys", {"uid": owner.uid, "algorithm": "HS512", "scopes": "read,write"})
    assert resp.status_code == 201, resp.get_json()
    assert resp.get_json()["scope"] == ["read", "write"]


@pytest.mark.parametrize("uid,code", [
    ("SIrandom", "management.api_keys.service_account_doesnt_exist"),
    ("ID0000000000", "management.api_keys.user_doesnt_exist"),
    ("random", "management.api_keys.uid_prefix_doesnt_exist"),
])
def test_api_key_holder_errors(client, enabled, uid, code):
    resp = mgmt(client, "api_keys", {"uid": uid, "algorithm": "HS256"})
    assert resp.status_code == 422 and resp.get_json() == {"errors": [code]}


def test_api_key_bad_algorithm_and_inactive_holder(client, owner, enabled, make_user):
    resp = mgmt(client, "api_keys", {"uid": owner.uid, "algorithm": "random"})
    assert resp.status_code == 422 and resp.get_json() == {"errors": ["kid.blank", "algorithm.inclusion"]}
    pending = make_user(state="pending", private_labels={})
    resp = mgmt(client, "api_keys", {"uid": pending.uid, "algorithm": "HS256"})
    assert resp.status_code == 422 and resp.get_json() == {"errors": ["key_holder_account.invalid"]}
    assert APIKey.query.count() == 0


def test_api_key_secret_store_failure(client, owner, enabled, monkeypatch):
    import barong.security.crypto as crypto

    def boom(value):
        raise RuntimeError("vault down")

    monkeypatch.setattr(crypto, "encrypt", boom)
    resp = mgmt(client, "api_keys", {"uid": owner.uid, "algorithm": "HS256"})
    assert resp.status_code == 422 and resp.get_json() == {"errors": ["api_key.could_not_save_secret"]}


def test_api_keys_disabled_by_default(client, owner):
    sa = _sa(owner)
    for uid in (owner.uid, sa.uid):
        resp = mgmt(client, "api_keys", {"uid": uid, "algorithm": "HS256"})
        assert resp.status_code == 422
        assert resp.get_json() == {"errors": ["management.api_keys.disabled_management_endpoint"]}
        resp = mgmt(client, "api_keys/update", {"uid": uid, "kid": "x"})
        assert resp.get_json() == {"errors": ["management.api_keys.disabled_management_endpoint"]}


def test_api_key_update(client, owner, enabled):
    sa = _sa(owner)
    for holder in (owner, sa):
        key, _ = api_keys.create(holder, "HS256", scope="trade", require_otp=False)
        db.session.commit()
        resp = mgmt(client, "api_keys/update", {"uid": holder.uid, "kid": key.kid, "state": "inactive",
                                                "scopes": "sell"})
        assert resp.status_code == 201, resp.get_json()
        body = resp.get_json()
        assert "secret" not in body and body["state"] == "inactive" and body["scope"] == ["sell"]


def test_api_key_update_errors(client, owner, make_user, enabled):
    key, _ = api_keys.create(owner, "HS256", require_otp=False)
    db.session.commit()
    other = make_user()
    cases = [({"uid": other.uid, "kid": key.kid}, "management.api_keys.api_key_doesnt_exist"),
             ({"uid": "SIrandom", "kid": key.kid}, "management.api_keys.service_account_doesnt_exist"),
             ({"uid": "ID0000000000", "kid": key.kid}, "management.api_keys.user_doesnt_exist"),
             ({"uid": "random", "kid": key.kid}, "management.api_keys.uid_prefix_doesnt_exist"),
             ({"uid": owner.uid, "kid": key.kid, "state": "sleeping"}, "management.apikey.invalid_state")]
    for data, code in cases:
        resp = mgmt(client, "api_keys/update", data)
        assert resp.status_code == 422 and resp.get_json() == {"errors": [code]}, data
    resp = mgmt(client, "api_keys/update", {})
    assert resp.status_code == 400
    db.session.expire_all()
    assert db.session.get(APIKey, key.id).state == "active"


def test_api_keys_scope(client, owner, enabled):
    assert mgmt(client, "api_keys", {"uid": owner.uid, "algorithm": "HS256"},
                signers=("james",)).status_code == 401
