"""KYC review (issue 14), console side: the queue's filters, SLA badge and names; the review
screen's layout, flags and history; one decision per document, deliberate (no key decides)."""
from __future__ import annotations

import json
import re
from datetime import date, timedelta

import pytest

from barong.extensions import db
from barong.models import Activity, Document, DocumentDecision, utcnow
from barong.services.accounts import phones, profiles
from barong.services.infra import unit_of_work
from barong.services.verification import documents, kyc_review, kyc_screen
from tests.web.console.support import hx, png_bytes

PDF = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj 2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj "
       b"3 0 obj<</Type/Page/MediaBox[0 0 200 200]/Parent 2 0 R>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n")


@pytest.fixture
def identity_applicant(make_user):
    """identity_applicant(first=, last=, dob=, country=, number=, expire_days=, address=False, email_labels=…)
    → a user with a profile and a passport front + selfie waiting (and a proof of address when asked)."""
    def factory(first="Ada", last="Lovelace", dob="1990-01-02", country="GB", number="AB123456", expire_days=400,
                address=False, selfie=True, metadata=None, **kw):
        user = make_user(**kw)
        profiles.create(user, {"first_name": first, "last_name": last, "dob": dob, "country": country,
                               "city": "London", "address": "1 Main St", "postcode": "N1"}, confirm=True)
        expire = (date.today() + timedelta(days=expire_days)).isoformat()
        documents.create(user, [("front.png", png_bytes())], "Passport", doc_expire=expire, doc_number=number,
                         doc_category="front_side", metadata=metadata)
        if selfie:
            documents.create(user, [("selfie.png", png_bytes((200, 40, 40)))], "Passport", doc_expire=expire,
                             doc_number=number, doc_category="selfie")
        if address:
            documents.create_address(user, [("bill.pdf", PDF)], country=country, address="1 Main St")
        unit_of_work.commit()
        return user
    return factory


def _docs(user):
    return db.session.query(Document).filter_by(user_id=user.id).order_by(Document.id).all()


def _backdate(user, hours):
    for d in _docs(user):
        d.created_at = utcnow() - timedelta(hours=hours)
    kyc_review.refresh_waiting(user)  # uploads never move in production; the queue reads the column
    unit_of_work.commit()


# ---- queue -----------------------------------------------------------------------------------

def test_queue_shows_names_sla_and_oldest_pending_upload_first(operator, console, identity_applicant, app):
    app.config["BARONG_KYC_SLA_HOURS"] = 24
    late, fresh, due = identity_applicant(first="Grace", last="Hopper"), identity_applicant(), identity_applicant(
        first="Alan", last="Turing")
    _backdate(late, 30)
    _backdate(due, 20)
    masked = console(operator("compliance")).get("/admin/kyc").get_data(as_text=True)
    assert "Grace Hopper" not in masked and late.email in masked  # names masked until revealed (issue 17)
    body = console(operator("admin")).get("/admin/kyc").get_data(as_text=True)
    assert "3</strong> applicants" in body
    assert body.index(late.email) < body.index(due.email) < body.index(fresh.email)
    assert "Grace Hopper" in body and "Alan Turing" in body and "Ada Lovelace" in body
    rows = re.findall(r'<span class="badge sla (\w+)"', body)
    assert rows == ["overdue", "due", "ok"]
    assert "a decision within 24 h" in body


def test_queue_filters(operator, console, identity_applicant, make_user):
    gb = identity_applicant(country="GB")
    ua = identity_applicant(country="UA", private_labels={"email": "verified", "phone": "verified"})
    addr = make_user()
    documents.create_address(addr, [("bill.pdf", PDF)], country="DE", address="x")
    unit_of_work.commit()
    _backdate(gb, 50)
    me = operator("compliance")
    client = console(me)

    def listed(query):
        body = client.get("/admin/kyc?" + query).get_data(as_text=True)
        return {u.email for u in (gb, ua, addr) if u.email in body}

    assert listed("") == {gb.email, ua.email, addr.email}  # proof of address is in the same queue
    assert listed("doc_type=Address") == {addr.email}
    assert listed("doc_type=Passport") == {gb.email, ua.email}
    assert listed("country=UA") == {ua.email}
    assert listed("level=2") == {ua.email}
    assert listed("waiting_hours=24") == {gb.email}
    client.get(f"/admin/kyc/{ua.uid}")  # opening claims it
    assert listed(f"reviewer={me.uid}") == {ua.email}
    assert listed("reviewer=none") == {gb.email, addr.email}
    assert listed("waiting_hours=abc") == set()  # a bad value: an error line, no rows
    assert "non_integer_waiting_hours" in client.get("/admin/kyc?waiting_hours=abc").get_data(as_text=True)


def test_next_walks_the_filtered_queue(operator, console, identity_applicant, make_user):
    identity_applicant()
    addr = make_user()
    documents.create_address(addr, [("bill.pdf", PDF)], country="DE", address="x")
    unit_of_work.commit()
    resp = console(operator("compliance")).get("/admin/kyc/next?doc_type=Address")
    assert resp.status_code == 302 and f"/admin/kyc/{addr.uid}" in resp.headers["Location"]
    assert "doc_type=Address" in resp.headers["Location"]


def test_decided_documents_leave_the_queue_and_a_reupload_brings_the_applicant_back(operator, identity_applicant):
    from barong.services.verification import document_review

    user = identity_applicant()
    me = operator("compliance")
    front, selfie = _docs(user)
    document_review.decide_document(front, me, "approve")
    document_review.decide_document(selfie, me, "retry", "blurry")
    unit_of_work.commit()
    assert not kyc_review.is_pending(user)
    assert kyc_review.queue({})[1] == 0
    documents.create(user, [("selfie2.png", png_bytes())], "Passport",
                     doc_expire=(date.today() + timedelta(days=300)).isoformat(), doc_category="selfie")
    unit_of_work.commit()
    rows, total = kyc_review.queue({})
    assert total == 1 and rows[0][0].id == user.id


# ---- review screen ---------------------------------------------------------------------------

def test_review_screen_lays_out_sides_profile_and_decision_forms(operator, console, identity_applicant):
    user = identity_applicant(address=True)
    body = console(operator("admin")).get(f"/admin/kyc/{user.uid}").get_data(as_text=True)
    compare = body[body.index('class="kyc-compare"'):body.index('id="kyc-profile"')]
    assert compare.index("Front side") < compare.index("Selfie")  # front, then the selfie, then the profile
    assert "Proof of address" in body and 'data-pdf="/admin/documents/' in body  # PDF drawn inline
    assert body.count("data-decision-form") == 3  # one form per waiting document
    assert body.count('name="outcome"') == 9 and "checked" not in body.split('id="kyc-review"')[1].split(
        "History")[0].replace('type="radio"', "")  # no outcome is preselected
    assert "expires " in body and "Ada" in body and "Lovelace" in body
    assert 'src="/static/kyc_review.js"' in body and "type=\"module\"" in body


def test_flags(operator, console, identity_applicant, make_user):
    other = identity_applicant(number="ZZ999", first="Ada", last="Lovelace", dob="1990-01-02")
    user = identity_applicant(number="ZZ999", expire_days=10, metadata=json.dumps({"country": "FR"}))
    found = {f.code: f for f in kyc_screen.flags(user)}
    assert found["same_document_number"].uids == [other.uid]
    assert found["same_name_dob"].uids == [other.uid]
    assert found["expires_soon"].detail["days"] == 10
    assert found["country_mismatch"].detail == {"profile": "GB", "other": "FR", "source": "Passport"}
    body = console(operator("compliance")).get(f"/admin/kyc/{user.uid}").get_data(as_text=True)
    assert "Worth a second look" in body and other.uid in body and "in 10 days" in body


def test_no_flags_for_a_clean_applicant_and_none_from_a_crc_collision(identity_applicant, make_user, app):
    user = identity_applicant(number="CLEAN1")
    other = identity_applicant(number="OTHER2", first="Bob", last="Smith")
    # another account whose stored index collides but whose number differs: not a match
    d = _docs(other)[0]
    d.doc_number_index = _docs(user)[0].doc_number_index
    unit_of_work.commit()
    assert kyc_screen.flags(user) == []


def test_country_mismatch_falls_back_to_the_verified_phone(identity_applicant):
    user = identity_applicant(country="GB")
    phones.create(user, "380671234567", verified=True)
    unit_of_work.commit()
    flag = [f for f in kyc_screen.flags(user) if f.code == "country_mismatch"]
    assert flag and flag[0].detail["source"] == "phone" and flag[0].detail["other"] == "UA"


def test_decide_one_document_from_the_screen(operator, console, identity_applicant, mailbox):
    user = identity_applicant()
    me = operator("compliance")
    client = console(me)
    client.get(f"/admin/kyc/{user.uid}")
    front, selfie = _docs(user)
    resp = client.post(f"/admin/kyc/{user.uid}/documents/{selfie.id}/decide", headers=hx(),
                       data={"outcome": "retry", "reason": "blurry", "note": "Face hidden", "internal_note": "hat"})
    assert resp.status_code == 200
    body = resp.get_data(as_text=True)
    # only what changed: the selfie's card (the form's target), and out of band the notice, the
    # applicant's status and the decision's history row — not the whole screen again
    assert f'id="doc-{selfie.id}"' in body and "re-upload asked" in body and "toast" in resp.headers["HX-Trigger"]
    assert 'id="kyc-review"' not in body and f'id="doc-{front.id}"' not in body and "kyc-profile" not in body
    assert 'id="kyc-status" hx-swap-oob="true"' in body and 'id="kyc-notice" hx-swap-oob="true"' in body
    assert 'hx-swap-oob="afterbegin:#kyc-timeline"' in body
    assert f'data-document="{selfie.id}" data-pending' not in body  # decided: no form any more
    db.session.expire_all()
    assert selfie.review_state == "retry" and selfie.review_reason == "blurry" and selfie.review_note == "Face hidden"
    dec = db.session.query(DocumentDecision).filter_by(document_id=selfie.id).one()
    assert (dec.outcome, dec.reviewer_id, dec.internal_note) == ("retry", me.id, "hat")
    assert "hat" in body and "blurry" in body  # the history shows the decision with its reason and notes
    # the last waiting document decided: on to the next applicant
    resp = client.post(f"/admin/kyc/{user.uid}/documents/{front.id}/decide", headers=hx(), data={"outcome": "approve"})
    assert resp.status_code == 200 and resp.headers["HX-Redirect"].startswith("/admin/kyc/next")
    db.session.expire_all()
    assert front.review_state == "approved"
    audit = db.session.query(Activity).filter_by(category="admin", user_id=me.id, topic="kyc").order_by(Activity.id).all()
    assert [a.action for a in audit] == ["document retry", "document approve"]
    assert json.loads(audit[0].data)["reason"] == "blurry"


@pytest.mark.parametrize("form, field", [
    ({}, "outcome"),                                     # no outcome chosen: nothing decided
    ({"outcome": "retry"}, "reason"),                    # a new upload needs a reason
    ({"outcome": "reject", "reason": "blurry"}, "reason"),  # a retry reason cannot reject
    ({"outcome": "retry", "reason": "nope"}, "reason"),
    ({"outcome": "approve", "note": "x" * 1001}, "note"),
])
def test_refused_decision_shows_the_field_and_writes_nothing(operator, console, identity_applicant, form, field):
    user = identity_applicant()
    me = operator("compliance")
    client = console(me)
    client.get(f"/admin/kyc/{user.uid}")
    selfie = _docs(user)[1]
    before = db.session.query(Activity).count()
    resp = client.post(f"/admin/kyc/{user.uid}/documents/{selfie.id}/decide", headers=hx(), data=form)
    assert resp.status_code == 422
    assert 'class="field-error"' in resp.get_data(as_text=True)
    db.session.expire_all()
    assert selfie.review_state == "pending"
    assert db.session.query(DocumentDecision).count() == 0
    assert db.session.query(Activity).count() == before


def test_support_reads_but_cannot_decide(operator, console, identity_applicant):
    user = identity_applicant()
    client = console(operator("support"))
    body = client.get(f"/admin/kyc/{user.uid}").get_data(as_text=True)
    assert "Front side" in body and "data-decision-form" not in body
    selfie = _docs(user)[1]
    resp = client.post(f"/admin/kyc/{user.uid}/documents/{selfie.id}/decide", data={"outcome": "approve"})
    assert resp.status_code == 403
    db.session.expire_all()
    assert selfie.review_state == "pending"


def test_a_document_of_another_user_is_refused(operator, console, identity_applicant):
    user, other = identity_applicant(), identity_applicant()
    client = console(operator("compliance"))
    doc = _docs(other)[0]
    resp = client.post(f"/admin/kyc/{user.uid}/documents/{doc.id}/decide", headers=hx(), data={"outcome": "approve"})
    assert resp.status_code == 404
    db.session.expire_all()
    assert doc.review_state == "pending"


def test_a_held_applicant_shows_no_decision_form(operator, console, identity_applicant):
    user = identity_applicant()
    holder = operator("compliance")
    kyc_review.claim(user, holder)
    unit_of_work.commit()
    body = console(operator("compliance")).get(f"/admin/kyc/{user.uid}").get_data(as_text=True)
    assert holder.email in body and "data-decision-form" not in body


def test_dashboard_shows_reviewer_metrics_to_who_may_read_them(operator, console, identity_applicant, make_user):
    from barong.services.verification import document_review

    user = identity_applicant()
    reviewer = operator("compliance")
    front, selfie = _docs(user)
    document_review.decide_document(front, reviewer, "approve")
    document_review.decide_document(selfie, reviewer, "retry", "blurry")
    unit_of_work.commit()
    body = console(operator("support")).get("/admin/").get_data(as_text=True)
    assert 'id="kyc-metrics"' in body and reviewer.email in body
    assert "2 decisions · approved 50% · new upload asked 50% · rejected 0%" in body
    tech = make_user(role="technical")

    client = console(tech)
    body = client.get("/admin/").get_data(as_text=True)
    assert 'id="kyc-metrics"' not in body


def test_queue_and_review_screen_in_russian(operator, console, identity_applicant):
    user = identity_applicant(expire_days=10)
    client = console(operator("compliance"))
    queue = client.get("/admin/kyc?lang=ru").get_data(as_text=True)
    assert "заявитель ожидает" in queue and "в срок" in queue and "Цель: решение в течение 24 ч." in queue
    screen = client.get(f"/admin/kyc/{user.uid}?lang=ru").get_data(as_text=True)
    for text in ("Стоит проверить внимательнее", "Подтвердить решение", "Запросить повторную загрузку",
                 "Комментарий пользователю (необязательно)", "История"):
        assert text in screen, text
    assert "Confirm decision" not in screen and "Worth a second look" not in screen
