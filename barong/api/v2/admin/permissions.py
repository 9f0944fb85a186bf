"""admin/permissions: the RBAC rows authz decides with (changes clear its cache at once)."""
from barong.api import admin_bodies, entities
from barong.api.auth import api_auth, current_user
from barong.api.params import INT32, Param, no_content, use_params
from barong.api.v2.admin import ability, bp, nonblank, respond
from barong.extensions import db
from barong.models import Permission
from barong.services.operators import admin_actions

S = "admin.permission"
ID = Param("id", int, required=True, allow_blank=False, invalid=f"{S}.non_integer_id", description="permission id",
           minimum=INT32[0], maximum=INT32[1])


@bp.get("/permissions")
@api_auth(load_entity=False)
@use_params(S, paginated=True, summary="Returns array of permissions as paginated collection")
@ability("read", "Permission")
@admin_bodies.cached(admin_bodies.RBAC)
def permissions_index(p):
    return respond(db.session.query(Permission).order_by(Permission.id), p, entities.permission)


@bp.post("/permissions")
@api_auth
@use_params(S, Param("role", required=True, allow_blank=False),
            Param("verb", required=True, allow_blank=False, description="get post put delete patch head all"),
            Param("path", required=True, allow_blank=False, description="path prefix, no leading slash"),
            Param("action", required=True, allow_blank=False, description="accept drop audit"),
            nonblank("topic"), status=201, summary="Create permission")
@ability("create", "Permission")
@no_content
def permissions_create(p):
    admin_actions.create_permission(p["role"], p["verb"], p["path"], p["action"], p.get("topic"),
                                    actor=current_user())
    return "", 201


@bp.put("/permissions")
@api_auth
@use_params(S, ID, nonblank("role"), nonblank("verb"), nonblank("path"), nonblank("action"), nonblank("topic"),
            summary="Update Permission")
@ability("update", "Permission")
@no_content
def permissions_update(p):
    perm = admin_actions.get_permission(p["id"])
    admin_actions.update_permission(perm, actor=current_user(),
                                    **{k: p.get(k) for k in ("role", "verb", "path", "action", "topic")})
    return "", 200


@bp.delete("/permissions")
@api_auth
@use_params(S, ID, status=204, summary="Deletes permission")
@ability("destroy", "Permission")
def permissions_delete(p):
    admin_actions.delete_permission(admin_actions.get_permission(p["id"]), actor=current_user())
    return "", 204
