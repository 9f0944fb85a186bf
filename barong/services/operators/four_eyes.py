"""Four-eyes approvals: a dangerous operator action, when the configuration names it, is
not done but held as an `ApprovalRequest` that a *different* operator approves (then it
runs, as the requester's action) or rejects before it expires.

The services that do those actions (admin_users.change_role / update, admin_actions'
permission and restriction writes) call `hold(name, actor, params, target_uid)` after
their own checks and before changing anything: it returns at once when the action is
not configured, or while an approved request is being carried out; otherwise it writes
the request and raises `PendingApproval`, which the admin API answers with 202 and the
request's id and the console with a notice. So the console and the API, and every
caller of the service, are held alike.

Which actions: BARONG_FOUR_EYES (comma-separated; set but empty = none), else
config/barong.yml `four_eyes` (the shipped file: role_change). Names: role_change,
otp_reset, unban, permission_create, permission_update, permission_delete,
restriction_create, restriction_update, restriction_delete.

Rules: the requester cannot approve or reject their own request, nor can the user the
action targets; the approver needs the same ability the action needs; a request
expires after BARONG_FOUR_EYES_TTL seconds; approvals, rejections and what ran are
written to the admin audit log (always: a decision is never "already audited").
"""
from __future__ import annotations

import contextvars
import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Callable

from flask import current_app

from barong.errors import BarongError
from barong.extensions import db
from barong.models import ApprovalRequest, User, utcnow
from barong.services.access import abilities
from barong.services.audit import activities
from barong.services.infra.unit_of_work import savepoint

_executing: contextvars.ContextVar[int | None] = contextvars.ContextVar("four_eyes_executing", default=None)


class PendingApproval(Exception):
    """The action was held for a second operator (not an error: answered 202)."""

    def __init__(self, request: ApprovalRequest):
        super().__init__(f"approval request {request.id}")
        self.request = request


@dataclass(frozen=True)
class Action:
    ability: tuple[str, str]
    run: Callable[[dict, User], object]
    describe: Callable[[dict], str]


def _user(params: dict) -> User:
    from barong.services.operators import admin_users

    return admin_users.get(params["uid"])


def _run_role(p, actor):
    from barong.services.operators import admin_users

    return admin_users.change_role(_user(p), p["role"], actor=actor)


def _run_update(p, actor):
    from barong.services.operators import admin_users

    return admin_users.update(_user(p), **{p["field"]: p["value"]}, actor=actor)


def _perm(p, actor, op):
    from barong.services.operators import admin_actions

    if op == "create":
        return admin_actions.create_permission(p["role"], p["verb"], p["path"], p["action"], p.get("topic"),
                                               actor=actor)
    perm = admin_actions.get_permission(p["id"])
    if op == "update":
        return admin_actions.update_permission(perm, actor=actor, **p["fields"])
    return admin_actions.delete_permission(perm, actor=actor)


def _restr(p, actor, op):
    from barong.services.operators import admin_actions

    if op == "create":
        return admin_actions.create_restriction(p["category"], p["scope"], p["value"], p.get("state"), p.get("code"),
                                                actor=actor)
    r = admin_actions.get_restriction(p["id"])
    if op == "update":
        return admin_actions.update_restriction(r, actor=actor, **p["fields"])
    return admin_actions.delete_restriction(r, actor=actor)


ACTIONS: dict[str, Action] = {
    "role_change": Action(("update", "Role"), _run_role, lambda p: f"role of {p['uid']} → {p['role']}"),
    "otp_reset": Action(("update", "User"), _run_update, lambda p: f"turn off 2FA of {p['uid']}"),
    "unban": Action(("update", "User"), _run_update, lambda p: f"state of {p['uid']} → {p['value']}"),
    "permission_create": Action(("create", "Permission"), lambda p, a: _perm(p, a, "create"),
                                lambda p: f"permission {p['role']} {p['verb']} {p['path']} {p['action']}"),
    "permission_update": Action(("update", "Permission"), lambda p, a: _perm(p, a, "update"),
                                lambda p: f"permission #{p['id']}: {p['fields']}"),
    "permission_delete": Action(("destroy", "Permission"), lambda p, a: _perm(p, a, "delete"),
                                lambda p: f"delete permission #{p['id']}"),
    "restriction_create": Action(("create", "Restriction"), lambda p, a: _restr(p, a, "create"),
                                 lambda p: f"restriction {p['category']} {p['scope']} {p['value']}"),
    "restriction_update": Action(("update", "Restriction"), lambda p, a: _restr(p, a, "update"),
                                 lambda p: f"restriction #{p['id']}: {p['fields']}"),
    "restriction_delete": Action(("destroy", "Restriction"), lambda p, a: _restr(p, a, "delete"),
                                 lambda p: f"delete restriction #{p['id']}"),
}


def configured() -> set[str]:
    raw = current_app.config.get("BARONG_FOUR_EYES")
    if raw is None:
        from barong.settings import settings

        names = settings().four_eyes or []
    else:
        names = [n.strip() for n in str(raw).split(",")]
    return {n for n in names if n in ACTIONS}


def hold(name: str, actor, params: dict, target_uid: str | None = None) -> None:
    """Return when `name` may run now; else write the request and raise PendingApproval."""
    if name not in configured() or _executing.get() is not None:
        return
    req = ApprovalRequest(action=name, params=json.dumps(params, sort_keys=True, default=str),
                          target_uid=target_uid, requested_by=actor.uid, state="pending",
                          expires_at=utcnow() + timedelta(seconds=int(current_app.config.get("BARONG_FOUR_EYES_TTL",
                                                                                             86400))))
    db.session.add(req)
    db.session.flush()
    _audit(actor, "request", req)
    raise PendingApproval(req)


def _audit(actor, what: str, req: ApprovalRequest, **extra) -> None:
    activities.record_admin(actor, "approvals", what, "succeed", target_uid=req.target_uid,
                            data={"request": req.id, "action": req.action, "params": json.loads(req.params),
                                  "requested_by": req.requested_by, **extra})


def _expire(req: ApprovalRequest) -> None:
    if req.state == "pending" and req.expires_at <= utcnow():
        req.state = "expired"
        db.session.flush()


def get(request_id: int) -> ApprovalRequest:
    req = db.session.get(ApprovalRequest, request_id)
    if req is None:
        raise BarongError("admin.approval.doesnt_exist", 404)
    _expire(req)
    return req


def pending() -> list[ApprovalRequest]:
    rows = db.session.query(ApprovalRequest).filter_by(state="pending").order_by(ApprovalRequest.id).all()
    for r in rows:
        _expire(r)
    return [r for r in rows if r.state == "pending"]


def recent(limit: int = 50) -> list[ApprovalRequest]:
    return db.session.query(ApprovalRequest).order_by(ApprovalRequest.id.desc()).limit(limit).all()


def describe(req: ApprovalRequest) -> str:
    return ACTIONS[req.action].describe(json.loads(req.params)) if req.action in ACTIONS else req.action


def _decidable(req: ApprovalRequest, operator) -> Action:
    if req.state != "pending":
        raise BarongError(f"admin.approval.{req.state}", 409)
    if operator.uid == req.requested_by:
        raise BarongError("admin.approval.own_request", 422)
    if req.target_uid and operator.uid == req.target_uid:
        raise BarongError("admin.approval.own_account", 422)
    action = ACTIONS[req.action]
    abilities.authorize(operator, *action.ability)
    return action


def _take(req: ApprovalRequest, state: str, operator, note: str | None) -> None:
    """Compare-and-set pending → state: of two operators deciding at once, one wins."""
    won = db.session.query(ApprovalRequest).filter_by(id=req.id, state="pending").update(
        {"state": state, "decided_by": operator.uid, "decided_at": utcnow(), "note": (note or "").strip()[:255] or None},
        synchronize_session=False)
    db.session.expire(req)
    if not won:
        raise BarongError(f"admin.approval.{req.state}", 409)


def approve(request_id: int, operator, note: str | None = None) -> ApprovalRequest:
    """Carry out the held action as the requester's, approved by `operator`. Raises 404
    admin.approval.doesnt_exist, 409 admin.approval.<state> (decided or expired), 422
    admin.approval.own_request / own_account, 401 admin.ability.not_permitted; the
    action's own refusals (its state changed meanwhile) leave nothing changed but the
    request, marked `failed`."""
    req = get(request_id)
    action = _decidable(req, operator)
    requester = db.session.query(User).filter_by(uid=req.requested_by).one()
    _take(req, "approved", operator, note)
    token = _executing.set(req.id)
    try:
        with savepoint():  # a refusal of the action undoes only its own writes
            action.run(json.loads(req.params), requester)
    except BarongError as err:
        req.state = "failed"
        req.note = ((req.note or "") + f" [{', '.join(err.codes)}]").strip()[:255]
        db.session.flush()
        _audit(operator, "failed", req, errors=err.codes)
        return req
    finally:
        _executing.reset(token)
    _audit(operator, "approve", req, note=note)
    return req


def reject(request_id: int, operator, note: str | None = None) -> ApprovalRequest:
    req = get(request_id)
    _decidable(req, operator)
    _take(req, "rejected", operator, note)
    _audit(operator, "reject", req, note=note)
    return req


def entity(req: ApprovalRequest) -> dict:
    from barong.models import iso

    return {"id": req.id, "action": req.action, "params": json.loads(req.params), "description": describe(req),
            "target_uid": req.target_uid, "requested_by": req.requested_by, "state": req.state,
            "decided_by": req.decided_by, "decided_at": iso(req.decided_at), "note": req.note,
            "expires_at": iso(req.expires_at), "created_at": iso(req.created_at)}
