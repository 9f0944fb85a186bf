"""Dates as Barong's `type: Date` reads them (CONTRACT §3, issue 13 item 8): the OpenDAX
front end sends `dob: "02/01/1990"` and `doc_expire: "07/01/2030"` (day first). ISO and
DD/MM/YYYY, DD.MM.YYYY, DD-MM-YYYY are accepted everywhere a date is; responses carry ISO;
impossible dates keep their error codes."""
from __future__ import annotations

from datetime import date

import pytest

from barong.extensions import db
from barong.models import Document, Profile
from tests.api.resource.conftest import errors, upload
from tests.helpers import UA, login_as

DOB_FORMS = ["1990-01-02", "02/01/1990", "02.01.1990", "02-01-1990", "2/1/1990", "1990-01-02T00:00:00Z"]
EXPIRE_FORMS = ["2030-01-07", "07/01/2030", "07.01.2030", "07-01-2030"]
IMPOSSIBLE = ["31/02/2020", "2020-13-01", "2020-02-30", "32.01.2020", "01/13/2020", "00/01/2020", "1990/01/02",
              "02/01/90", "yesterday"]


@pytest.mark.parametrize("value", DOB_FORMS)
def test_profile_dob_forms(api, value):
    resp = api.post("profiles", json={"dob": value})
    assert resp.status_code == 201, resp.get_json()
    assert resp.get_json()["dob"] == "1990-01-**"  # masked, ISO
    assert db.session.query(Profile).filter_by(user_id=api.user.id).one().dob == "1990-01-02"


@pytest.mark.parametrize("value", DOB_FORMS[1:4])
def test_profile_dob_forms_on_update(api, value):
    assert api.post("profiles", json={"first_name": "Ann"}).status_code == 201
    resp = api.put("profiles", data={"dob": value})
    assert resp.status_code == 200, resp.get_json()
    db.session.expire_all()
    assert db.session.query(Profile).filter_by(user_id=api.user.id).one().dob == "1990-01-02"


@pytest.mark.parametrize("value", IMPOSSIBLE)
def test_profile_impossible_dob_keeps_its_code(api, value):
    resp = api.post("profiles", json={"dob": value})
    assert resp.status_code == 422 and errors(resp) == ["invalid"]
    assert db.session.query(Profile).count() == 0


def test_future_dob_is_still_invalid(api):
    resp = api.post("profiles", json={"dob": "01/01/2999"})
    assert resp.status_code == 422 and errors(resp) == ["dob.invalid"]


@pytest.mark.parametrize("value", EXPIRE_FORMS)
def test_document_expire_forms(api, value):
    resp = api.post("documents", data={"doc_type": "Passport", "doc_number": "AA1234BB", "doc_expire": value,
                                       "upload[]": [upload()]}, content_type="multipart/form-data")
    assert resp.status_code == 201, resp.get_json()
    assert db.session.query(Document).filter_by(user_id=api.user.id).one().doc_expire == date(2030, 1, 7)
    assert api.get("documents").get_json()[0]["doc_expire"] == "2030-01-07"


@pytest.mark.parametrize("value", IMPOSSIBLE)
def test_document_impossible_expire_keeps_its_code(api, value):
    resp = api.post("documents", data={"doc_type": "Passport", "doc_number": "AA1234BB", "doc_expire": value,
                                       "upload[]": [upload()]}, content_type="multipart/form-data")
    assert resp.status_code == 422 and errors(resp) == ["resource.documents.expire_not_a_date"]
    assert db.session.query(Document).count() == 0


@pytest.fixture
def admin(app, make_user):
    c = app.test_client()
    c.environ_base["HTTP_USER_AGENT"] = UA
    c.environ_base["HTTP_X_CSRF_TOKEN"] = login_as(c, make_user(role="superadmin"))
    return c


@pytest.mark.parametrize("value", DOB_FORMS[:4])
def test_admin_profile_dob_forms(admin, make_user, value):
    user = make_user()
    resp = admin.post("/api/v2/barong/admin/profiles", json={"uid": user.uid, "first_name": "Ann", "dob": value})
    assert resp.status_code == 201, resp.get_json()
    assert resp.get_json()["dob"] == "1990-01-02"
    assert db.session.query(Profile).filter_by(user_id=user.id).one().dob == "1990-01-02"


@pytest.mark.parametrize("value", IMPOSSIBLE[:3])
def test_admin_profile_impossible_dob(admin, make_user, value):
    user = make_user()
    resp = admin.post("/api/v2/barong/admin/profiles", json={"uid": user.uid, "dob": value})
    assert resp.status_code == 422 and errors(resp) == ["dob.invalid_format"]
    assert db.session.query(Profile).filter_by(user_id=user.id).count() == 0
