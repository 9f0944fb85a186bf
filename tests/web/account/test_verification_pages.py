"""Phone, profile, identity documents and proof of address pages."""
from __future__ import annotations

import io
from datetime import date

from barong.extensions import db
from barong.models import Document, Phone, Profile, User
from tests.browser.support import png_bytes
from tests.web.account.conftest import HX
from tests.web.account.pages import field_error, html, with_nonce

NUMBER = "+44 7418 084106"


def _user(user) -> User:
    db.session.expire_all()
    return db.session.get(User, user.id)


def _add_phone(client, number, headers=None):
    """Send the add-phone form as the page renders it (with its one-time form nonce)."""
    data = with_nonce(client, "/accounts/phone", {"phone_number": number, "channel": "sms"})
    return client.post("/accounts/phone", data=data, headers=headers or {})


def test_phone_add_verify(client, signed_in):
    user = signed_in()
    assert "Add a phone number" in html(client.get("/accounts/phone"))
    resp = _add_phone(client, NUMBER, headers=HX)
    assert resp.status_code == 200
    body = html(resp)
    assert "+44******4106" in body and 'data-wait="' in body and "awaiting code" in body
    assert body.count("<h2>+44******4106</h2>") == 1  # the just-added phone is listed once
    phone = db.session.query(Phone).filter_by(user_id=user.id).one()
    wrong = client.post(f"/accounts/phone/{phone.id}/verify", data={f"p{phone.id}-verification_code": "99999"})
    assert wrong.status_code == 422
    assert "not valid" in field_error(wrong, f"p{phone.id}-verification_code")
    ok = client.post(f"/accounts/phone/{phone.id}/verify", data={f"p{phone.id}-verification_code": "12345"})
    assert ok.status_code == 303
    assert _user(user).level == 2
    assert db.session.get(Phone, phone.id).validated_at is not None


def test_phone_refusals(client, signed_in, make_user):
    user = signed_in()
    bad = _add_phone(client, "12")
    assert bad.status_code == 422 and "not valid" in field_error(bad, "phone_number")
    _add_phone(client, NUMBER)
    twice = _add_phone(client, NUMBER)
    assert twice.status_code == 422 and "already added" in field_error(twice, "phone_number")
    assert db.session.query(Phone).filter_by(user_id=user.id).count() == 1


def test_phone_resend_and_someone_elses_phone(client, signed_in, make_user):
    signed_in()
    client.post("/accounts/phone", data=with_nonce(client, "/accounts/phone", {"phone_number": NUMBER}))
    phone = db.session.query(Phone).one()
    assert client.post(f"/accounts/phone/{phone.id}/resend").status_code == 303
    other = make_user()
    theirs = Phone(user_id=other.id, country="GB")
    theirs.number = "447418084107"
    db.session.add(theirs)
    db.session.commit()
    assert client.post(f"/accounts/phone/{theirs.id}/verify", data={}).status_code == 404
    assert client.post(f"/accounts/phone/{theirs.id}/resend").status_code == 404


PROFILE = {"first_name": "Ada", "last_name": "Lovelace", "dob": "1990-12-10", "country": "GB",
           "address": "12 St James's Square", "postcode": "SW1Y 4LB", "city": "London"}


def test_profile_draft_then_submit(client, signed_in):
    user = signed_in()
    assert "First name" in html(client.get("/accounts/profile"))
    draft = client.post("/accounts/profile", data=with_nonce(client, "/accounts/profile", PROFILE))
    assert draft.status_code == 303
    profile = db.session.query(Profile).filter_by(user_id=user.id).one()
    assert profile.state == "drafted" and profile.first_name == "Ada"
    page = html(client.get("/accounts/profile"))
    assert 'value="Lovelace"' in page  # the draft is editable
    submit = client.post("/accounts/profile", data=with_nonce(client, "/accounts/profile",
                                                             {**PROFILE, "city": "Bath", "confirm": "y"}))
    assert submit.status_code == 303
    db.session.expire_all()
    profile = db.session.query(Profile).filter_by(user_id=user.id).one()
    assert profile.state == "submitted" and profile.city == "Bath"
    assert _user(user).private_labels()["profile"] == "submitted"
    page = html(client.get("/accounts/profile"))
    assert "waiting for review" in page and 'id="profile-form"' not in page and "L*******" in page


def test_profile_field_errors(client, signed_in):
    user = signed_in()
    resp = client.post("/accounts/profile", data=with_nonce(client, "/accounts/profile",
                                                           {**PROFILE, "first_name": "Ada!!", "dob": "2999-01-01"}))
    assert resp.status_code == 422
    assert field_error(resp, "first_name") and field_error(resp, "dob")
    assert db.session.query(Profile).filter_by(user_id=user.id).count() == 0


def _files(**named):
    return {name: (io.BytesIO(data), filename) for name, (filename, data) in named.items()}


def _expire():
    return date(date.today().year + 3, 1, 31).isoformat()


def test_document_upload_front_back_selfie(client, signed_in, app):
    user = signed_in()
    data = {"doc_type": "Passport", "doc_number": "AB1234567", "doc_expire": _expire(),
            **_files(front_side=("front.png", png_bytes()), back_side=("back.pdf", b"%PDF-1.4 test"),
                     selfie=("me.jpg", b"\xff\xd8\xff\xe0 jpeg"))}
    resp = client.post("/accounts/documents", data=with_nonce(client, "/accounts/documents", data),
                       content_type="multipart/form-data")
    assert resp.status_code == 303
    docs = db.session.query(Document).filter_by(user_id=user.id).order_by(Document.id).all()
    assert [d.doc_category for d in docs] == ["front_side", "back_side", "selfie"]
    assert len({d.identificator for d in docs}) == 1
    assert _user(user).private_labels()["document"] == "pending"
    page = html(client.get("/accounts/documents"))
    assert "AB*****67" in page and "pending review" in page


def test_document_refusals_keep_nothing(client, signed_in, app):
    user = signed_in()
    wrong_type = client.post("/accounts/documents", data=with_nonce(client, "/accounts/documents", {
        "doc_type": "Passport", "doc_number": "AB1234567", "doc_expire": _expire(),
        **_files(front_side=("front.png", png_bytes()), selfie=("selfie.png", b"GIF89a not a png"))}),
        content_type="multipart/form-data", headers=HX)
    assert wrong_type.status_code == 422
    assert "not really a JPG, PNG or PDF" in field_error(wrong_type, "selfie")
    assert html(wrong_type).lstrip().startswith('<form id="document-form"')
    expired = client.post("/accounts/documents", data=with_nonce(client, "/accounts/documents", {
        "doc_type": "Passport", "doc_number": "AB1234567", "doc_expire": "2001-01-01",
        **_files(front_side=("front.png", png_bytes()))}), content_type="multipart/form-data")
    assert expired.status_code == 422 and "expired" in field_error(expired, "doc_expire")
    no_file = client.post("/accounts/documents", data=with_nonce(client, "/accounts/documents", {
        "doc_type": "Passport", "doc_number": "AB1234567", "doc_expire": _expire()}))
    assert no_file.status_code == 422 and "at least one file" in field_error(no_file, "front_side")
    app.config["BARONG_UPLOAD_MAX_SIZE"] = 100
    too_big = client.post("/accounts/documents", data=with_nonce(client, "/accounts/documents", {
        "doc_type": "Passport", "doc_number": "AB1234567", "doc_expire": _expire(),
        **_files(front_side=("front.png", png_bytes(64, 64)))}), content_type="multipart/form-data")
    assert too_big.status_code in (413, 422)
    assert db.session.query(Document).filter_by(user_id=user.id).count() == 0
    assert "document" not in _user(user).private_labels()


def test_proof_of_address(client, signed_in):
    user = signed_in()
    assert "Upload proof of address" in html(client.get("/accounts/address"))
    missing = client.post("/accounts/address", data=with_nonce(client, "/accounts/address", {
        "country": "GB", "address": "1 Road", "city": "", "postcode": ""}))
    assert missing.status_code == 422 and field_error(missing, "upload")
    ok = client.post("/accounts/address", data=with_nonce(client, "/accounts/address", {
        "country": "GB", "address": "1 Road", "city": "London", "postcode": "N1",
        **_files(upload=("bill.pdf", b"%PDF-1.7 x"))}),
                     content_type="multipart/form-data")
    assert ok.status_code == 303
    doc = db.session.query(Document).filter_by(user_id=user.id).one()
    assert doc.doc_type == "Address"
    assert _user(user).private_labels()["address"] == "pending"
