"""management users: get, list, create, update, import."""
import time

import bcrypt
import pytest

from barong.extensions import db
from barong.models import Phone, Profile, User
from barong.services.accounts import phones, profiles
from tests.api.management.support import mgmt
from tests.helpers import DEFAULT_PASSWORD

pytestmark = pytest.mark.usefixtures("keychain")

KYC_KEYS = {"email", "username", "uid", "role", "level", "otp", "state", "data", "profiles", "labels", "phones",
            "documents", "data_storages", "comments", "referral_uid", "created_at", "updated_at",
            "profile"}  # seed 2.3.38's latest profile, beside `profiles`


@pytest.fixture
def kyc_user(make_user):
    user = make_user()
    profiles.create(user, {"first_name": "Ada", "last_name": "Lovelace", "dob": "1990-01-02", "country": "GB"})
    phones.create(user, "447418084106", verified=True)
    db.session.commit()
    return user


@pytest.mark.parametrize("field", ["uid", "email", "phone_num"])
def test_get_by_each_key(client, kyc_user, field):
    value = {"uid": kyc_user.uid, "email": kyc_user.email.upper(), "phone_num": "+44 07418 084106"}[field]
    resp = mgmt(client, "users/get", {"uid": "", "email": " ", field: value})
    assert resp.status_code == 201, resp.get_json()
    body = resp.get_json()
    assert set(body) == KYC_KEYS
    assert body["uid"] == kyc_user.uid
    assert body["profiles"][0]["last_name"] == "Lovelace"  # unmasked
    assert body["profiles"][0]["dob"] == "1990-01-02"
    assert body["phones"][0]["number"] == "447418084106"


def test_get_exactly_one_key(client, kyc_user):
    resp = mgmt(client, "users/get", {"uid": kyc_user.uid, "email": kyc_user.email, "phone_num": "447418084106"})
    assert resp.status_code == 422
    assert resp.get_json() == {"errors": ["management.user.mutually_exclusive_uid_email_phone_num"]}
    for data in ({}, {"uid": " "}):
        resp = mgmt(client, "users/get", data)
        assert resp.status_code == 422
        assert resp.get_json() == {"errors": ["management.user.missing_uid_email_phone_num"]}


@pytest.mark.parametrize("data", [{"uid": "ID0000000000"}, {"email": "nobody@example.com"},
                                  {"phone_num": "12025550123"}])
def test_get_unknown_is_404(client, kyc_user, data):
    resp = mgmt(client, "users/get", data)
    assert resp.status_code == 404
    assert resp.get_json() == {"errors": ["record.not_found"]}


def test_get_without_mandatory_signer_is_401(client, kyc_user):
    resp = mgmt(client, "users/get", {"uid": kyc_user.uid}, signers=("james", "alex"))
    assert resp.status_code == 401


def test_list_paginates(client, make_user):
    for _ in range(3):
        make_user()
    resp = mgmt(client, "users/list")
    assert resp.status_code == 201
    assert len(resp.get_json()) == User.query.count()
    assert set(resp.get_json()[0]) == {"email", "username", "uid", "role", "level", "otp", "state", "data",
                                       "referral_uid"}
    resp = mgmt(client, "users/list", {"limit": 2, "page": 2})
    assert resp.headers["Total"] == str(User.query.count())
    assert resp.headers["Page"] == "2" and resp.headers["Per-Page"] == "2"
    assert len(resp.get_json()) == min(2, User.query.count() - 2)


@pytest.mark.parametrize("data,code", [({"limit": 1001}, "invalid_limit"), ({"page": 0}, "non_positive_page"),
                                       ({"limit": "x"}, "non_integer_limit"),
                                       ({"range": "deleted"}, "management.user.invalid_range"),
                                       ({"extended": "maybe"}, "management.user.invalid_extended")])
def test_list_bad_params(client, data, code):
    resp = mgmt(client, "users/list", data)
    assert resp.status_code == 422
    assert resp.get_json() == {"errors": [code]}


def test_list_limit_1000_allowed(client):
    assert mgmt(client, "users/list", {"limit": 1000}).status_code == 201


def test_list_range_window_and_extended(client, make_user):
    old, new = make_user(), make_user()
    old.created_at = old.updated_at = old.created_at.replace(year=2001)
    profiles.create(old, {"last_name": "Hopper", "dob": "1950-05-05"})
    db.session.commit()
    old.updated_at = old.created_at
    db.session.commit()
    window = {"range": "created", "from": 946684800, "to": 1009843199}  # 2000-01-01 … 2001-12-31
    resp = mgmt(client, "users/list", window)
    assert [u["uid"] for u in resp.get_json()] == [old.uid]
    resp = mgmt(client, "users/list", {**window, "range": "updated", "extended": True})
    body = resp.get_json()
    assert [u["uid"] for u in body] == [old.uid]
    assert body[0]["profiles"][0]["last_name"] == "Hopper"
    assert body[0]["profiles"][0]["dob"] == "1950-05-05"
    resp = mgmt(client, "users/list", {"from": int(time.time()) - 3600})
    assert old.uid not in [u["uid"] for u in resp.get_json()]
    assert new.uid in [u["uid"] for u in resp.get_json()]


def test_create(client, mailbox):
    before = User.query.count()
    resp = mgmt(client, "users", {"email": "new@example.com", "password": DEFAULT_PASSWORD})
    assert resp.status_code == 201, resp.get_json()
    body = resp.get_json()
    assert body["email"] == "new@example.com" and body["state"] == "pending" and body["profiles"] == []
    assert User.query.count() == before + 1
    assert mailbox("new@example.com") == []


def test_create_missing_params_is_400(client):
    resp = mgmt(client, "users", {})
    assert resp.status_code == 400
    assert resp.get_json() == {"errors": ["management.user.missing_email", "management.user.empty_email",
                                          "management.user.missing_password", "management.user.empty_password"]}


@pytest.mark.parametrize("email,password,codes", [
    ("bad_email", "Password1", ["email.invalid", "password.weak"]),
    ("ok@example.com", "password", ["password.requirements"]),
])
def test_create_validation(client, email, password, codes):
    before = User.query.count()
    resp = mgmt(client, "users", {"email": email, "password": password})
    assert resp.status_code == 422
    assert resp.get_json()["errors"][0] == codes[0]
    assert set(codes) <= set(resp.get_json()["errors"])
    assert User.query.count() == before


def test_create_taken_email(client, make_user):
    user = make_user()
    resp = mgmt(client, "users", {"email": user.email, "password": DEFAULT_PASSWORD})
    assert resp.status_code == 422
    assert resp.get_json() == {"errors": ["email.taken"]}


def test_create_with_referral(client, make_user):
    referrer = make_user()
    resp = mgmt(client, "users", {"email": "ref@example.com", "password": DEFAULT_PASSWORD,
                                  "referral_uid": referrer.uid})
    assert resp.status_code == 201
    assert resp.get_json()["referral_uid"] == referrer.uid
    resp = mgmt(client, "users", {"email": "ref2@example.com", "password": DEFAULT_PASSWORD,
                                  "referral_uid": "ID0000000000"})
    assert resp.status_code == 422
    assert resp.get_json() == {"errors": ["referral_uid.doesnt_exist"]}


def test_update(client, make_user):
    user = make_user()
    resp = mgmt(client, "users/update", {"uid": user.uid, "data": '{"k":"v"}'})
    assert resp.status_code == 201
    assert resp.get_json()["data"] == '{"k":"v"}' and "profiles" in resp.get_json()
    resp = mgmt(client, "users/update", {"uid": user.uid, "role": "admin"})
    assert resp.status_code == 201 and resp.get_json()["role"] == "admin"
    resp = mgmt(client, "users/update", {"uid": user.uid, "role": "member", "data": {"a": 1}})
    assert resp.status_code == 201
    db.session.expire_all()
    assert user.role == "member" and user.data == '{"a": 1}'


def _user_updated_events(uid):
    import json

    from barong.models import OutboxEvent

    rows = db.session.query(OutboxEvent).filter_by(name="model.user.updated").order_by(OutboxEvent.id)
    payloads = [json.loads(e.payload) for e in rows]
    return [p for p in payloads if p["record"]["uid"] == uid]


def test_update_emits_model_user_updated_with_the_previous_values(client, make_user):
    user = make_user()
    before = len(_user_updated_events(user.uid))
    assert mgmt(client, "users/update", {"uid": user.uid, "role": "admin", "data": '{"k":"v"}'}).status_code == 201
    events = _user_updated_events(user.uid)[before:]
    assert len(events) == 1
    assert events[0]["changes"] == {"role": "member", "data": None}
    assert events[0]["record"]["role"] == "admin"
    # the same values again: nothing changed, nothing emitted
    assert mgmt(client, "users/update", {"uid": user.uid, "role": "admin"}).status_code == 201
    assert len(_user_updated_events(user.uid)[before:]) == 1


@pytest.mark.parametrize("data,status,codes", [
    ({"uid": "{uid}"}, 422, ["management.user.missing_role_data"]),
    ({}, 400, ["management.user.missing_uid", "management.user.empty_uid"]),
    ({"uid": "ID0000000000", "role": "admin"}, 422, ["user.doesnt_exist"]),
    ({"uid": "{uid}", "role": "emperor"}, 422, ["role.doesnt_exist"]),
    ({"uid": "{uid}", "data": "{not json"}, 422, ["management.user.invalid_data"]),
])
def test_update_errors(client, make_user, data, status, codes):
    user = make_user()
    data = {k: v.replace("{uid}", user.uid) if isinstance(v, str) else v for k, v in data.items()}
    resp = mgmt(client, "users/update", data)
    assert resp.status_code == status
    assert resp.get_json() == {"errors": codes}
    db.session.expire_all()
    assert user.role == "member"
    assert not any({"role", "data"} & e["changes"].keys() for e in _user_updated_events(user.uid))


def _digest(password=DEFAULT_PASSWORD):
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt(4)).decode()


def test_import_with_bcrypt_digest_then_login(client):
    resp = mgmt(client, "users/import", {"email": "imported@example.com", "password_digest": _digest()})
    assert resp.status_code == 201, resp.get_json()
    body = resp.get_json()
    assert body["email"] == "imported@example.com"
    assert len(body["profiles"]) == 1 and body["profiles"][0]["state"] == "drafted"
    login = client.post("/api/v2/barong/identity/sessions",
                        json={"email": "imported@example.com", "password": DEFAULT_PASSWORD})
    assert login.status_code == 201, login.get_json()
    wrong = client.post("/api/v2/barong/identity/sessions",
                        json={"email": "imported@example.com", "password": DEFAULT_PASSWORD + "x"})
    assert wrong.status_code == 401


def test_import_missing_params_is_400(client):
    resp = mgmt(client, "users/import", {})
    assert resp.status_code == 400
    assert resp.get_json() == {"errors": ["management.user.missing_email", "management.user.empty_email",
                                          "management.user.missing_password_digest",
                                          "management.user.empty_password_digest"]}


def test_import_with_phone_and_profile(client):
    resp = mgmt(client, "users/import", {
        "email": "full@example.com", "password_digest": _digest(), "phone": "+1 202 555 0123",
        "first_name": "Grace", "last_name": "Hopper", "dob": "1906-12-09", "address": "1 Navy Rd",
        "city": "New York", "country": "US", "state": "rejected"})
    assert resp.status_code == 201, resp.get_json()
    user = User.query.filter_by(email="full@example.com").one()
    assert [p.number for p in user.phones] == ["12025550123"]
    assert user.phones[0].validated_at is not None
    assert len(resp.get_json()["profiles"]) == 1
    profile = resp.get_json()["profiles"][0]
    assert profile["last_name"] == "Hopper" and profile["dob"] == "1906-12-09" and profile["state"] == "rejected"
    assert profile["postcode"] is None


@pytest.mark.parametrize("extra,codes", [
    ({"phone": "12345"}, ["number.invalid"]),
    ({"country": "a"}, ["country.must have alpha2 or alpha3 format"]),
    ({"password_digest": "plain-text"}, ["password_digest.invalid"]),
    ({"email": "not-an-email"}, ["email.invalid"]),
])
def test_import_failures_leave_nothing(client, extra, codes):
    users_before, phones_before, profiles_before = User.query.count(), Phone.query.count(), Profile.query.count()
    resp = mgmt(client, "users/import", {"email": "half@example.com", "password_digest": _digest(), **extra})
    assert resp.status_code == 422
    assert resp.get_json() == {"errors": codes}
    db.session.expire_all()
    assert (User.query.count(), Phone.query.count(), Profile.query.count()) == (
        users_before, phones_before, profiles_before)


def test_import_existing_email(client, make_user):
    user = make_user()
    resp = mgmt(client, "users/import", {"email": user.email, "password_digest": _digest()})
    assert resp.status_code == 422
    assert resp.get_json() == {"errors": ["email.taken"]}
