"""admin: POST users/documents/decision and GET kyc/reasons (issue 14): every outcome, every
4xx, roles (compliance decides, support reads), nothing written on a refusal."""
from __future__ import annotations

import json
from datetime import date, timedelta

import pytest

from barong.extensions import db
from barong.models import Activity, Document, DocumentDecision, OutboxEvent, User
from barong.services.infra import unit_of_work
from barong.services.verification import documents
from tests.helpers import login_as
from tests.web.console.support import png_bytes

A = "/api/v2/barong/admin"
R = "/api/v2/barong/resource"
EXPIRE = (date.today() + timedelta(days=400)).isoformat()


@pytest.fixture
def as_role(app, make_user):
    """as_role(role) → (client, user): signed in, the X-CSRF-Token sent with every call."""
    def factory(role):
        user = make_user(role=role)
        c = app.test_client()
        from tests.helpers import UA

        c.environ_base["HTTP_USER_AGENT"] = UA
        csrf = login_as(c, user)
        c.environ_base["HTTP_X_CSRF_TOKEN"] = csrf
        return c, user
    return factory


@pytest.fixture
def applicant(make_user):
    def factory(language="en"):
        user = make_user(private_labels={"email": "verified", "phone": "verified"})
        user.data = json.dumps({"language": language})
        unit_of_work.commit()
        docs = []
        for category in ("front_side", "selfie"):
            docs += documents.create(user, [(f"{category}.png", png_bytes())], "Passport", doc_expire=EXPIRE,
                                     doc_number="AB123456", doc_category=category)
        unit_of_work.commit()
        return user, docs
    return factory


def _decisions():
    return db.session.query(DocumentDecision).count()


def test_retry_then_approve_through_the_api_and_the_user_sees_why(as_role, applicant, login, app):
    api, reviewer = as_role("compliance")
    user, (front, selfie) = applicant(language="ru")
    resp = api.post(f"{A}/users/documents/decision", json={"id": front.id, "outcome": "approve"})
    assert resp.status_code == 201, resp.get_json()
    body = resp.get_json()
    assert body["id"] == front.id and body["review_state"] == "approved" and body["uid"] == user.uid
    resp = api.post(f"{A}/users/documents/decision",
                    json={"id": selfie.id, "outcome": "retry", "reason": "selfie_mismatch", "note": "Без очков",
                          "internal_note": "looks like another person"})
    assert resp.status_code == 201
    assert resp.get_json()["review_reason"] == "selfie_mismatch"
    db.session.expire_all()
    assert db.session.get(User, user.id).private_labels()["document"] == "pending"
    # the user's resource API: state, reason code, text in their language, the note — never the internal note
    me = app.test_client()
    from tests.helpers import UA

    me.environ_base["HTTP_USER_AGENT"] = UA
    login_as(me, user)
    items = me.get(f"{R}/documents").get_json()
    by_state = {i["review_state"]: i for i in items}
    assert set(by_state) == {"approved", "retry"}
    retry = by_state["retry"]
    assert retry["review_reason"] == "selfie_mismatch" and retry["review_note"] == "Без очков"
    assert retry["review_reason_text"].startswith("Лицо на селфи")
    assert "another person" not in json.dumps(items)
    # the admin view of the user carries the review fields
    docs = api.get(f"{A}/users/{user.uid}").get_json()["documents"]
    assert {d["id"]: d["review_state"] for d in docs} == {front.id: "approved", selfie.id: "retry"}
    # audit row with the reason codes (written by authz's AUDIT row or the service: exactly one)
    rows = db.session.query(Activity).filter_by(category="admin").all()
    assert any("selfie_mismatch" in (r.data or "") for r in rows)


@pytest.mark.parametrize("payload, status, code", [
    ({}, 400, ["admin.kyc.missing_id", "admin.kyc.missing_outcome", "admin.kyc.empty_outcome"]),
    ({"id": "x", "outcome": "approve"}, 422, "admin.kyc.non_integer_id"),
    ({"id": 0, "outcome": "approve"}, 422, "admin.kyc.non_integer_id"),
    ({"id": 1}, 400, ["admin.kyc.missing_outcome", "admin.kyc.empty_outcome"]),
    ({"id": 1, "outcome": ""}, 400, "admin.kyc.empty_outcome"),
    ({"id": 1, "outcome": "maybe"}, 422, "admin.kyc.invalid_decision"),
    ({"id": 99999999, "outcome": "approve"}, 404, "admin.kyc.document_doesnt_exist"),
    ({"outcome": "retry"}, 422, "kyc.reason.missing"),
    ({"outcome": "retry", "reason": "nope"}, 422, "kyc.reason.unknown"),
    ({"outcome": "reject", "reason": "blurry"}, 422, "kyc.reason.wrong_kind"),
    ({"outcome": "retry", "reason": "address_too_old"}, 422, "kyc.reason.not_applicable"),
    ({"outcome": "approve", "note": "x" * 1001}, 422, "kyc.note.too_long"),
    ({"outcome": "approve", "internal_note": "x" * 1001}, 422, "kyc.internal_note.too_long"),
    ({"outcome": "retry", "reason": ""}, 400, "admin.kyc.empty_reason"),
])
def test_every_refusal_writes_nothing(as_role, applicant, payload, status, code):
    api, _ = as_role("compliance")
    user, (front, selfie) = applicant()
    payload = dict(payload)
    if "id" not in payload and not isinstance(code, list):
        payload["id"] = selfie.id
    events = db.session.query(OutboxEvent).count()
    resp = api.post(f"{A}/users/documents/decision", json=payload)
    assert (resp.status_code, resp.get_json()) == (status, {"errors": code if isinstance(code, list) else [code]})
    db.session.expire_all()
    assert {d.review_state for d in db.session.query(Document).filter_by(user_id=user.id)} == {"pending"}
    assert _decisions() == 0 and db.session.query(OutboxEvent).count() == events
    assert db.session.get(User, user.id).review_claimed_by is None


def test_roles(as_role, applicant):
    user, (front, selfie) = applicant()
    for role in ("support", "accountant", "technical", "member"):
        api, _ = as_role(role)
        resp = api.post(f"{A}/users/documents/decision", json={"id": front.id, "outcome": "approve"})
        assert resp.status_code == 401, role
        assert resp.get_json()["errors"][0] in ("authz.invalid_permission", "admin.ability.not_permitted")
    assert _decisions() == 0
    # support and compliance read the catalogue; accountant / member do not
    for role, status in (("support", 200), ("compliance", 200), ("admin", 200), ("member", 401)):
        api, _ = as_role(role)
        assert api.get(f"{A}/kyc/reasons").status_code == status, role
    for role in ("admin", "superadmin"):
        api, _ = as_role(role)
        doc = front if role == "admin" else selfie
        assert api.post(f"{A}/users/documents/decision", json={"id": doc.id, "outcome": "approve"}).status_code \
            in (201, 409)


def test_decided_document_and_claimed_applicant(as_role, applicant):
    a, _ = as_role("compliance")
    b, _ = as_role("admin")
    user, (front, selfie) = applicant()
    assert a.post(f"{A}/users/documents/decision", json={"id": front.id, "outcome": "approve"}).status_code == 201
    resp = a.post(f"{A}/users/documents/decision", json={"id": front.id, "outcome": "approve"})
    assert (resp.status_code, resp.get_json()) == (409, {"errors": ["admin.kyc.not_pending"]})
    resp = b.post(f"{A}/users/documents/decision", json={"id": selfie.id, "outcome": "approve"})
    assert (resp.status_code, resp.get_json()) == (409, {"errors": ["admin.kyc.claimed"]})
    assert _decisions() == 1


def test_reasons_catalogue(as_role):
    api, _ = as_role("support")
    body = api.get(f"{A}/kyc/reasons").get_json()
    codes = {r["code"]: r for r in body}
    assert codes["blurry"]["kind"] == "retry" and codes["underage"]["kind"] == "final"
    assert codes["blurry"]["text"]["ru"].startswith("Фото") and codes["selfie_mismatch"]["applies_to"] == ["selfie"]


def test_openapi_documents_the_endpoints(client):
    doc = client.get("/api/v2/barong/openapi.json").get_json()
    op = doc["paths"]["/api/v2/barong/admin/users/documents/decision"]["post"]
    assert {"201", "400", "401", "404", "409", "422"} <= set(op["responses"])
    assert "/api/v2/barong/admin/kyc/reasons" in doc["paths"]
