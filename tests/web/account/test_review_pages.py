"""What the user sees of a per-document KYC review (issue 14): each document's state, the reason in
the page's language, the reviewer's note, an upload button on exactly what must be sent again;
the re-upload puts the applicant back in the queue."""
from __future__ import annotations

import re
from datetime import date, timedelta

import pytest

from barong.extensions import db
from barong.models import Document, User
from barong.services.infra import unit_of_work
from barong.services.verification import document_review, documents, kyc_review
from tests.browser.support import png_bytes
from tests.web.account.pages import html

EXPIRE = (date.today() + timedelta(days=400)).isoformat()


@pytest.fixture
def reviewed(signed_in, make_user):
    """A signed-in applicant whose passport was approved and whose selfie was sent back."""
    def factory():
        user = signed_in(private_labels={"email": "verified", "phone": "verified"})
        front = documents.create(user, [("front.png", png_bytes())], "Passport", doc_expire=EXPIRE,
                                 doc_number="AB123456", doc_category="front_side")[0]
        selfie = documents.create(user, [("selfie.png", png_bytes())], "Passport", doc_expire=EXPIRE,
                                  doc_number="AB123456", doc_category="selfie")[0]
        unit_of_work.commit()
        reviewer = make_user(role="compliance")
        document_review.decide_document(front, reviewer, "approve")
        document_review.decide_document(selfie, reviewer, "retry", reason="selfie_missing_document",
                                        note="Please hold it next to your face", internal_note="INTERNAL-XYZ")
        unit_of_work.commit()
        return user, front, selfie, reviewer
    return factory


def _forms(body):
    return re.findall(r'action="/accounts/documents/reupload/([a-z_]+)"', body)


def test_documents_page_shows_why_and_asks_only_for_the_selfie(client, reviewed):
    user, front, selfie, _ = reviewed()
    body = html(client.get("/accounts/documents?lang=en"))
    assert "What we need from you" in body
    assert "The selfie must show you holding the document next to your face." in body
    assert "Please hold it next to your face" in body and "INTERNAL-XYZ" not in body
    assert _forms(body) == ["selfie"]  # the upload button sits on exactly what must be re-sent
    assert "approved" in body and "upload again" in body
    ru = html(client.get("/accounts/documents?lang=ru"))
    assert "На селфи вы должны держать документ рядом с лицом." in ru and _forms(ru) == ["selfie"]


def test_overview_says_what_to_send_again(client, reviewed):
    reviewed()
    body = html(client.get("/accounts/?lang=en"))
    assert "Please upload your selfie again." in body and "holding the document" in body
    assert 'href="/accounts/documents"' in body
    ru = html(client.get("/accounts/?lang=ru"))
    assert "На селфи вы должны держать документ" in ru


def test_reupload_puts_the_applicant_back_in_the_queue_and_approval_completes(client, reviewed):
    user, front, selfie, reviewer = reviewed()
    assert not kyc_review.is_pending(user)
    page = client.get("/accounts/documents").get_data(as_text=True)
    form = page[page.index('action="/accounts/documents/reupload/selfie"'):]
    nonce = re.search(r'name="form_nonce"[^>]*value="([^"]+)"', form).group(1)
    resp = client.post("/accounts/documents/reupload/selfie",
                       data={"form_nonce": nonce, "upload": (__import__("io").BytesIO(png_bytes()), "new.png")},
                       content_type="multipart/form-data")
    assert resp.status_code == 303
    db.session.expire_all()
    new = db.session.query(Document).filter_by(user_id=user.id).order_by(Document.id.desc()).first()
    assert (new.doc_category, new.review_state, new.doc_type, new.doc_number, new.identificator) == (
        "selfie", "pending", "Passport", "AB123456", selfie.identificator)
    assert kyc_review.is_pending(db.session.get(User, user.id))
    body = html(client.get("/accounts/documents?lang=en"))
    assert _forms(body) == [] and "pending review" in body
    document_review.decide_document(new, reviewer, "approve")
    unit_of_work.commit()
    user = db.session.get(User, user.id)
    assert user.private_labels()["document"] == "verified" and user.level == 3


def test_reupload_refusals(client, reviewed, signed_in):
    user, *_ = reviewed()
    count = db.session.query(Document).count()
    assert client.post("/accounts/documents/reupload/passport", data={}).status_code == 404
    resp = client.post("/accounts/documents/reupload/selfie", data={})  # no nonce, no file
    assert resp.status_code == 422
    assert db.session.query(Document).count() == count


def test_address_page_shows_the_reason(client, signed_in, make_user):
    user = signed_in()
    doc = documents.create_address(user, [("bill.pdf", b"%PDF-1.4 x")], "GB", "1 Main St")[0]
    unit_of_work.commit()
    document_review.decide_document(doc, make_user(role="compliance"), "retry", reason="address_too_old")
    unit_of_work.commit()
    body = html(client.get("/accounts/address?lang=en"))
    assert "older than three months" in body and 'href="#address-form"' in body
