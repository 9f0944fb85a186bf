"""admin/users/comments (CONTRACT §3: the seed lists them under admin/api_keys by mistake)."""
from flask import jsonify

from barong.api import entities
from barong.api.auth import api_auth, current_user
from barong.api.params import Param, use_params
from barong.api.v2.admin import bp, nonblank
from barong.services.operators import admin_users, comments

S = "admin.user"


def _kyc(user):
    return entities.user_with_kyc(admin_users.get(user.uid, full=True))


@bp.post("/users/comments")
@api_auth
@use_params(S, Param("uid", required=True, allow_blank=False, description="user uniq id"),
            Param("title", required=True, allow_blank=False, max_length=100_000, description="≤ 64 chars"),
            Param("data", required=True, allow_blank=False, max_length=1_000_000, description="≤ 65535 chars"),
            status=201, summary="Adds new user's comment")
def comments_create(p):
    user = admin_users.get(p["uid"])
    comments.add(user, p["title"], p["data"], actor=current_user())
    return jsonify(_kyc(user)), 201


@bp.put("/users/comments")
@api_auth
@use_params(S, Param("id", int, required=True, allow_blank=False, invalid=f"{S}.non_integer_id"),
            nonblank("title", max_length=100_000), nonblank("data", max_length=1_000_000),
            summary="Edit user's comment")
def comments_update(p):
    comment = comments.get(p["id"])
    comments.edit(comment, p.get("title"), p.get("data"), actor=current_user())
    return jsonify(_kyc(comment.user))


@bp.delete("/users/comments")
@api_auth
@use_params(S, Param("id", int, required=True, allow_blank=False, invalid=f"{S}.non_integer_id"),
            status=204, summary="Delete user's comment")
def comments_delete(p):
    comments.delete(comments.get(p["id"]), actor=current_user())
    return "", 204
