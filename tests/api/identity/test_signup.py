"""POST identity/users (signup) and POST identity/users/access (whitelink)."""
from __future__ import annotations

import json

import pytest

from barong.extensions import db
from barong.models import Label, Restriction, SessionRecord, User
from barong.services.access import restrictions
from tests.helpers import DEFAULT_PASSWORD, token_from_mail

from .support import API, activities_of, counts, events_named, user_by_email

ME = "/api/v2/barong/resource/users/me"
FULL_KEYS = {"email", "uid", "role", "level", "otp", "state", "referral_uid", "csrf_token", "data", "labels",
             "phones", "profiles", "data_storages", "created_at", "updated_at", "username"}


@pytest.fixture
def someone(make_user):
    """An existing user, so that a signup is not the first (superadmin) registration."""
    return make_user()


def signup(client, **body):
    body.setdefault("email", "new@example.com")
    body.setdefault("password", DEFAULT_PASSWORD)
    return client.post(f"{API}/users", json=body)


def test_signup_201_pending_member_with_session_and_mail(client, someone, mailbox, app):
    resp = signup(client, email="New@Example.com")
    assert resp.status_code == 201, resp.get_json()
    body = resp.get_json()
    assert set(body) == FULL_KEYS
    assert (body["state"], body["role"], body["level"], body["email"]) == ("pending", "member", 0, "New@Example.com")
    assert body["uid"].startswith("ID") and len(body["uid"]) == 12
    assert app.config["BARONG_SESSION_NAME"] in resp.headers["Set-Cookie"]
    user = user_by_email("new@example.com")
    assert activities_of(user) == [("account", "signup", "succeed")]
    assert [e["record"]["uid"] for e in events_named("model.user.created")][-1] == user.uid
    [confirmation] = events_named("system.user.email.confirmation.token")
    assert confirmation["record"]["user"]["uid"] == user.uid and confirmation["record"]["token"]
    [msg] = mailbox("New@Example.com")
    assert msg["Subject"] == "Registration Confirmation"
    assert msg.get_body(preferencelist=("html",)) is not None
    assert token_from_mail(msg) == confirmation["record"]["token"]
    assert db.session.query(SessionRecord).filter_by(uid=user.uid).count() == 1
    assert client.get(ME).status_code == 200  # pending users have a working session


def test_first_registration_becomes_active_superadmin(client, mailbox):
    resp = signup(client, email="root@example.com")
    assert resp.status_code == 201
    body = resp.get_json()
    assert set(body) == FULL_KEYS
    assert (body["role"], body["state"], body["level"]) == ("superadmin", "active", 1)
    assert [(l["key"], l["value"], l["scope"]) for l in body["labels"]] == [("email", "verified", "private")]
    assert events_named("system.user.email.confirmation.token") == []
    assert all(m["Subject"] != "Registration Confirmation" for m in mailbox())


def test_first_registration_superadmin_off(client, app):
    app.config["BARONG_FIRST_REGISTRATION_SUPERADMIN"] = False
    body = signup(client).get_json()
    assert (body["role"], body["state"]) == ("member", "pending")


def test_second_registration_is_member(client):
    signup(client, email="first@example.com")
    client.delete(f"{API}/sessions")
    body = signup(client, email="second@example.com").get_json()
    assert (body["role"], body["state"], body["level"]) == ("member", "pending", 0)


@pytest.mark.parametrize("body,codes", [
    ({"email": "bad_format", "password": "Password1"}, ["email.invalid", "password.weak"]),
    ({"password": "password"}, ["password.requirements"]),
    ({"password": "Simple"}, ["password.requirements"]),
    ({"username": "qwe"}, ["username.too_short"]),
    ({"username": "q" * 13}, ["username.too_long"]),
    ({"username": "qwerty@="}, ["username.invalid"]),
    ({"username": ""}, ["username.too_short", "username.invalid"]),
    ({"data": "phone_number: 380969999999"}, ["data.invalid_format"]),
    ({"data": json.dumps({"k": "v" * 1100})}, ["data.too_long"]),
    ({"refid": "UID123"}, ["identity.user.invalid_referral_format"]),
    ({"refid": "ID1231231231"}, ["identity.user.referral_doesnt_exist"]),
])
def test_signup_validation_422_writes_nothing(client, someone, mailbox, body, codes):
    before = counts()
    resp = signup(client, **body)
    assert resp.status_code == 422, resp.get_json()
    assert resp.get_json() == {"errors": codes}
    assert counts() == before
    assert mailbox() == []
    assert "Set-Cookie" not in resp.headers


@pytest.mark.parametrize("body,codes", [
    ({}, ["identity.user.missing_email", "identity.user.empty_email", "identity.user.missing_password",
          "identity.user.empty_password"]),
    ({"email": "", "password": DEFAULT_PASSWORD}, ["identity.user.empty_email"]),
    ({"email": "a@b.io", "password": "  "}, ["identity.user.empty_password"]),
    ({"email": "a@b.io"}, ["identity.user.missing_password", "identity.user.empty_password"]),
])
def test_signup_missing_or_blank_400(client, body, codes):
    before = counts()
    resp = client.post(f"{API}/users", json=body)
    assert resp.status_code == 400 and resp.get_json() == {"errors": codes}
    assert counts() == before


def test_email_taken_case_insensitively(client, someone):
    resp = signup(client, email=someone.email.upper())
    assert resp.status_code == 422 and resp.get_json() == {"errors": ["email.taken"]}


def test_username_taken_case_insensitively(client, someone):
    assert signup(client, email="a1@example.com", username="NICK").status_code == 201
    resp = signup(client, email="a2@example.com", username="nick")
    assert resp.status_code == 422 and "username.taken" in resp.get_json()["errors"]


def test_username_and_json_data_accepted(client, someone):
    resp = signup(client, username="vadid", data=json.dumps({"language": "ru"}))
    assert resp.status_code == 201
    assert resp.get_json()["username"] == "vadid"
    assert json.loads(resp.get_json()["data"]) == {"language": "ru"}


def test_two_users_without_username(client, someone):
    assert signup(client, email="n1@example.com").status_code == 201
    assert signup(client, email="n2@example.com").status_code == 201


def test_referral_is_recorded(client, someone):
    resp = signup(client, refid=someone.uid.lower())
    assert resp.status_code == 201 and resp.get_json()["referral_uid"] == someone.uid


def test_form_encoded_signup(client, someone):
    resp = client.post(f"{API}/users", data={"email": "form@example.com", "password": DEFAULT_PASSWORD})
    assert resp.status_code == 201


# ---- users/access (whitelink) ---------------------------------------------------------------

class TestAccess:
    def test_whitelink_grants_the_callers_ip(self, client, app):
        token = restrictions.issue_whitelink(3600)
        db.session.commit()
        resp = client.post(f"{API}/users/access", json={"whitelink_token": token},
                           environ_base={"REMOTE_ADDR": "192.0.2.2"})
        assert resp.status_code == 201
        [r] = db.session.query(Restriction).filter_by(category="whitelist").all()
        assert (r.scope, r.value, r.state) == ("ip", "192.0.2.2", "enabled")
        # same IP again: the token is reusable, the restriction is not duplicated
        resp = client.post(f"{API}/users/access", json={"whitelink_token": token},
                           environ_base={"REMOTE_ADDR": "192.0.2.2"})
        assert resp.status_code == 422 and "value.taken" in resp.get_json()["errors"]
        resp = client.post(f"{API}/users/access", json={"whitelink_token": token},
                           environ_base={"REMOTE_ADDR": "192.0.2.3"})
        assert resp.status_code == 201
        assert db.session.query(Restriction).filter_by(category="whitelist").count() == 2

    def test_unknown_token_422(self, client):
        resp = client.post(f"{API}/users/access", json={"whitelink_token": "nope"})
        assert resp.status_code == 422 and resp.get_json() == {"errors": ["identity.user.access.invalid_token"]}
        assert db.session.query(Restriction).filter_by(category="whitelist").count() == 0

    @pytest.mark.parametrize("body,codes", [
        ({}, ["identity.user.missing_whitelink_token", "identity.user.empty_whitelink_token"]),
        ({"whitelink_token": ""}, ["identity.user.empty_whitelink_token"]),
    ])
    def test_missing_token_400(self, client, body, codes):
        resp = client.post(f"{API}/users/access", json=body)
        assert resp.status_code == 400 and resp.get_json() == {"errors": codes}
