"""Management profiles, users/create and documents read Barong's `type: Date` forms too
(ISO and day-first, CONTRACT §3) and answer with ISO dates; impossible dates keep their codes."""
from __future__ import annotations

from datetime import date

import pytest

from barong.models import Document, Profile, User
from tests.api.management.test_kyc import _doc
from tests.api.management.support import mgmt

pytestmark = pytest.mark.usefixtures("keychain")


@pytest.mark.parametrize("value", ["1990-01-02", "02/01/1990", "02.01.1990", "02-01-1990"])
def test_profile_dob_forms(client, make_user, value):
    user = make_user()
    resp = mgmt(client, "profiles", {"uid": user.uid, "last_name": "Lovelace", "dob": value})
    assert resp.status_code == 201, resp.get_json()
    assert resp.get_json()["profiles"][0]["dob"] == "1990-01-02"
    assert Profile.query.filter_by(user_id=user.id).one().dob == "1990-01-02"


@pytest.mark.parametrize("value", ["31/02/2020", "2020-13-01"])
def test_profile_impossible_dob(client, make_user, value):
    user = make_user()
    resp = mgmt(client, "profiles", {"uid": user.uid, "dob": value})
    assert resp.status_code == 422 and resp.get_json() == {"errors": ["dob.invalid_format"]}
    assert Profile.query.count() == 0


def test_user_import_with_a_day_first_dob(client):
    import bcrypt

    digest = bcrypt.hashpw(b"Tecohvi0-Strong", bcrypt.gensalt(4)).decode()
    resp = mgmt(client, "users/import", {"email": "dob@example.com", "password_digest": digest,
                                         "dob": "02/01/1990", "last_name": "Day"})
    assert resp.status_code == 201, resp.get_json()
    user = User.query.filter_by(email_lower="dob@example.com").one()
    assert Profile.query.filter_by(user_id=user.id).one().dob == "1990-01-02"


@pytest.mark.parametrize("value", ["07/01/2030", "07.01.2030", "07-01-2030", "2030-01-07"])
def test_document_expire_forms(client, make_user, value):
    user = make_user()
    resp = mgmt(client, "documents", _doc(user, doc_expire=value))
    assert resp.status_code == 201, resp.get_json()
    assert Document.query.filter_by(user_id=user.id).one().doc_expire == date(2030, 1, 7)


def test_document_impossible_expire(client, make_user):
    resp = mgmt(client, "documents", _doc(make_user(), doc_expire="31/02/2030"))
    assert resp.status_code == 422
    assert Document.query.count() == 0
