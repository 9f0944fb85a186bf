"""resource/data_storage: configured titles, JSON data, the `<title>: recorded` label."""
from __future__ import annotations

import json

import pytest

from barong.extensions import db
from barong.models import DataStorage, OutboxEvent
from tests.api.resource.conftest import errors


def _rows(user):
    return db.session.query(DataStorage).filter_by(user_id=user.id).all()


def test_create(api):
    resp = api.post("data_storage", json={"title": "personal", "data": '{"name":"Ann"}'})
    assert resp.status_code == 201 and resp.data == b""
    rows = _rows(api.user)
    assert len(rows) == 1 and rows[0].data == '{"name":"Ann"}'
    user = api.reload()
    assert user.private_labels()["personal"] == "recorded"
    assert api.get("users/me").get_json()["data_storages"][0]["title"] == "personal"
    event = db.session.query(OutboxEvent).filter_by(name="model.data_storage.created").one()
    assert json.loads(event.payload)["record"]["title"] == "personal"
    resp = api.post("data_storage", json={"title": "Personal", "data": "{}"})
    assert resp.status_code == 422 and errors(resp) == ["title.taken"]


@pytest.mark.parametrize("title,data,codes", [
    ("personal", "not json", ["data.invalid_format"]),
    ("personal", json.dumps({"x": "y" * 5200}), ["data.too_long"]),
    ("family_info", "{}", ["title.inclusion"]),
    ("document", "{}", ["title.inclusion", "title.exclusion"]),
])
def test_refused(api, title, data, codes):
    resp = api.post("data_storage", json={"title": title, "data": data})
    assert resp.status_code == 422 and errors(resp) == codes
    assert _rows(api.user) == [] and title not in api.reload().private_labels()


def test_param_errors(api):
    resp = api.post("data_storage", json={})
    assert resp.status_code == 400
    assert errors(resp) == ["resource.datastorage.missing_title", "resource.datastorage.empty_title",
                            "resource.datastorage.missing_data", "resource.datastorage.empty_data"]


def test_existing_label_is_kept(api):
    from barong.services.accounts import labels

    labels.add(api.user, "company", "recorded", scope="private")
    db.session.commit()
    assert api.post("data_storage", json={"title": "company", "data": {"a": 1}}).status_code == 201
    assert _rows(api.user)[0].data == '{"a": 1}'
