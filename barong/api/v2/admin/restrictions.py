"""admin/restrictions: CRUD (the authz restriction cache is cleared at once) and whitelinks."""
from datetime import datetime, timezone

from flask import jsonify

from barong.api import admin_bodies, entities
from barong.api.auth import api_auth, current_user
from barong.api.params import INT32, UNIX_SECONDS, Param, no_content, use_params
from barong.api.v2.admin import ability, bp, nonblank, respond
from barong.extensions import db
from barong.models import Restriction
from barong.models.restriction import CATEGORIES, SCOPES, STATES
from barong.services.operators import admin_actions

S = "admin.restriction"
ID = Param("id", int, required=True, allow_blank=False, invalid=f"{S}.non_integer_id", description="restriction id",
           minimum=INT32[0], maximum=INT32[1])


def _scope(required=False):
    return Param("scope", required=required, allow_blank=not required, values=SCOPES, invalid=f"{S}.invalid_scope")


def _category(required=False):
    return Param("category", required=required, allow_blank=not required, values=CATEGORIES,
                 invalid=f"{S}.invalid_category")


STATE = Param("state", values=STATES, invalid=f"{S}.invalid_state", description="enabled (default) or disabled")
CODE = Param("code", int, invalid=f"{S}.non_integer_code", description="HTTP status returned on match",
             minimum=INT32[0], maximum=INT32[1])


def _ts(v):
    return datetime.fromtimestamp(v, tz=timezone.utc).replace(tzinfo=None)


@bp.get("/restrictions")
@api_auth(load_entity=False)
@use_params(S, _scope(), _category(),
            Param("range", values=("created", "updated"), invalid=f"{S}.invalid_range"),
            Param("from", int, invalid=f"{S}.non_integer_from", minimum=UNIX_SECONDS[0], maximum=UNIX_SECONDS[1]),
            Param("to", int, invalid=f"{S}.non_integer_to", minimum=UNIX_SECONDS[0], maximum=UNIX_SECONDS[1]),
            paginated=True, summary="Returns array of restrictions as a paginated collection")
@ability("read", "Restriction")
@admin_bodies.cached(admin_bodies.RBAC)
def restrictions_index(p):
    q = db.session.query(Restriction)
    if p.get("scope"):
        q = q.filter(Restriction.scope == p["scope"])
    if p.get("category"):
        q = q.filter(Restriction.category == p["category"])
    column = Restriction.updated_at if p.get("range") == "updated" else Restriction.created_at
    if p.get("from") is not None:
        q = q.filter(column >= _ts(p["from"]))
    if p.get("to") is not None:
        q = q.filter(column <= _ts(p["to"]))
    return respond(q.order_by(Restriction.id), p, entities.restriction)


@bp.post("/restrictions")
@api_auth
@use_params(S, _scope(True), Param("value", required=True, allow_blank=False), _category(True), STATE, CODE,
            status=201, summary="Create restriction")
@ability("create", "Restriction")
@no_content
def restrictions_create(p):
    admin_actions.create_restriction(p["category"], p["scope"], p["value"], p.get("state"), p.get("code"),
                                     actor=current_user())
    return "", 201


@bp.put("/restrictions")
@api_auth
@use_params(S, ID, _scope(), _category(), nonblank("value"), STATE, CODE,
            summary="Update restriction")
@ability("update", "Restriction")
@no_content
def restrictions_update(p):
    r = admin_actions.get_restriction(p["id"])
    admin_actions.update_restriction(r, actor=current_user(),
                                     **{k: p.get(k) for k in ("scope", "category", "value", "state", "code")})
    return "", 200


@bp.delete("/restrictions")
@api_auth
@use_params(S, ID, status=204, summary="Delete restriction")
@ability("destroy", "Restriction")
def restrictions_delete(p):
    admin_actions.delete_restriction(admin_actions.get_restriction(p["id"]), actor=current_user())
    return "", 204


@bp.post("/restrictions/whitelink")
@api_auth
@use_params(S, Param("expire_time", int, default=1, invalid=f"{S}.invalid_expire", description="1..30"),
            Param("range", default="day", values=("day", "hour"), invalid=f"{S}.invalid_range"),
            status=201, summary="Create whitelink")
@ability("create", "Restriction")
def restrictions_whitelink(p):
    token = admin_actions.issue_whitelink(p.get("expire_time") or 1, p.get("range") or "day",
                                          actor=current_user())
    return jsonify({"whitelink_token": token}), 201
