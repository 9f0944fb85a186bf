"""users.kyc_waiting_since never drifts: after every kind of operation that can change who waits
for a KYC review (upload, each per-document decision, the whole-applicant decision, re-upload,
a `document` label set / changed / removed through the admin and management APIs, GDPR purge,
the expiry watcher), the column equals what the queue computed before it existed —
`kyc_review.waiting_subquery`, kept as this test's oracle — for every user."""
from __future__ import annotations

import os
import threading
import time
from datetime import date, datetime, timedelta

import pytest

from sqlalchemy import select

from barong.extensions import db
from barong.models import Document, Label, User
from barong.services.infra import unit_of_work
from barong.services.privacy import purge
from barong.services.verification import document_review, documents, kyc_expiry, kyc_review
from tests.web.console.support import png_bytes

EXPIRE = (date.today() + timedelta(days=400)).isoformat()


def _oracle() -> dict[int, datetime]:
    waiting = kyc_review.waiting_subquery()
    return dict(db.session.execute(select(waiting.c.user_id, waiting.c.since)).all())


def _column() -> dict[int, datetime]:
    return dict(db.session.execute(select(User.id, User.kyc_waiting_since)
                                   .where(User.kyc_waiting_since.isnot(None))).all())


def _as_dt(value):
    return datetime.fromisoformat(value) if isinstance(value, str) else value  # SQLite: min() of text


def assert_in_step(step: str) -> None:
    unit_of_work.commit()
    db.session.expire_all()
    oracle = {k: _as_dt(v) for k, v in _oracle().items()}
    column = {k: _as_dt(v) for k, v in _column().items()}
    assert column == oracle, f"after {step}: column {column} != waiting_subquery {oracle}"


def _upload(user, category="front_side", number="AB123456"):
    return documents.create(user, [(f"{category}.png", png_bytes())], "Passport", doc_expire=EXPIRE,
                            doc_number=number, doc_category=category)[0]


def _docs(user):
    return db.session.query(Document).filter_by(user_id=user.id).order_by(Document.id).all()


def test_the_column_follows_uploads_and_every_decision(make_user):
    reviewer = make_user(role="superadmin")
    a, b, c, d = (make_user() for _ in range(4))
    assert_in_step("nothing")
    front = _upload(a)
    assert_in_step("an upload")
    selfie = _upload(a, "selfie")
    documents.create_address(a, [("bill.png", png_bytes())], country="DE", address="x")
    assert_in_step("more uploads (selfie, proof of address)")
    document_review.decide_document(front, reviewer, "approve")
    assert_in_step("approve one of three")
    document_review.decide_document(selfie, reviewer, "retry", "selfie_mismatch")
    assert_in_step("retry")
    address = [x for x in _docs(a) if x.doc_type == "Address"][0]
    document_review.decide_document(address, reviewer, "approve")
    assert_in_step("approve the last pending (waits no more)")
    _upload(a, "selfie")
    assert_in_step("re-upload after retry")
    _upload(b, number="ZZ999")
    unit_of_work.commit()
    document_review.decide_document(_docs(b)[0], reviewer, "reject", "forged_document")
    assert_in_step("reject (final)")
    _upload(c)
    _upload(c, "selfie")
    unit_of_work.commit()
    kyc_review.decide(c, reviewer, "approve")
    assert_in_step("whole-applicant approve")
    _upload(d)
    unit_of_work.commit()
    kyc_review.decide(d, reviewer, "reject", "unreadable")
    assert_in_step("whole-applicant reject")
    assert a.id in _column() and b.id not in _column() and c.id not in _column()


def test_the_column_follows_the_document_label_through_the_apis(api, make_user):
    client = api("superadmin")
    legacy, other, uploaded = make_user(), make_user(), make_user()
    _upload(uploaded)
    unit_of_work.commit()
    resp = client.post("/users/labels", json={"uid": legacy.uid, "key": "document", "value": "pending",
                                              "scope": "private", "description": "sent by mail"})
    assert resp.status_code == 201, resp.get_json()
    assert_in_step("label created (admin API)")
    assert legacy.id in _column()
    label = db.session.query(Label).filter_by(user_id=legacy.id, key="document").one()
    label.updated_at -= timedelta(hours=1)  # timestamps have whole seconds: make the next change visible
    kyc_review.refresh_waiting(legacy)
    unit_of_work.commit()
    resp = client.post("/users/labels/update", json={"uid": legacy.uid, "key": "document", "value": "pending",
                                                     "scope": "private"})
    assert resp.status_code == 201, resp.get_json()
    assert_in_step("description cleared, value kept (admin API labels/update)")
    resp = client.post("/users/labels/update", json={"uid": legacy.uid, "key": "document", "value": "replaced",
                                                     "scope": "private"})
    assert resp.status_code == 201, resp.get_json()
    assert_in_step("label updated (admin API labels/update)")
    resp = client.put("/users/labels", json={"uid": legacy.uid, "key": "document", "value": "replaced",
                                             "scope": "private", "description": "a second letter"})
    assert resp.status_code == 200, resp.get_json()
    assert_in_step("description changed (admin API PUT)")
    resp = client.post("/users/labels/update", json={"uid": other.uid, "key": "document", "value": "pending",
                                                     "scope": "private"})
    assert resp.status_code == 201, resp.get_json()
    assert_in_step("label created (admin API labels/update)")
    resp = client.post("/users/labels/update", json={"uid": uploaded.uid, "key": "document", "value": "verified",
                                                     "scope": "private"})
    assert resp.status_code == 201, resp.get_json()
    assert_in_step("label of an uploader changed (documents still pending)")
    resp = client.put("/users/labels", json={"uid": other.uid, "key": "document", "value": "verified",
                                             "scope": "private"})
    assert resp.status_code == 200, resp.get_json()
    assert_in_step("label verified (admin API PUT)")
    resp = client.delete("/users/labels", query_string={"uid": legacy.uid, "key": "document", "scope": "private"})
    assert resp.status_code == 204, resp.get_data(as_text=True)
    assert_in_step("label removed (admin API)")
    assert legacy.id not in _column() and other.id not in _column() and uploaded.id in _column()


def test_the_column_follows_a_label_set_by_the_label_service(make_user):
    """The management API's label endpoints call the label service (accounts.labels) directly."""
    from barong.services.accounts import labels

    user = make_user()
    label = labels.add(user, "document", "pending", scope="private")
    assert_in_step("labels.add")
    labels.update(label, value="replaced")
    assert_in_step("labels.update value")
    labels.update(label, description="new letter")
    assert_in_step("labels.update description")
    labels.update(label, scope="public")
    assert_in_step("labels.update scope → public")
    labels.update(label, scope="private")
    assert_in_step("labels.update scope → private")
    labels.delete(label)
    assert_in_step("labels.delete")


def test_the_column_follows_the_expiry_watcher(make_user):
    reviewer = make_user(role="compliance")
    user = make_user(private_labels={"email": "verified", "phone": "verified"})
    _upload(user)
    _upload(user, "selfie")
    unit_of_work.commit()
    for doc in _docs(user):
        document_review.decide_document(doc, reviewer, "approve")
    assert_in_step("approved")
    for doc in _docs(user):
        doc.doc_expire = date.today() - timedelta(days=1)
    unit_of_work.commit()
    _upload(user, "selfie", number="NEW1")  # a fresh selfie waits while the old set expires
    unit_of_work.commit()
    result = kyc_expiry.run()
    assert result.expired >= 1
    assert_in_step("expiry watcher")
    assert kyc_expiry.run().expired == 0
    assert_in_step("expiry watcher, second run")


def test_the_column_follows_a_purge(api, make_user):
    client = api("superadmin")
    user = make_user()
    doc = _upload(user)
    doc.created_at -= timedelta(hours=1)  # the upload and the label apart (timestamps have whole seconds)
    kyc_review.refresh_waiting(user)
    unit_of_work.commit()
    resp = client.post("/users/labels/update", json={"uid": user.uid, "key": "document", "value": "pending",
                                                     "scope": "private"})
    assert resp.status_code == 201
    user = db.session.get(User, user.id)
    user.state = "deleted"
    user.updated_at = datetime.utcnow() - timedelta(days=60)
    unit_of_work.commit()
    assert_in_step("deleted, documents kept")
    report = purge.purge(datetime.utcnow() - timedelta(days=30))
    assert report.users == [user.uid]
    # the documents are gone, the `document: pending` label is kept (AML retention): the
    # account is back in the queue as a label-only applicant, exactly as the old query had it
    assert_in_step("purge")
    assert user.id in _column()



@pytest.mark.skipif(not str(os.environ.get("TEST_DATABASE_URL", "")).startswith("postgresql"),
                    reason="row locks and READ COMMITTED snapshots: PostgreSQL (SQLite runs one writer at a time)")
def test_an_upload_racing_a_decision_leaves_the_column_right(app, make_user):
    """The decision of the applicant's only pending document commits while a new upload of the
    same applicant is recomputing: the upload's recompute must see the decision (it waits for
    the user row, then reads with a fresh snapshot), or the column keeps the decided document's
    time."""
    reviewer = make_user(role="compliance")
    applicant = make_user()
    front = _upload(applicant)
    front.created_at -= timedelta(hours=2)  # the two uploads' times apart
    kyc_review.refresh_waiting(applicant)
    unit_of_work.commit()
    applicant_id, front_id, reviewer_id = applicant.id, front.id, reviewer.id
    decided, uploading = threading.Event(), threading.Event()
    errors = []

    def decide():
        try:
            with app.app_context():
                doc = db.session.get(Document, front_id)
                document_review.decide_document(doc, db.session.get(User, reviewer_id), "approve")
                db.session.flush()  # holds the applicant's row (claim, refresh) until the commit
                decided.set()
                uploading.wait(10)
                time.sleep(0.5)  # the upload is now waiting for the row
                unit_of_work.commit()
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
            decided.set()

    def upload():
        try:
            decided.wait(10)
            with app.app_context():
                uploading.set()
                _upload(db.session.get(User, applicant_id), "selfie")
                unit_of_work.commit()
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=decide), threading.Thread(target=upload)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors, errors
    assert_in_step("an upload racing a decision")
    selfie = [d for d in _docs(applicant) if d.doc_category == "selfie"][0]
    assert _column()[applicant_id] == selfie.created_at
