"""resource/labels: public labels only are managed by the user."""
from __future__ import annotations

from barong.extensions import db
from barong.models import Label
from barong.services.accounts import labels
from tests.api.resource.conftest import errors


def test_list_and_show(api):
    labels.add(api.user, "first", "one")
    labels.add(api.user, "second", "two")
    db.session.commit()
    resp = api.get("labels")
    assert resp.status_code == 200
    keys = [l["key"] for l in resp.get_json()]
    assert keys[0] == "email" and keys[-1] == "second"  # private labels are listed too
    assert [l["key"] for l in api.get("labels", query_string={"ordering": "desc"}).get_json()][0] == "second"
    resp = api.get("labels", query_string={"ordering": "up"})
    assert resp.status_code == 422 and errors(resp) == ["value"]
    resp = api.get("labels/first")
    assert resp.status_code == 200 and resp.get_json()["value"] == "one"
    resp = api.get("labels/blah")
    assert resp.status_code == 404 and errors(resp) == ["record.not_found"]


def test_create(api):
    resp = api.post("labels", json={"key": "Hobby", "value": "Chess"})
    assert resp.status_code == 201
    assert resp.get_json()["key"] == "hobby" and resp.get_json()["scope"] == "public"
    label = db.session.query(Label).filter_by(user_id=api.user.id, key="hobby").one()
    assert label.scope == "public" and label.value == "chess"
    resp = api.post("labels", json={"key": "hobby", "value": "goban"})
    assert resp.status_code == 422 and "key.taken" in errors(resp)


def test_create_errors(api):
    resp = api.post("labels", json={})
    assert resp.status_code == 400
    assert errors(resp) == ["resource.label.missing_key", "resource.label.empty_key",
                            "resource.label.missing_value", "resource.label.empty_value"]
    resp = api.post("labels", json={"key": "a b!", "value": "ok value"})
    assert resp.status_code == 422 and set(errors(resp)) == {"key.invalid", "value.invalid"}
    resp = api.post("labels", json={"key": "ab", "value": "fine"})
    assert errors(resp) == ["key.too_short"]
    assert db.session.query(Label).filter_by(user_id=api.user.id, scope="public").count() == 0


def test_update_and_delete(api):
    labels.add(api.user, "hobby", "chess")
    db.session.commit()
    resp = api.patch("labels/hobby", json={"value": "goban"})
    assert resp.status_code == 200 and resp.get_json()["value"] == "goban" and resp.get_json()["scope"] == "public"
    resp = api.patch("labels/hobby", json={"value": ""})
    assert resp.status_code == 400 and errors(resp) == ["resource.label.empty_value"]
    resp = api.patch("labels/hobby", json={"value": "bad value!"})
    assert resp.status_code == 422 and errors(resp) == ["value.invalid"]
    resp = api.delete("labels/hobby")
    assert resp.status_code == 204
    assert labels.find(api.reload(), "hobby") is None
    assert api.delete("labels/hobby").status_code == 404
    assert api.patch("labels/nothing", json={"value": "x1x"}).status_code == 404


def test_private_labels_are_read_only(api):
    resp = api.patch("labels/email", json={"value": "unverified"})
    assert resp.status_code == 400 and errors(resp) == ["resource.labels.private"]
    resp = api.delete("labels/email")
    assert resp.status_code == 400 and errors(resp) == ["resource.labels.private"]
    assert api.reload().private_labels()["email"] == "verified"
