"""resource/documents and addresses: multipart uploads, content checks, limits, expiry,
all-or-nothing, download by the owner only."""
from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import pytest

from barong.extensions import db
from barong.models import Document, OutboxEvent
from tests.api.resource.conftest import JPG, PDF, PNG, errors, upload
from tests.helpers import login_as

VALID = {"doc_type": "Passport", "doc_number": "AA1234BB", "doc_expire": "3020-01-22"}


def _post(api, files=None, **fields):
    data = dict(VALID)
    data.update(fields)
    data = {k: v for k, v in data.items() if v is not None}
    if files is None:
        files = [upload()]
    if files:
        data["upload[]"] = files
    return api.post("documents", data=data, content_type="multipart/form-data")


def _stored(app):
    folder = Path(app.config["BARONG_UPLOADS_PATH"])
    return sorted(folder.iterdir()) if folder.exists() else []


def _nothing_written(api, app):
    assert db.session.query(Document).filter_by(user_id=api.user.id).count() == 0
    assert _stored(app) == []
    assert "document" not in api.reload().private_labels()
    assert db.session.query(OutboxEvent).filter_by(name="model.document.created").count() == 0


def test_upload_one(api, app):
    resp = _post(api)
    assert resp.status_code == 201
    doc = db.session.query(Document).filter_by(user_id=api.user.id).one()
    assert doc.doc_type == "Passport" and doc.doc_number == "AA1234BB" and doc.doc_expire == date(3020, 1, 22)
    assert len(doc.identificator) == 32 and doc.content_type == "image/png"
    files = _stored(app)
    assert [f.name for f in files] == [doc.upload] and files[0].read_bytes() == PNG
    assert "doc" not in doc.upload and len(doc.upload) > 32  # random name
    assert api.reload().private_labels()["document"] == "pending"
    assert db.session.query(OutboxEvent).filter_by(name="model.document.created").count() == 1


def test_upload_several_types(api):
    resp = _post(api, files=[upload("a.png", PNG), upload("b.JPG", JPG), upload("c.jpeg", JPG), upload("d.pdf", PDF)],
                 doc_category="front_side", identificator="group-1", metadata='{"k":"v"}')
    assert resp.status_code == 201
    docs = db.session.query(Document).filter_by(user_id=api.user.id).all()
    assert len(docs) == 4 and {d.identificator for d in docs} == {"group-1"}
    assert [d.content_type for d in docs] == ["image/png", "image/jpeg", "image/jpeg", "application/pdf"]
    assert docs[0].metadata_json == '{"k":"v"}' and docs[0].doc_category == "front_side"


def test_single_field_named_upload(api):
    resp = api.post("documents", data={**VALID, "upload": upload()}, content_type="multipart/form-data")
    assert resp.status_code == 201


def test_list_and_download(api, app, client, make_user):
    _post(api, files=[upload("x.pdf", PDF)])
    items = api.get("documents").get_json()
    assert len(items) == 1
    assert items[0]["doc_number"] == "AA****BB" and items[0]["doc_type"] == "Passport"
    assert items[0]["doc_expire"] == "3020-01-22" and set(items[0]) == {"upload", "doc_type", "doc_number", "doc_expire",
                                                                    "review_state", "review_reason",
                                                                    "review_reason_text", "review_note"}
    assert items[0]["review_state"] == "pending" and items[0]["review_reason"] is None
    url = items[0]["upload"]
    path = url.split("/api/v2/barong/resource/")[1]
    resp = api.get(path)
    assert resp.status_code == 200 and resp.data == PDF and resp.mimetype == "application/pdf"
    app.config["BARONG_API_DATA_MASKING"] = False
    assert api.get("documents").get_json()[0]["doc_number"] == "AA1234BB"
    other = make_user()
    login_as(api.client, other)  # the same client, now someone else
    assert api.client.get(f"/api/v2/barong/resource/{path}").status_code == 404


def test_requires_auth(client):
    assert client.get("/api/v2/barong/resource/documents").status_code == 401
    assert client.post("/api/v2/barong/resource/documents", data=VALID).status_code == 401


@pytest.mark.parametrize("name,data,code", [
    ("doc.gif", b"GIF89a" + b"\x00" * 20, "upload.extension_whitelist_error"),
    ("doc.exe", b"MZ" + b"\x00" * 20, "upload.extension_whitelist_error"),
    ("doc.png", b"<?php echo 1; ?>", "upload.content_type_whitelist_error"),
    ("doc.pdf", PNG, "upload.content_type_whitelist_error"),
    ("doc.jpg", PDF, "upload.content_type_whitelist_error"),
    ("doc.png", b"", "upload.min_size_error"),
])
def test_refused_file(api, app, name, data, code):
    resp = _post(api, files=[upload(name, data)])
    assert resp.status_code == 422 and errors(resp) == [code]
    _nothing_written(api, app)


def test_oversized_file(api, app):
    app.config["BARONG_UPLOAD_MAX_SIZE"] = 1000
    resp = _post(api, files=[upload("big.png", PNG + b"\x00" * 1000)])
    assert resp.status_code == 422 and errors(resp) == ["upload.max_size_error"]
    _nothing_written(api, app)


def test_one_bad_file_refuses_all(api, app):
    resp = _post(api, files=[upload("a.png", PNG), upload("b.pdf", PNG)])
    assert resp.status_code == 422
    _nothing_written(api, app)


def test_failure_after_files_written_removes_them(api, app, monkeypatch):
    from barong.services.verification import documents

    def boom(*args, **kwargs):
        raise RuntimeError("label store down")

    monkeypatch.setattr(documents, "kyc_step", boom)
    resp = _post(api, files=[upload("a.png", PNG), upload("b.png", PNG)])
    assert resp.status_code == 500
    _nothing_written(api, app)


def test_param_errors(api, app):
    resp = _post(api, doc_type=None)
    assert resp.status_code == 400
    assert errors(resp) == ["resource.document.missing_doc_type", "resource.document.empty_doc_type"]
    resp = _post(api, doc_number=None)
    assert errors(resp) == ["resource.document.missing_doc_number", "resource.document.empty_doc_number"]
    resp = _post(api, files=[])
    assert resp.status_code == 400 and errors(resp) == ["resource.document.missing_upload"]
    resp = _post(api, doc_expire="blah")
    assert resp.status_code == 422 and errors(resp) == ["resource.documents.expire_not_a_date"]
    resp = api.post("documents", data={**VALID, "upload": "http://example.com/a.png"})
    assert resp.status_code == 422 and errors(resp) == ["upload.blank"]
    resp = _post(api, doc_category="left_side")
    assert resp.status_code == 422 and errors(resp) == ["resource.documents.doc_category"]
    resp = _post(api, doc_type="Selfie")
    assert resp.status_code == 422 and errors(resp) == ["doc_type.inclusion"]
    resp = _post(api, doc_number="AA/12")
    assert resp.status_code == 422 and errors(resp) == ["doc_number.invalid"]
    resp = _post(api, metadata="{ bar: baz }")
    assert resp.status_code == 422 and errors(resp) == ["metadata.invalid_format"]
    _nothing_written(api, app)


def test_expiry_rules(api, app):
    yesterday = (date.today() - timedelta(days=1)).isoformat()
    resp = _post(api, doc_expire=None)
    assert resp.status_code == 422 and errors(resp) == ["resource.documents.invalid_format"]
    resp = _post(api, doc_expire=yesterday)
    assert resp.status_code == 422 and errors(resp) == ["resource.documents.already_expired"]
    _nothing_written(api, app)
    app.config["BARONG_REQUIRED_DOCS_EXPIRE"] = False
    assert _post(api, doc_expire=None).status_code == 201
    assert _post(api, doc_expire=yesterday).status_code == 201


def test_document_limit(api, app):
    app.config["BARONG_DOC_NUM_LIMIT"] = 3
    for _ in range(3):
        assert _post(api).status_code == 201
    resp = _post(api)
    assert resp.status_code == 400 and errors(resp) == ["resource.documents.limit_will_be_reached"]
    assert db.session.query(Document).filter_by(user_id=api.user.id).count() == 3
    assert len(_stored(app)) == 3
    assert _post(api, doc_type="Identity card", files=[upload(), upload(), upload()]).status_code == 201
    resp = _post(api, doc_type="Driver license", files=[upload()] * 0 + [upload() for _ in range(4)])
    assert resp.status_code == 400 and errors(resp) == ["resource.documents.limit_will_be_reached"]


def test_limit_reached_when_already_over(api, app):
    for _ in range(3):
        _post(api)
    app.config["BARONG_DOC_NUM_LIMIT"] = 2
    resp = _post(api)
    assert resp.status_code == 400 and errors(resp) == ["resource.documents.limit_reached"]


def test_pending_label_replaces_verified(api):
    from barong.services.accounts import labels

    labels.add(api.user, "document", "verified", scope="private")
    db.session.commit()
    assert _post(api).status_code == 201
    assert api.reload().private_labels()["document"] == "pending"


def _address(api, files=None, **fields):
    data = {"country": "UA", "address": "Shevchenko 1", "city": "Kyiv", "postcode": "01001"}
    data.update(fields)
    data = {k: v for k, v in data.items() if v is not None}
    data["upload[]"] = files if files is not None else [upload("bill.pdf", PDF)]
    return api.post("addresses", data=data, content_type="multipart/form-data")


def test_addresses(api, app):
    resp = _address(api, files=[upload("a.pdf", PDF), upload("b.png", PNG)])
    assert resp.status_code == 201
    docs = db.session.query(Document).filter_by(user_id=api.user.id).all()
    assert len(docs) == 2 and {d.doc_type for d in docs} == {"Address"} and len({d.identificator for d in docs}) == 1
    assert docs[0].doc_number is None and docs[0].doc_expire is None
    labels = api.reload().private_labels()
    assert labels["address"] == "pending" and "document" not in labels
    app.config["BARONG_DOC_NUM_LIMIT"] = 1
    assert _address(api).status_code == 201  # no limit on proofs of address


def test_addresses_errors(api, app):
    resp = _address(api, country=None, address="")
    assert resp.status_code == 400
    assert errors(resp) == ["resource.address.missing_country", "resource.address.empty_country",
                            "resource.address.empty_address"]
    resp = _address(api, city=None, postcode=None)
    assert errors(resp) == ["resource.address.missing_city", "resource.address.missing_postcode"]
    resp = _address(api, files=[upload("bill.txt", b"hello")])
    assert resp.status_code == 422 and errors(resp) == ["upload.extension_whitelist_error"]
    assert _stored(app) == [] and "address" not in api.reload().private_labels()
    resp = _address(api, files=[])
    assert errors(resp) == ["resource.address.missing_upload"]


def test_document_event_record(api):
    _post(api)
    event = db.session.query(OutboxEvent).filter_by(name="model.document.created").one()
    record = json.loads(event.payload)["record"]
    assert record["doc_type"] == "Passport" and record["upload"].endswith("/upload") and record["user"]["uid"]
