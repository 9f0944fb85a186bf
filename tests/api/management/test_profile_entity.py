"""Seed 2.3.38's `profile` on management user entities: the user's latest profile (or
null) beside `profiles`, on every management endpoint that answers with a user
(UserWithKYC / UserWithProfile); the plain `User` entity stays as it was."""
from __future__ import annotations

import bcrypt
import pytest

from barong.extensions import db
from barong.services.accounts import labels, profiles
from tests.api.management.support import mgmt
from tests.helpers import DEFAULT_PASSWORD

pytestmark = pytest.mark.usefixtures("keychain")


@pytest.fixture
def two_profiles(make_user):
    """A user whose first profile was rejected and who then filed a second one."""
    user = make_user()
    profiles.create(user, {"first_name": "Ada", "last_name": "Byron", "dob": "1815-12-10", "country": "GB"},
                    state="rejected")
    profiles.create(user, {"first_name": "Ada", "last_name": "Lovelace", "dob": "1815-12-10", "country": "GB"})
    db.session.commit()
    return user


def _latest_is_last(body: dict) -> None:
    assert body["profile"] == body["profiles"][-1]


def test_users_get_carries_the_latest_profile_unmasked(client, two_profiles):
    body = mgmt(client, "users/get", {"uid": two_profiles.uid}).get_json()
    assert [p["last_name"] for p in body["profiles"]] == ["Byron", "Lovelace"]
    assert body["profile"]["last_name"] == "Lovelace" and body["profile"]["state"] == "drafted"
    assert body["profile"]["dob"] == "1815-12-10"
    _latest_is_last(body)


def test_users_get_without_a_profile_has_profile_null(client, make_user):
    user = make_user()
    body = mgmt(client, "users/get", {"email": user.email}).get_json()
    assert "profile" in body and body["profile"] is None and body["profiles"] == []


def test_users_list_extended_carries_profile_plain_list_does_not(client, two_profiles, make_user):
    bare = make_user()
    body = mgmt(client, "users/list", {"extended": True}).get_json()
    by_uid = {u["uid"]: u for u in body}
    assert by_uid[two_profiles.uid]["profile"]["last_name"] == "Lovelace"
    _latest_is_last(by_uid[two_profiles.uid])
    assert by_uid[bare.uid]["profile"] is None
    plain = mgmt(client, "users/list").get_json()
    assert all("profile" not in u and "profiles" not in u for u in plain)  # seed's User entity


def test_users_create_answers_profile_null(client):
    resp = mgmt(client, "users", {"email": "fresh@example.com", "password": DEFAULT_PASSWORD})
    assert resp.status_code == 201
    body = resp.get_json()
    assert body["profile"] is None and body["profiles"] == []


def test_users_update_carries_the_latest_profile(client, two_profiles):
    resp = mgmt(client, "users/update", {"uid": two_profiles.uid, "role": "admin"})
    assert resp.status_code == 201, resp.get_json()
    body = resp.get_json()
    assert body["profile"]["last_name"] == "Lovelace"
    _latest_is_last(body)


def test_users_import_carries_the_imported_profile(client):
    digest = bcrypt.hashpw(DEFAULT_PASSWORD.encode(), bcrypt.gensalt(4)).decode()
    resp = mgmt(client, "users/import", {"email": "imp@example.com", "password_digest": digest,
                                         "first_name": "Grace", "last_name": "Hopper", "dob": "1906-12-09",
                                         "country": "US"})
    assert resp.status_code == 201, resp.get_json()
    body = resp.get_json()
    assert body["profile"]["last_name"] == "Hopper" and body["profile"]["dob"] == "1906-12-09"
    _latest_is_last(body)


def test_profiles_create_answers_with_the_new_profile(client, make_user):
    user = make_user()
    profiles.create(user, {"last_name": "Old"}, state="rejected")
    db.session.commit()
    resp = mgmt(client, "profiles", {"uid": user.uid, "last_name": "New", "country": "FR"})
    assert resp.status_code == 201, resp.get_json()
    body = resp.get_json()
    assert body["profile"]["last_name"] == "New" and [p["last_name"] for p in body["profiles"]] == ["Old", "New"]


def test_labels_filter_users_extended_carries_profile_masked_like_profiles(client, two_profiles, make_user):
    bare = make_user()
    for u in (two_profiles, bare):
        labels.add(u, "kyc", "done", scope="public")
    db.session.commit()
    body = mgmt(client, "labels/filter/users", {"key": "kyc", "extended": True}).get_json()
    by_uid = {u["uid"]: u for u in body}
    assert by_uid[two_profiles.uid]["profile"]["last_name"] == "L*******"
    _latest_is_last(by_uid[two_profiles.uid])
    assert by_uid[bare.uid]["profile"] is None
    plain = mgmt(client, "labels/filter/users", {"key": "kyc"}).get_json()
    assert all("profile" not in u for u in plain)
