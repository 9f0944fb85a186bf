"""Admin API for the KYC review (issue 14, kycui's part): the queue's added filters on
`GET admin/users/documents/pending`, and `GET admin/kyc/metrics` (reviewer metrics)."""
from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from barong.extensions import db
from barong.models import Document, DocumentDecision, utcnow
from barong.services.infra import unit_of_work
from barong.services.operators import metrics
from barong.services.verification import documents, kyc_review
from tests.web.console.support import png_bytes


def _applicant(make_user, doc_type="Passport", hours=0, **kw):
    user = make_user(**kw)
    if doc_type == "Address":
        documents.create_address(user, [("bill.png", png_bytes())], country="DE", address="x")
    else:
        documents.create(user, [("p.png", png_bytes())], doc_type,
                         doc_expire=(date.today() + timedelta(days=300)).isoformat(), doc_category="front_side")
    if hours:
        for d in db.session.query(Document).filter_by(user_id=user.id):
            d.created_at = utcnow() - timedelta(hours=hours)
        kyc_review.refresh_waiting(user)  # uploads never move in production; the queue reads the column
    unit_of_work.commit()
    return user


def test_pending_queue_filters(api, make_user):
    old = _applicant(make_user, hours=30)
    addr = _applicant(make_user, "Address")
    new = _applicant(make_user, "Identity card")
    client = api("superadmin")

    def uids(query=""):
        resp = client.get("/users/documents/pending" + query)
        assert resp.status_code == 200, resp.get_json()
        return [u["uid"] for u in resp.get_json()], int(resp.headers["Total"])

    assert uids() == ([old.uid, addr.uid, new.uid], 3)  # oldest pending upload first, proof of address included
    assert uids("?doc_type=Address") == ([addr.uid], 1)
    assert uids("?waiting_hours=24") == ([old.uid], 1)
    assert uids("?reviewer=none") == ([old.uid, addr.uid, new.uid], 3)
    kyc_review.claim(new, client.user)
    unit_of_work.commit()
    assert uids(f"?reviewer={client.user.uid}") == ([new.uid], 1)
    assert uids("?reviewer=none") == ([old.uid, addr.uid], 2)
    assert uids("?doc_type=Passport&waiting_hours=24&reviewer=none") == ([old.uid], 1)
    extended = client.get("/users/documents/pending?extended=true&doc_type=Address").get_json()
    assert extended[0]["uid"] == addr.uid and "documents" in extended[0]


@pytest.mark.parametrize("query", ["waiting_hours=abc", "waiting_hours=-1", "waiting_hours=1.5"])
def test_pending_queue_bad_waiting_hours(api, query):
    resp = api("superadmin").get("/users/documents/pending?" + query)
    assert resp.status_code == 422
    assert resp.get_json() == {"errors": ["admin.kyc.non_integer_waiting_hours"]}


def test_pending_queue_keeps_the_user_filters(api, make_user):
    a = _applicant(make_user, private_labels={"email": "verified", "phone": "verified"})
    _applicant(make_user)
    resp = api("superadmin").get("/users/documents/pending?level=2")
    assert [u["uid"] for u in resp.get_json()] == [a.uid]
    assert api("superadmin").get("/users/documents/pending?level=x").get_json() == {
        "errors": ["admin.user.non_integer_level"]}


# ---- reviewer metrics ------------------------------------------------------------------------

def _decisions(make_user, reviewer, spec, at=None):
    """spec: [(outcome, minutes from upload to decision)] for one applicant's documents."""
    user = make_user()
    at = at or utcnow()
    for outcome, minutes in spec:
        doc = Document(user_id=user.id, upload="x.png", doc_type="Passport", review_state="approved")
        db.session.add(doc)
        db.session.flush()
        db.session.add(DocumentDecision(document_id=doc.id, user_id=user.id, reviewer_id=reviewer.id,
                                        outcome=outcome, uploaded_at=at - timedelta(minutes=minutes), created_at=at,
                                        reason=None if outcome == "approve" else "blurry"))
    unit_of_work.commit()


def test_reviewer_metrics_counts_rates_and_percentiles(app, make_user):
    alice, bob = make_user(role="compliance"), make_user(role="compliance")
    # alice: 10 decisions, 1..10 minutes; 6 approve, 3 retry, 1 reject
    _decisions(make_user, alice, [("approve", m) for m in (1, 2, 3, 4, 5, 6)] +
               [("retry", m) for m in (7, 8, 9)] + [("reject", 10)])
    _decisions(make_user, bob, [("reject", 60), ("approve", 120)])
    m = metrics.kyc_reviewers()
    a, b = m["reviewers"]
    assert a["uid"] == alice.uid and b["uid"] == bob.uid  # most decisions first
    assert (a["decisions"], a["approved"], a["retried"], a["rejected"]) == (10, 6, 3, 1)
    assert (a["approval_rate"], a["retry_rate"], a["rejection_rate"]) == (0.6, 0.3, 0.1)
    assert a["p50_seconds"] == pytest.approx(300, abs=1) and a["p90_seconds"] == pytest.approx(540, abs=1)
    assert b["p50_seconds"] == pytest.approx(3600, abs=1) and b["p90_seconds"] == pytest.approx(7200, abs=1)
    t = m["total"]
    assert (t["decisions"], t["approved"], t["rejected"], t["retried"]) == (12, 7, 2, 3)
    assert t["p50_seconds"] == pytest.approx(360, abs=1)  # 12 values, nearest rank 6 → 6 min


def test_reviewer_metrics_period(app, make_user):
    alice = make_user(role="compliance")
    _decisions(make_user, alice, [("approve", 5)], at=datetime(2026, 1, 10, 12))
    _decisions(make_user, alice, [("retry", 5), ("retry", 5)], at=datetime(2026, 2, 10, 12))
    assert metrics.kyc_reviewers("2026-02-01", "2026-02-28")["total"]["decisions"] == 2
    jan = metrics.kyc_reviewers(int(datetime(2026, 1, 1).timestamp()), int(datetime(2026, 1, 31).timestamp()))
    assert jan["total"]["decisions"] == 1 and jan["reviewers"][0]["approval_rate"] == 1.0
    empty = metrics.kyc_reviewers("2025-01-01", "2025-01-02")
    assert empty["reviewers"] == [] and empty["total"]["decisions"] == 0 and empty["total"]["p50_seconds"] is None


def test_kyc_metrics_api(api, make_user):
    client = api("support")  # support reads the metrics
    _decisions(make_user, client.user, [("approve", 1)])
    resp = client.get("/kyc/metrics")
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["total"]["decisions"] == 1 and body["reviewers"][0]["email"] == client.user.email
    assert client.get("/kyc/metrics?from=2000-01-01&to=2000-01-02").get_json()["total"]["decisions"] == 0
    bad = client.get("/kyc/metrics?from=yesterday")
    assert bad.status_code == 422 and bad.get_json() == {"errors": ["admin.kyc.invalid_time"]}


@pytest.mark.parametrize("role, status", [("member", 401), ("compliance", 200), ("admin", 200)])
def test_kyc_metrics_roles(api, role, status):
    resp = api(role).get("/kyc/metrics")
    assert resp.status_code == status, resp.get_json()


def test_kyc_metrics_in_openapi(client):
    doc = client.get("/api/v2/barong/openapi.json").get_json()
    op = doc["paths"]["/api/v2/barong/admin/kyc/metrics"]["get"]
    assert {p["name"] for p in op["parameters"]} >= {"from", "to"}
    pending = doc["paths"]["/api/v2/barong/admin/users/documents/pending"]["get"]
    assert {p["name"] for p in pending["parameters"]} >= {"doc_type", "waiting_hours", "reviewer", "country", "level"}


def test_a_label_set_without_documents_still_queues_the_user(api, make_user):
    """As in the original: `document: pending` set through the admin/management API, no upload."""
    from barong.services.accounts import labels

    legacy = make_user()
    labels.add(legacy, "document", "pending", scope="private")
    unit_of_work.commit()
    uploaded = _applicant(make_user)
    client = api("superadmin")
    assert [u["uid"] for u in client.get("/users/documents/pending").get_json()] == [legacy.uid, uploaded.uid]
    assert [u["uid"] for u in client.get("/users/documents/pending?doc_type=Passport").get_json()] == [uploaded.uid]
    assert kyc_review.is_pending(legacy)
