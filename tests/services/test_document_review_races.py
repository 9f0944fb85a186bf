"""Two reviewers deciding the same document at the same moment (issue 14): exactly one decision
wins; the other is refused with a 409 and leaves nothing behind. Real threads, each its own
client and DB session — SQLite (WAL) or TEST_DATABASE_URL's PostgreSQL."""
from __future__ import annotations

from datetime import date, timedelta

import pytest

from barong.extensions import db
from barong.models import Activity, Document, DocumentDecision, OutboxEvent
from barong.services.infra import unit_of_work
from barong.services.verification import documents
from tests.services.test_races import _race, _signed_in
from tests.web.console.support import png_bytes

A = "/api/v2/barong/admin"
EXPIRE = (date.today() + timedelta(days=400)).isoformat()


@pytest.mark.parametrize("outcomes", [("approve", "approve"), ("approve", "retry"), ("retry", "reject")])
def test_two_reviewers_one_document_exactly_one_wins(app, make_user, outcomes):
    applicant = make_user(private_labels={"email": "verified", "phone": "verified"})
    doc = documents.create(applicant, [("selfie.png", png_bytes())], "Passport", doc_expire=EXPIRE,
                           doc_number="AB123456", doc_category="selfie")[0]
    unit_of_work.commit()
    doc_id = doc.id  # the threads have no app context to reload an expired instance
    reviewers = [make_user(role="compliance"), make_user(role="admin")]
    headers = [_signed_in(app, r) for r in reviewers]
    reviewer_ids = [r.id for r in reviewers]
    reviewer_uids = [r.uid for r in reviewers]
    reasons = {"approve": None, "retry": "blurry", "reject": "fraud_suspected"}

    def call(i, c):
        outcome = outcomes[i]
        body = {"id": doc_id, "outcome": outcome}
        if reasons[outcome]:
            body["reason"] = reasons[outcome]
        return c.post(f"{A}/users/documents/decision", json=body, headers=headers[i])

    results = _race(app, 2, call)
    statuses = sorted(r.status_code for r in results)
    assert statuses == [201, 409], [r.get_json() for r in results]
    loser = next(r for r in results if r.status_code == 409)
    assert loser.get_json()["errors"][0] in ("admin.kyc.not_pending", "admin.kyc.claimed")
    winner = next(i for i, r in enumerate(results) if r.status_code == 201)
    db.session.expire_all()
    rows = db.session.query(DocumentDecision).filter_by(document_id=doc_id).all()
    assert [(r.reviewer_id, r.outcome) for r in rows] == [(reviewer_ids[winner], outcomes[winner])]
    assert db.session.get(Document, doc_id).review_state == {"approve": "approved", "retry": "retry",
                                                             "reject": "rejected"}[outcomes[winner]]
    assert db.session.query(OutboxEvent).filter_by(name="model.document.updated").count() == 1
    loser_id = reviewer_uids[1 - winner]
    assert not [a for a in db.session.query(Activity).filter_by(category="admin", topic="kyc")
                if a.user.uid == loser_id and a.result == "succeed"]
