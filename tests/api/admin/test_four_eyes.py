"""Four-eyes approvals (barong.services.operators.four_eyes): a configured action is held
(API 202 + the request), a *different* operator approves (it runs) or rejects; the
requester and the target cannot decide; expiry; audit; the console's side."""
from __future__ import annotations

from datetime import timedelta

import pytest

from barong.extensions import db
from barong.models import Activity, ApprovalRequest, OutboxEvent, Permission, User, utcnow


@pytest.fixture
def four_eyes(app):
    def on(*names):
        app.config["BARONG_FOUR_EYES"] = ",".join(names)
    on("role_change")
    return on


def _role(uid):
    db.session.expire_all()
    return db.session.query(User).filter_by(uid=uid).one().role


def _role_events():
    from barong.services.delivery.events import payload_of

    return sum(1 for e in db.session.query(OutboxEvent).filter_by(name="model.user.updated")
               if "role" in (payload_of(e).get("changes") or {}))


def _request_role(sa, target, role="admin"):
    resp = sa.post("/users/role", json={"uid": target.uid, "role": role})
    assert resp.status_code == 202, resp.get_json()
    body = resp.get_json()
    assert body["state"] == "pending" and body["action"] == "role_change"
    assert body["params"] == {"uid": target.uid, "role": role} and body["requested_by"] == sa.user.uid
    return body["id"]


def test_a_role_grant_waits_for_a_second_superadmin(api, four_eyes, make_user):
    a, b = api("superadmin"), api("superadmin")
    target = make_user()
    request_id = _request_role(a, target)
    assert _role(target.uid) == "member"
    assert _role_events() == 0
    # the requester cannot approve their own request
    own = a.post("/approvals/approve", json={"id": request_id})
    assert own.status_code == 422 and own.get_json()["errors"] == ["admin.approval.own_request"]
    assert _role(target.uid) == "member"
    listed = b.get("/approvals", query_string={"state": "pending"}).get_json()
    assert [r["id"] for r in listed] == [request_id]
    ok = b.post("/approvals/approve", json={"id": request_id, "note": "checked with HR"})
    assert ok.status_code == 201 and ok.get_json()["state"] == "approved" and ok.get_json()["decided_by"] == b.user.uid
    assert _role(target.uid) == "admin"
    assert _role_events() == 1
    again = b.post("/approvals/approve", json={"id": request_id})
    assert again.status_code == 409 and again.get_json()["errors"] == ["admin.approval.approved"]
    actions = [a.action for a in db.session.query(Activity).filter_by(category="admin", topic="approvals")
               .order_by(Activity.id)]
    assert actions == ["request", "approve"]


def test_rejected_requests_change_nothing(api, four_eyes, make_user):
    a, b = api("superadmin"), api("superadmin")
    target = make_user()
    request_id = _request_role(a, target)
    resp = b.post("/approvals/reject", json={"id": request_id, "note": "no ticket"})
    assert resp.status_code == 201 and resp.get_json()["state"] == "rejected"
    assert _role(target.uid) == "member"
    assert b.post("/approvals/approve", json={"id": request_id}).get_json()["errors"] == ["admin.approval.rejected"]


def test_the_target_cannot_approve_a_change_to_their_own_account(api, four_eyes):
    a, b = api("superadmin"), api("superadmin")
    request_id = _request_role(a, b.user, "admin")
    resp = b.post("/approvals/approve", json={"id": request_id})
    assert resp.status_code == 422 and resp.get_json()["errors"] == ["admin.approval.own_account"]
    assert _role(b.user.uid) == "superadmin"


def test_the_approver_needs_the_actions_ability(api, four_eyes, make_user):
    a, admin = api("superadmin"), api("admin")
    request_id = _request_role(a, make_user())
    resp = admin.post("/approvals/approve", json={"id": request_id})
    assert resp.status_code in (401, 403)
    assert db.session.get(ApprovalRequest, request_id).state == "pending"


def test_an_expired_request_cannot_be_approved(api, four_eyes, make_user):
    a, b = api("superadmin"), api("superadmin")
    target = make_user()
    request_id = _request_role(a, target)
    req = db.session.get(ApprovalRequest, request_id)
    req.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    resp = b.post("/approvals/approve", json={"id": request_id})
    assert resp.status_code == 409 and resp.get_json()["errors"] == ["admin.approval.expired"]
    assert _role(target.uid) == "member"


def test_an_approved_action_that_no_longer_applies_fails_cleanly(api, four_eyes, make_user):
    a, b = api("superadmin"), api("superadmin")
    target = make_user()
    request_id = _request_role(a, target, "admin")
    target.role = "admin"  # someone else did it meanwhile (four-eyes off for them)
    db.session.commit()
    resp = b.post("/approvals/approve", json={"id": request_id})
    assert resp.status_code == 201 and resp.get_json()["state"] == "failed"
    assert "admin.user.role_no_change" in resp.get_json()["note"]


def test_unknown_request(api, four_eyes):
    resp = api("superadmin").post("/approvals/approve", json={"id": 999999})
    assert resp.status_code == 404 and resp.get_json()["errors"] == ["admin.approval.doesnt_exist"]


def test_off_unless_configured(api, app, make_user):
    app.config["BARONG_FOUR_EYES"] = ""
    target = make_user()
    resp = api("superadmin").post("/users/role", json={"uid": target.uid, "role": "admin"})
    assert resp.status_code == 201 and _role(target.uid) == "admin"
    assert db.session.query(ApprovalRequest).count() == 0


def test_the_shipped_config_holds_role_changes(api, app, make_user):
    app.config["BARONG_FOUR_EYES"] = None  # unset: config/barong.yml's four_eyes
    target = make_user()
    resp = api("superadmin").post("/users/role", json={"uid": target.uid, "role": "admin"})
    assert resp.status_code == 202 and _role(target.uid) == "member"


def test_permissions_otp_reset_and_unban_can_be_held(api, four_eyes, make_user):
    four_eyes("permission_create", "otp_reset", "unban")
    a, b = api("superadmin"), api("superadmin")
    before = db.session.query(Permission).count()
    resp = a.post("/permissions", json={"role": "member", "verb": "get", "path": "api/v2/x", "action": "accept"})
    assert resp.status_code == 202 and db.session.query(Permission).count() == before
    assert b.post("/approvals/approve", json={"id": resp.get_json()["id"]}).status_code == 201
    assert db.session.query(Permission).count() == before + 1

    user = make_user(otp=True)
    resp = a.put("/users", json={"uid": user.uid, "otp": False})
    assert resp.status_code == 202
    db.session.expire_all()
    assert db.session.get(User, user.id).otp is True
    b.post("/approvals/approve", json={"id": resp.get_json()["id"]})
    db.session.expire_all()
    assert db.session.get(User, user.id).otp is False

    banned = make_user(state="banned")
    resp = a.put("/users", json={"uid": banned.uid, "state": "active"})
    assert resp.status_code == 202
    b.post("/approvals/approve", json={"id": resp.get_json()["id"]})
    db.session.expire_all()
    assert db.session.get(User, banned.id).state == "active"
    # banning is not held (only lifting a ban is)
    resp = a.put("/users", json={"uid": banned.uid, "state": "banned"})
    assert resp.status_code == 200


def test_the_console_holds_and_approves(app, four_eyes, make_user):
    from tests.helpers import login_as

    a, b, target = make_user(role="superadmin"), make_user(role="superadmin"), make_user()
    ca, cb = app.test_client(), app.test_client()
    login_as(ca, a)
    login_as(cb, b)
    resp = ca.post(f"/admin/users/{target.uid}/role", data={"role": "admin", "confirm": "1"})
    assert resp.status_code == 302
    assert _role(target.uid) == "member"
    req = db.session.query(ApprovalRequest).one()
    page = ca.get("/admin/approvals").get_data(as_text=True)
    assert f"role of {target.uid}" in page and "Another operator must decide." in page
    page_b = cb.get("/admin/approvals").get_data(as_text=True)
    assert f"/admin/approvals/{req.id}/approve" in page_b
    assert ca.post(f"/admin/approvals/{req.id}/approve").status_code == 302  # refused: own request
    assert _role(target.uid) == "member"
    cb.post(f"/admin/approvals/{req.id}/approve", data={"note": "ok"})
    assert _role(target.uid) == "admin"
