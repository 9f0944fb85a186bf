"""admin/approvals: four-eyes requests (barong.services.operators.four_eyes) — list them,
approve or reject one; and the answer to a held action (202 + the request), for the
admin API and, through barong.web.console.approvals, the console."""
from __future__ import annotations

from flask import jsonify

from barong.api.auth import api_auth, current_user
from barong.api.pagination import respond
from barong.api.params import INT32, Param, use_params
from barong.api.v2.admin import ability, bp
from barong.errors import is_api_request
from barong.extensions import db
from barong.models import ApprovalRequest
from barong.services.operators import four_eyes

S = "admin.approval"
ID = Param("id", int, required=True, allow_blank=False, invalid=f"{S}.non_integer_id", description="request id",
           minimum=INT32[0], maximum=INT32[1])
NOTE = Param("note", max_length=255, description="why (kept with the decision and in the audit log)")
ERRORS = {404: "admin.approval.doesnt_exist",
          409: "admin.approval.approved / rejected / expired / failed (already decided)",
          422: "admin.approval.own_request (the requester), admin.approval.own_account (the target)"}


@bp.app_errorhandler(four_eyes.PendingApproval)
def _held(exc: four_eyes.PendingApproval):
    """A held action: 202 and the request (API); the console's notice elsewhere. A 2xx/3xx
    answer, so the request row commits."""
    if is_api_request():
        return jsonify(four_eyes.entity(exc.request)), 202
    from barong.web.console.approvals import held_response

    return held_response(exc.request)


@bp.get("/approvals")
@api_auth
@use_params(S, Param("state", values=("pending", "approved", "rejected", "expired", "failed"),
                     invalid=f"{S}.invalid_state"),
            paginated=True, summary="Returns four-eyes requests, newest first")
@ability("read", "Ability")
def approvals_index(p):
    four_eyes.pending()  # marks the expired ones
    q = db.session.query(ApprovalRequest)
    if p.get("state"):
        q = q.filter(ApprovalRequest.state == p["state"])
    return respond(q.order_by(ApprovalRequest.id.desc()), p, four_eyes.entity)


@bp.post("/approvals/approve")
@api_auth
@use_params(S, ID, NOTE, status=201, errors=ERRORS,
            summary="Approves a held action (another operator's): it runs as the requester's")
def approvals_approve(p):
    return jsonify(four_eyes.entity(four_eyes.approve(p["id"], current_user(), p.get("note")))), 201


@bp.post("/approvals/reject")
@api_auth
@use_params(S, ID, NOTE, status=201, errors=ERRORS, summary="Rejects a held action (another operator's)")
def approvals_reject(p):
    return jsonify(four_eyes.entity(four_eyes.reject(p["id"], current_user(), p.get("note")))), 201
