"""Per-document KYC decisions (issue 14): outcomes, reasons, labels following the documents,
what the user is told (en/ru), mails and events, refusals that write nothing."""
from __future__ import annotations

import json
from datetime import date, timedelta

import pytest

from barong.errors import BarongError
from barong.extensions import db
from barong.models import Activity, Document, DocumentDecision, OutboxEvent, User
from barong.services.accounts import profiles
from barong.services.infra import unit_of_work
from barong.services.verification import document_review, documents, kyc_reasons, kyc_review
from tests.web.console.support import png_bytes

EXPIRE = (date.today() + timedelta(days=400)).isoformat()


def _upload(user, category, doc_type="Passport", number="AB123456"):
    doc = documents.create(user, [(f"{category}.png", png_bytes())], doc_type, doc_expire=EXPIRE,
                           doc_number=number, doc_category=category)[0]
    unit_of_work.commit()
    return doc


@pytest.fixture
def applicant(make_user):
    """A user with a passport front side and a selfie waiting (levels: email, phone, document)."""
    def factory(language="en", profile=False, **kw):
        user = make_user(private_labels={"email": "verified", "phone": "verified"}, **kw)
        user.data = json.dumps({"language": language})
        if profile:
            profiles.create(user, {"first_name": "Ada", "last_name": "Lovelace", "dob": "1990-01-02",
                                   "country": "GB", "city": "London", "address": "1 Main St",
                                   "postcode": "N1"}, confirm=True)
        unit_of_work.commit()
        front = _upload(user, "front_side")
        selfie = _upload(user, "selfie")
        return user, front, selfie
    return factory


@pytest.fixture
def reviewer(make_user):
    return make_user(role="compliance")


def fresh(model, ident):
    db.session.expire_all()
    return db.session.get(model, ident)


def _events(name):
    return [json.loads(e.payload) for e in db.session.query(OutboxEvent).filter_by(name=name).order_by(OutboxEvent.id)]


def test_approve_front_retry_selfie_keeps_document_pending_and_asks_for_a_new_selfie(applicant, reviewer, mailbox):
    user, front, selfie = applicant()
    document_review.decide_document(front, reviewer, "approve")
    document_review.decide_document(selfie, reviewer, "retry", reason="selfie_missing_document",
                                    note="Hold the passport next to your face", internal_note="second try")
    unit_of_work.commit()
    user = fresh(User, user.id)
    assert user.private_labels()["document"] == "pending" and user.level == 2
    assert fresh(Document, front.id).review_state == "approved"
    s = fresh(Document, selfie.id)
    assert (s.review_state, s.review_reason, s.review_note) == ("retry", "selfie_missing_document",
                                                                  "Hold the passport next to your face")
    assert s.reviewed_by_id == reviewer.id and s.reviewed_at is not None
    states = document_review.document_states(user, "en")
    slots = {r["slot"]: r for r in states["identity"]["slots"]}
    assert slots["front_side"]["state"] == "approved" and not slots["front_side"]["upload"]
    assert slots["selfie"]["upload"] and slots["selfie"]["reason_text"] == kyc_reasons.text(
        "selfie_missing_document", "en")
    assert "holding the document" in slots["selfie"]["reason_text"]
    ru = {r["slot"]: r for r in document_review.document_states(user, "ru")["identity"]["slots"]}
    assert ru["selfie"]["reason_text"].startswith("На селфи")
    assert document_review.must_reupload(user) == ["selfie"]
    rows = db.session.query(DocumentDecision).filter_by(user_id=user.id).order_by(DocumentDecision.id).all()
    assert [(r.outcome, r.reason, r.reviewer_id) for r in rows] == [
        ("approve", None, reviewer.id), ("retry", "selfie_missing_document", reviewer.id)]
    assert rows[1].internal_note == "second try" and rows[1].uploaded_at == selfie.created_at
    audit = db.session.query(Activity).filter_by(category="admin", topic="kyc").order_by(Activity.id).all()
    assert [a.action for a in audit] == ["document approve", "document retry"]
    assert json.loads(audit[1].data)["reason"] == "selfie_missing_document"
    updates = _events("model.document.updated")
    assert [u["record"]["review_state"] for u in updates] == ["approved", "retry"]
    # the user is mailed for the re-upload request, with the catalogue text and the note
    mails = [m for m in mailbox(user.email) if "selfie" in m["Subject"].lower()]
    assert len(mails) == 1
    body = mails[0].get_body(("plain",)).get_content()
    assert "holding the document" in body and "Hold the passport next to your face" in body
    assert "second try" not in body
    # not in the queue until a new selfie arrives; the re-upload puts the applicant back
    assert not kyc_review.is_pending(user)
    new = _upload(user, "selfie")
    assert kyc_review.is_pending(fresh(User, user.id)) and new.review_state == "pending"
    document_review.decide_document(fresh(Document, new.id), reviewer, "approve")
    unit_of_work.commit()
    user = fresh(User, user.id)
    assert user.private_labels()["document"] == "verified" and user.level == 3
    assert _events("system.document.verified")


def test_russian_user_gets_the_reason_in_russian(applicant, reviewer, mailbox):
    user, front, selfie = applicant(language="RU")
    document_review.decide_document(selfie, reviewer, "retry", reason="blurry")
    unit_of_work.commit()
    body = mailbox(user.email)[-1].get_body(("plain",)).get_content()
    assert "Фото размыто" in body


def test_final_reject_makes_document_rejected_and_the_document_cannot_be_sent_again(applicant, reviewer):
    user, front, selfie = applicant(profile=True)
    document_review.decide_document(front, reviewer, "reject", reason="forged_document")
    unit_of_work.commit()
    user = fresh(User, user.id)
    assert user.private_labels()["document"] == "rejected"
    assert user.profiles[-1].state == "rejected"
    assert _events("system.document.rejected")
    with pytest.raises(BarongError) as err:
        documents.create(user, [("again.png", png_bytes())], "Passport", doc_expire=EXPIRE, doc_number="AB123456",
                         doc_category="front_side")
    assert err.value.code == "resource.documents.rejected"
    db.session.rollback()
    assert db.session.query(Document).filter_by(user_id=user.id).count() == 2


def test_proof_of_address_approved_verifies_address(make_user, reviewer):
    user = make_user()
    doc = documents.create_address(user, [("bill.pdf", b"%PDF-1.4 bill")], "GB", "1 Main St")[0]
    unit_of_work.commit()
    assert fresh(User, user.id).private_labels()["address"] == "pending" and kyc_review.is_pending(user)
    document_review.decide_document(fresh(Document, doc.id), reviewer, "approve")
    unit_of_work.commit()
    assert fresh(User, user.id).private_labels()["address"] == "verified"


@pytest.mark.parametrize("outcome, reason, code", [
    ("maybe", None, "admin.kyc.invalid_decision"),
    ("retry", None, "kyc.reason.missing"),
    ("reject", "", "kyc.reason.missing"),
    ("retry", "no_such_reason", "kyc.reason.unknown"),
    ("retry", "fraud_suspected", "kyc.reason.wrong_kind"),
    ("reject", "blurry", "kyc.reason.wrong_kind"),
    ("retry", "address_too_old", "kyc.reason.not_applicable"),
])
def test_refusals_write_nothing(applicant, reviewer, outcome, reason, code):
    user, front, selfie = applicant()
    with pytest.raises(BarongError) as err:
        document_review.decide_document(selfie, reviewer, outcome, reason=reason)
    assert err.value.code == code and err.value.status == 422
    db.session.rollback()
    assert fresh(Document, selfie.id).review_state == "pending"
    assert db.session.query(DocumentDecision).count() == 0
    assert db.session.query(Activity).filter_by(category="admin").count() == 0


def test_notes_too_long(applicant, reviewer):
    user, front, selfie = applicant()
    for kw, code in (({"note": "x" * 1001}, "kyc.note.too_long"),
                     ({"internal_note": "x" * 1001}, "kyc.internal_note.too_long")):
        with pytest.raises(BarongError) as err:
            document_review.decide_document(selfie, reviewer, "approve", **kw)
        assert err.value.code == code


def test_who_may_decide(applicant, make_user, reviewer):
    user, front, selfie = applicant()
    for role in ("support", "accountant", "technical", "member"):
        with pytest.raises(BarongError) as err:
            document_review.decide_document(front, make_user(role=role), "approve")
        assert (err.value.code, err.value.status) == ("admin.ability.not_permitted", 401)
    me, my_front, _ = applicant(role="compliance")
    with pytest.raises(BarongError) as err:
        document_review.decide_document(my_front, me, "approve")
    assert err.value.code == "admin.user.update_himself"
    db.session.rollback()
    sa_user, sa_front, _ = applicant(role="superadmin")
    with pytest.raises(BarongError) as err:
        document_review.decide_document(sa_front, reviewer, "approve")
    assert err.value.code == "admin.user.superadmin_change"


def test_decided_twice_and_claimed_by_another(applicant, reviewer, make_user):
    user, front, selfie = applicant()
    document_review.decide_document(front, reviewer, "approve")
    unit_of_work.commit()
    with pytest.raises(BarongError) as err:
        document_review.decide_document(fresh(Document, front.id), make_user(role="admin"), "approve")
    # the first reviewer still holds the applicant (the selfie waits)
    assert (err.value.code, err.value.status) == ("admin.kyc.claimed", 409)
    db.session.rollback()
    with pytest.raises(BarongError) as err:
        document_review.decide_document(fresh(Document, front.id), reviewer, "approve")
    assert (err.value.code, err.value.status) == ("admin.kyc.not_pending", 409)
    db.session.rollback()
    assert db.session.query(DocumentDecision).count() == 1


def test_catalogue_file_and_errors(tmp_path, app):
    from barong.config import ConfigError

    cat = kyc_reasons.load()
    assert {"blurry", "fraud_suspected", "underage", "selfie_mismatch"} <= set(cat.reasons)
    assert cat.reasons["underage"].kind == "final" and cat.required == ("front_side", "selfie")
    assert kyc_reasons.text("blurry", "ru_RU").startswith("Фото")
    assert kyc_reasons.text("blurry", "de") == kyc_reasons.get("blurry").text["en"]
    with pytest.raises(BarongError) as err:
        kyc_reasons.get("nope")
    assert (err.value.code, err.value.status) == ("kyc.reason.unknown", 422)
    for raw in ([1], {"reasons": [{"code": "A B", "kind": "retry", "text": {"en": "x"}}]},
                {"reasons": [{"code": "a", "kind": "later", "text": {"en": "x"}}]},
                {"reasons": [{"code": "a", "kind": "retry", "text": {"ru": "x"}}]},
                {"reasons": [{"code": "a", "kind": "retry", "text": {"en": "x"}, "applies_to": ["face"]}]},
                {"identity": {"required": ["passport"]}}):
        with pytest.raises(ConfigError):
            kyc_reasons.parse(raw)
    path = tmp_path / "r.yml"
    path.write_text("identity: {required: [front_side]}\nreasons: []\n")
    assert kyc_reasons.load(path).required == ("front_side",)


def test_identity_card_needs_its_back_side(make_user, reviewer):
    user = make_user(private_labels={"email": "verified", "phone": "verified"})
    front = _upload(user, "front_side", doc_type="Identity card")
    selfie = _upload(user, "selfie", doc_type="Identity card")
    for doc in (front, selfie):
        document_review.decide_document(fresh(Document, doc.id), reviewer, "approve")
    unit_of_work.commit()
    user = fresh(User, user.id)
    assert user.private_labels()["document"] == "pending"
    slots = {r["slot"]: r for r in document_review.document_states(user)["identity"]["slots"]}
    assert slots["back_side"] == {"slot": "back_side", "state": "missing", "reason": None, "reason_text": None,
                                  "note": None, "upload": True, "document_id": None}
    back = _upload(user, "back_side", doc_type="Identity card")
    document_review.decide_document(fresh(Document, back.id), reviewer, "approve")
    unit_of_work.commit()
    assert fresh(User, user.id).private_labels()["document"] == "verified"


def test_the_whole_applicant_decision_settles_every_pending_document(applicant, make_user):
    user, front, selfie = applicant()
    bill = documents.create_address(user, [("bill.pdf", b"%PDF-1.4 bill")], "GB", "1 Main St")[0]
    unit_of_work.commit()
    admin = make_user(role="admin")
    kyc_review.decide(fresh(User, user.id), admin, "reject", reason="Blurred photo")
    unit_of_work.commit()
    docs = {d.id: d for d in db.session.query(Document).filter_by(user_id=user.id)}
    assert {d.review_state for d in docs.values()} == {"rejected"}
    assert docs[selfie.id].review_note == "Blurred photo" and docs[selfie.id].review_reason is None
    assert [r.outcome for r in db.session.query(DocumentDecision).filter_by(user_id=user.id)] == ["reject"] * 3
    labels = fresh(User, user.id).private_labels()
    assert labels["document"] == "rejected" and labels["address"] == "rejected"
    assert db.session.get(Document, bill.id).review_state == "rejected"
    # the rejection mail carries the reviewer's reason (the label description)
    updated = [e for e in _events("model.label.updated") if e["record"]["key"] == "document"]
    assert updated[-1]["record"]["description"] == "Blurred photo"


def test_migration_backfill_follows_the_labels(applicant, make_user, reviewer):
    import importlib

    from barong.services.accounts import labels

    migration = importlib.import_module("migrations.versions.0003_kyc_document_review")
    ok, front_ok, selfie_ok = applicant()
    bad, front_bad, _ = applicant()
    waiting, front_wait, _ = applicant()
    labels.set_value(fresh(User, ok.id), "document", "verified")
    labels.set_value(fresh(User, bad.id), "document", "rejected")
    unit_of_work.commit()
    migration.backfill(db.session.connection())
    db.session.commit()
    assert fresh(Document, front_ok.id).review_state == "approved"
    assert fresh(Document, selfie_ok.id).review_state == "approved"
    assert fresh(Document, front_bad.id).review_state == "rejected"
    assert fresh(Document, front_wait.id).review_state == "pending"
