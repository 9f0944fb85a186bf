"""resource/profiles: create (drafted/submitted), edit the drafted one, list; labels and events."""
from __future__ import annotations

import pytest

from barong.extensions import db
from barong.models import OutboxEvent, Profile
from barong.services.delivery import events
from tests.api.resource.conftest import errors

FULL = {"first_name": "Peter", "last_name": "Berezniy", "dob": "1990-05-12", "address": "28/2 Kevin Brook; Miami, USA",
        "postcode": "33101", "city": "Miami", "country": "US", "metadata": '{"nationality":"us"}'}


def _profiles(user):
    return db.session.query(Profile).filter_by(user_id=user.id).all()


def test_create_full(api):
    resp = api.post("profiles", json=FULL)
    assert resp.status_code == 201
    body = resp.get_json()
    assert body["first_name"] == "Peter" and body["last_name"] == "B*******" and body["dob"] == "1990-05-**"
    assert body["state"] == "drafted" and body["metadata"] == '{"nationality":"us"}'
    assert body["city"] == "Miami" and body["country"] == "US" and body["postcode"] == "33101"
    profile = _profiles(api.user)[0]
    assert profile.last_name == "Berezniy" and "Berezniy" not in (profile.last_name_encrypted or "")
    assert api.reload().private_labels()["profile"] == "drafted"
    event = db.session.query(OutboxEvent).filter_by(name="model.profile.created").one()
    assert "Berezniy" not in event.payload  # sealed in the outbox like the column
    record = events.payload_of(event)["record"]
    assert {"user", "first_name", "last_name", "dob", "address", "postcode", "city", "country"} <= set(record)
    assert record["last_name"] == "Berezniy"


def test_create_empty_and_confirm(api):
    resp = api.post("profiles", json={})
    assert resp.status_code == 201 and resp.get_json()["state"] == "drafted"
    assert resp.get_json()["first_name"] is None
    resp = api.put("profiles", json={"confirm": True})
    assert resp.status_code == 200 and resp.get_json()["state"] == "submitted"
    assert len(_profiles(api.user)) == 1
    labels = [l for l in api.reload().labels if l.key == "profile"]
    assert len(labels) == 1 and labels[0].value == "submitted"


def test_create_submitted(api):
    resp = api.post("profiles", data={"first_name": "Ann", "last_name": "Lee", "confirm": "true"})
    assert resp.status_code == 201 and resp.get_json()["state"] == "submitted"
    assert api.reload().private_labels()["profile"] == "submitted"


@pytest.mark.parametrize("first_state", ["drafted", "submitted"])
def test_second_open_profile_conflicts(api, first_state):
    api.post("profiles", json={"confirm": first_state == "submitted"})
    for confirm in (False, True):
        resp = api.post("profiles", json={"first_name": "Again", "confirm": confirm})
        assert resp.status_code == 409 and errors(resp) == ["state.exists"]
    assert len(_profiles(api.user)) == 1


@pytest.mark.parametrize("field,value", [
    ("address", "Larkin Fork.South, New York/AP"), ("address", "28~1/2 \"Kevin & Brook\": (Miami, USA)"),
    ("address", "O'Hara – street"), ("city", "St. Petersburg"), ("city", "Hubli–Dharwad"),
    ("city", "Cava de' Tirreni"), ("last_name", "국"), ("first_name", "지민"), ("country", "usa"),
])
def test_accepted_values(api, field, value):
    resp = api.post("profiles", json={field: value})
    assert resp.status_code == 201, resp.get_json()


@pytest.mark.parametrize("field,value,code", [
    ("address", "me@home", "address.invalid"), ("city", "Miami #1", "city.invalid"), ("city", "a@b", "city.invalid"),
    ("first_name", "Pe7er!", "first_name.invalid"), ("postcode", "1", "postcode.too_short"),
    ("metadata", "{ bar: baz }", "metadata.invalid_format"), ("dob", "2999-01-01", "dob.invalid"),
    ("country", "a", "country.must have alpha2 or alpha3 format"), ("last_name", "x" * 256, "last_name.too_long"),
])
def test_refused_values_write_nothing(api, field, value, code):
    resp = api.post("profiles", json={field: value})
    assert resp.status_code == 422 and errors(resp) == [code]
    assert _profiles(api.user) == [] and "profile" not in api.reload().private_labels()
    assert db.session.query(OutboxEvent).filter_by(name="model.profile.created").count() == 0


def test_bad_dob_param(api):
    resp = api.post("profiles", json={"dob": "yesterday"})
    assert resp.status_code == 422 and errors(resp) == ["invalid"]


def test_me(api):
    assert api.get("profiles/me").get_json() == []
    api.post("profiles", json=FULL)
    items = api.get("profiles/me").get_json()
    assert len(items) == 1 and items[0]["last_name"] == "B*******" and items[0]["metadata"] == FULL["metadata"]


def test_update(api):
    resp = api.put("profiles", json={"first_name": "Nobody"})
    assert resp.status_code == 404 and errors(resp) == ["resource.profile.doesnt_exist_or_not_editable"]
    api.post("profiles", json=FULL)
    resp = api.put("profiles", json={"city": "Kyiv"})
    assert resp.status_code == 200 and resp.get_json()["city"] == "Kyiv" and resp.get_json()["state"] == "drafted"
    resp = api.put("profiles", json={"city": "Ky#iv"})
    assert resp.status_code == 422 and errors(resp) == ["city.invalid"]
    assert _profiles(api.reload())[0].city == "Kyiv"
    api.put("profiles", json={"confirm": True})
    resp = api.put("profiles", json={"city": "Lviv"})
    assert resp.status_code == 404  # submitted profiles are not editable
    assert len(_profiles(api.user)) == 1


def test_new_profile_after_verification(api):
    from barong.services.accounts import profiles

    api.post("profiles", json={"confirm": True})
    profiles.set_state(_profiles(api.user)[0], "rejected")
    db.session.commit()
    assert api.reload().private_labels()["profile"] == "rejected"
    assert api.post("profiles", json={"first_name": "Again"}).status_code == 201
    assert api.reload().private_labels()["profile"] == "drafted"
