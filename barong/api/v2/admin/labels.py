"""admin/users/labels: list users by label, existing label counts, add / update / delete."""
from flask import jsonify

from barong.api import admin_bodies, entities
from barong.api.auth import api_auth, current_user
from barong.api.pagination import paginated_response
from barong.api.params import Param, document, use_params
from barong.api.v2.admin import ability, bp, nonblank
from barong.services.operators import admin_users

S = "admin.user"
UID = Param("uid", required=True, allow_blank=False, description="user uniq id")
KEY = Param("key", required=True, allow_blank=False, description="label key [a-z0-9_-], 3..255 chars")
VALUE = Param("value", required=True, allow_blank=False, description="label value [a-z0-9_-], 3..255 chars")
SCOPE = Param("scope", required=True, allow_blank=False, description="public or private")
DESCRIPTION = nonblank("description", max_length=255, description="label description")


@bp.get("/users/labels/list")
@api_auth(load_entity=False)
@document(summary="Returns existing labels keys and values")
@ability("read", "User")
@admin_bodies.cached(admin_bodies.USERS)
def labels_list():
    return jsonify(admin_users.labels_summary())


@bp.get("/users/labels")
@api_auth
@use_params(S, Param("key", required=True, description="label key"),
            Param("value", required=True, description="label value"), paginated=True,
            summary="Returns array of users having a label as paginated collection")
@ability("read", "User")
def labels_users(p):
    q, conds = admin_users.with_label_query(p["key"] or "", p["value"] or "")
    items = q.limit(p["limit"]).offset((p["page"] - 1) * p["limit"]).all()
    return paginated_response(items, admin_users.count(conds), p["page"], p["limit"], entities.user)


@bp.post("/users/labels")
@api_auth
@use_params(S, UID, KEY, VALUE, DESCRIPTION,
            nonblank("scope", description="public (default) or private"),
            status=201, summary="Adds label for user")
@ability("create", "Label")
def labels_create(p):
    user = admin_users.get(p["uid"])
    label = admin_users.add_label(user, p["key"], p["value"], p.get("scope"), p.get("description"),
                                  actor=current_user())
    return jsonify(entities.admin_label(label)), 201


@bp.post("/users/labels/update")
@api_auth
@use_params(S, UID, KEY, SCOPE, VALUE, DESCRIPTION,
            Param("replace", bool, default=True, invalid=f"{S}.non_boolean_replace",
                  description="create the label when it does not exist (default true)"),
            status=201, summary="Update user label value (create it when replace)")
@ability("update", "Label")
def labels_upsert(p):
    user = admin_users.get(p["uid"])
    replace = True if p.get("replace") is None else p["replace"]
    label = admin_users.upsert_label(user, p["key"], p["value"], p["scope"], p.get("description"), replace,
                                     actor=current_user())
    return jsonify(entities.admin_label(label)), 201


@bp.put("/users/labels")
@api_auth
@use_params(S, UID, KEY, SCOPE, VALUE, Param("description", max_length=255), summary="Update user label")
@ability("update", "Label")
def labels_update(p):
    user = admin_users.get(p["uid"])
    label = admin_users.edit_label(user, p["key"], p["scope"], p["value"], p.get("description") or None,
                                   actor=current_user())
    return jsonify(entities.admin_label(label))


@bp.delete("/users/labels")
@api_auth
@use_params(S, UID, KEY, SCOPE, status=204, summary="Deletes label for user")
@ability("destroy", "Label")
def labels_delete(p):
    user = admin_users.get(p["uid"])
    admin_users.delete_label(user, p["key"], p["scope"], actor=current_user())
    return "", 204
