"""management documents, profiles, phones."""
import base64
import io
from datetime import date, timedelta

import pytest
from PIL import Image

from barong.extensions import db
from barong.models import Document, Phone, Profile
from barong.services.accounts import phones, profiles
from tests.api.management.support import mgmt

pytestmark = pytest.mark.usefixtures("keychain")


def _jpeg() -> str:
    buf = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(buf, "JPEG")
    return base64.b64encode(buf.getvalue()).decode()


def _doc(user, **over):
    data = {"uid": user.uid, "doc_type": "Passport", "doc_number": "AB123456", "filename": "passport",
            "file_ext": ".jpg", "upload": _jpeg(), "doc_expire": (date.today() + timedelta(days=365)).isoformat()}
    data.update(over)
    return {k: v for k, v in data.items() if v is not None}


# --- documents --------------------------------------------------------------------------------

def test_document_upload(app, client, make_user):
    user = make_user()
    resp = mgmt(client, "documents", _doc(user))
    assert resp.status_code == 201, resp.get_json()
    docs = Document.query.filter_by(user_id=user.id).all()
    assert len(docs) == 1
    assert docs[0].doc_number == "AB123456" and docs[0].content_type == "image/jpeg"
    assert resp.get_json()["doc_number"] == "AB123456"
    db.session.expire_all()
    assert user.private_labels()["document"] == "pending"


def test_document_update_labels_false(client, make_user):
    user = make_user()
    assert mgmt(client, "documents", _doc(user, update_labels=False)).status_code == 201
    db.session.expire_all()
    assert "document" not in user.private_labels()
    resp = mgmt(client, "documents", _doc(user, update_labels="perhaps"))
    assert resp.status_code == 422
    assert resp.get_json() == {"errors": ["management.documents.update_labels_invalid"]}


def test_document_expire_rules(app, client, make_user):
    user = make_user()
    resp = mgmt(client, "documents", _doc(user, doc_expire=None))
    assert resp.status_code == 422
    assert Document.query.count() == 0
    resp = mgmt(client, "documents", _doc(user, doc_expire="2001-01-01"))
    assert resp.status_code == 422
    assert resp.get_json() == {"errors": ["management.documents.already_expired"]}
    app.config["BARONG_REQUIRED_DOCS_EXPIRE"] = False
    resp = mgmt(client, "documents", _doc(user, doc_expire="soon"))
    assert resp.status_code == 422
    assert resp.get_json() == {"errors": ["management.documents.expire_not_a_date"]}
    assert mgmt(client, "documents", _doc(user, doc_expire=None)).status_code == 201
    assert Document.query.count() == 1


@pytest.mark.parametrize("over,status,codes", [
    ({"upload": "%%%not-base64%%%"}, 422, ["management.documents.upload_not_base64"]),
    ({"upload": base64.b64encode(b"plain text, not an image").decode()}, 422, None),
    ({"doc_type": "Spaceship licence"}, 422, ["doc_type.inclusion"]),
    ({"file_ext": ".exe"}, 422, None),
    ({"uid": "ID0000000000"}, 404, ["record.not_found"]),
    ({"upload": ""}, 400, ["management.document.empty_upload"]),
])
def test_document_errors_store_nothing(app, client, make_user, over, status, codes):
    user = make_user()
    resp = mgmt(client, "documents", _doc(user, **over))
    assert resp.status_code == status, resp.get_json()
    if codes:
        assert resp.get_json() == {"errors": codes}
    assert Document.query.count() == 0


def test_document_missing_params(client):
    resp = mgmt(client, "documents", {})
    assert resp.status_code == 400
    errors = resp.get_json()["errors"]
    for name in ("uid", "doc_type", "doc_number", "filename", "file_ext", "upload"):
        assert f"management.document.missing_{name}" in errors


def test_document_needs_write_documents_mandatory_signer(client, make_user):
    assert mgmt(client, "documents", _doc(make_user()), signers=("james", "alex")).status_code == 401


# --- profiles ---------------------------------------------------------------------------------

def test_profile_create(client, make_user):
    user = make_user()
    resp = mgmt(client, "profiles", {"uid": user.uid, "first_name": "Ada", "last_name": "Lovelace",
                                     "dob": "1815-12-10", "address": "St James's Square", "city": "London",
                                     "country": "GBR", "metadata": {"nationality": "GB"}})
    assert resp.status_code == 201, resp.get_json()
    body = resp.get_json()
    assert len(body["profiles"]) == 1
    p = body["profiles"][0]
    assert p["state"] == "drafted" and p["last_name"] == "Lovelace" and p["dob"] == "1815-12-10"
    assert p["postcode"] is None
    assert Profile.query.filter_by(user_id=user.id).count() == 1


def test_profile_state_and_conflicts(client, make_user):
    user = make_user()
    resp = mgmt(client, "profiles", {"uid": user.uid, "last_name": "X", "state": "rejected"})
    assert resp.status_code == 201 and resp.get_json()["profiles"][0]["state"] == "rejected"
    resp = mgmt(client, "profiles", {"uid": user.uid, "last_name": "Y"})
    assert resp.status_code == 201
    assert [p["last_name"] for p in resp.get_json()["profiles"]] == ["X", "Y"]  # each row once
    resp = mgmt(client, "profiles", {"uid": user.uid, "last_name": "Z"})
    assert resp.status_code == 409 and resp.get_json() == {"errors": ["state.exists"]}
    resp = mgmt(client, "profiles", {"uid": user.uid, "state": "sleeping"})
    assert resp.status_code == 422 and resp.get_json() == {"errors": ["state.inclusion"]}


@pytest.mark.parametrize("data,status,codes", [
    ({"uid": "{uid}", "country": "a"}, 422, ["country.must have alpha2 or alpha3 format"]),
    ({"uid": "ID0000000000"}, 422, ["user.doesnt_exist"]),
    ({}, 400, ["management.profile.missing_uid", "management.profile.empty_uid"]),
    ({"uid": "{uid}", "dob": "tomorrow"}, 422, ["dob.invalid_format"]),
])
def test_profile_errors(client, make_user, data, status, codes):
    user = make_user()
    data = {k: v.replace("{uid}", user.uid) for k, v in data.items()}
    resp = mgmt(client, "profiles", data)
    assert resp.status_code == status
    assert resp.get_json() == {"errors": codes}
    assert Profile.query.count() == 0


# --- phones -----------------------------------------------------------------------------------

def test_phones_get(client, make_user):
    user = make_user()
    resp = mgmt(client, "phones/get", {"uid": user.uid})
    assert resp.status_code == 201 and resp.get_json() == []
    phones.create(user, "12025550123", verified=True)
    db.session.commit()
    body = mgmt(client, "phones/get", {"uid": user.uid}).get_json()
    assert body[0]["number"] == "12025550123" and body[0]["country"] == "US"
    resp = mgmt(client, "phones/get", {"uid": "ID0000000000"})
    assert resp.status_code == 422 and resp.get_json() == {"errors": ["user.doesnt_exist"]}


def test_phone_create_verified(client, make_user):
    user = make_user()
    resp = mgmt(client, "phones", {"uid": user.uid, "number": "12025550123"})
    assert resp.status_code == 201, resp.get_json()
    body = resp.get_json()
    assert body["country"] == "US" and body["number"] == "12025550123" and body["validated_at"]
    assert Phone.query.filter_by(user_id=user.id).count() == 1
    db.session.expire_all()
    assert "phone" not in user.private_labels()


@pytest.mark.parametrize("number,status,code", [
    ("123", 400, "management.phone.invalid_num"),
    ("++#{Faker::Number.number}", 400, "management.phone.invalid_num"),
    ("+44 07418084106", 400, "management.phone.number_exist"),
])
def test_phone_create_refusals(client, make_user, number, status, code):
    other = make_user()
    phones.create(other, "447418084106", verified=True)
    db.session.commit()
    user = make_user()
    resp = mgmt(client, "phones", {"uid": user.uid, "number": number})
    assert resp.status_code == status and resp.get_json() == {"errors": [code]}
    assert Phone.query.filter_by(user_id=user.id).count() == 0


def test_phone_create_own_duplicate_and_missing(client, make_user):
    user = make_user()
    phones.create(user, "12025550123", verified=False)
    db.session.commit()
    resp = mgmt(client, "phones", {"uid": user.uid, "number": "+1 (202) 555-0123"})
    assert resp.status_code == 400 and resp.get_json() == {"errors": ["management.phone.exists"]}
    resp = mgmt(client, "phones", {"uid": user.uid})
    assert resp.status_code == 400
    assert resp.get_json() == {"errors": ["management.phone.missing_number", "management.phone.empty_number"]}
    resp = mgmt(client, "phones", {"uid": "ID0000000000", "number": "12025550123"})
    assert resp.status_code == 422 and resp.get_json() == {"errors": ["user.doesnt_exist"]}


def test_phone_delete(client, make_user):
    user = make_user()
    phones.create(user, "12025550123", verified=True)
    phones.create(user, "447418084106", verified=True)
    db.session.commit()
    resp = mgmt(client, "phones/delete", {"uid": user.uid, "number": "+44 7418 084106"})
    assert resp.status_code == 201
    assert resp.get_json()["number"] == "447418084106" and resp.get_json()["country"] == "GB"
    db.session.expire_all()
    assert [p.number for p in Phone.query.filter_by(user_id=user.id)] == ["12025550123"]


@pytest.mark.parametrize("data,code", [
    ({"uid": "ID0000000000", "number": "12025550123"}, "user.doesnt_exist"),
    ({"uid": "{uid}", "number": "invalid_number"}, "management.phone.doesnt_exists"),
    ({"uid": "{uid}", "number": "447418084106"}, "management.phone.doesnt_exists"),
])
def test_phone_delete_errors(client, make_user, data, code):
    user = make_user()
    phones.create(user, "12025550123", verified=True)
    db.session.commit()
    data = {k: v.replace("{uid}", user.uid) for k, v in data.items()}
    resp = mgmt(client, "phones/delete", data)
    assert resp.status_code == 422 and resp.get_json() == {"errors": [code]}
    assert Phone.query.count() == 1


def test_phone_delete_of_another_user_is_refused(client, make_user):
    owner, other = make_user(), make_user()
    phones.create(owner, "447418084106", verified=True)
    db.session.commit()
    resp = mgmt(client, "phones/delete", {"uid": other.uid, "number": "447418084106"})
    assert resp.status_code == 422 and resp.get_json() == {"errors": ["management.phone.doesnt_exists"]}
    db.session.expire_all()
    assert [p.user_id for p in Phone.query] == [owner.id]


def test_phones_delete_service_drops_the_row_and_the_collection_entry(app, make_user):
    user = make_user()
    kept = phones.create(user, "12025550123", verified=True)
    gone = phones.create(user, "447418084106", verified=True)
    phones.delete(gone)
    assert user.phones == [kept]
    assert [p.number for p in Phone.query.filter_by(user_id=user.id)] == ["12025550123"]


def test_phones_scopes(client, make_user):
    user = make_user()
    assert mgmt(client, "phones/get", {"uid": user.uid}, signers=("james",)).status_code == 401
    assert mgmt(client, "phones", {"uid": user.uid, "number": "12025550123"},
                signers=("alex",)).status_code == 401
