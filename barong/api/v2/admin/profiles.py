"""admin/profiles: list, create for a user, review (verify / reject)."""

from flask import g, jsonify
from sqlalchemy.orm import selectinload

from barong.api import admin_bodies, entities
from barong.api.auth import api_auth, current_user
from barong.api.params import Param, use_params
from barong.api.v2.admin import ability, bp, respond
from barong.extensions import db
from barong.models import Profile, User
from barong.services.accounts import users
from barong.services.operators import admin_actions, admin_users, pii

S = "admin.profile"
FIELDS = ("first_name", "last_name", "dob", "address", "postcode", "city", "country", "metadata")


def _admin_profile(p):
    return entities.profile(p, masked=False)


@bp.get("/profiles")
@api_auth(load_entity=False)
@use_params(S, paginated=True, summary="Return all profiles")
@ability("read", "Profile")
@admin_bodies.cached(admin_bodies.USERS, pii=True)
def profiles_index(p):
    q = db.session.query(Profile).order_by(Profile.id)
    if not pii.always_sees(g.current_user):  # masking reads each profile's user: one SELECT … IN
        q = q.options(selectinload(Profile.user).lazyload(User.labels))
    return respond(q, p, _admin_profile)


@bp.post("/profiles")
@api_auth
@use_params(S, Param("uid", required=True, allow_blank=False), Param("first_name"), Param("last_name"),
            Param("dob", description="YYYY-MM-DD"), Param("address"), Param("postcode"), Param("city"),
            Param("country", description="ISO 3166 alpha-2 or alpha-3"),
            Param("metadata", "json", invalid="metadata.invalid_format", description="JSON string"),
            status=201, summary="Create a profile for user")
def profiles_create(p):
    user = admin_users.get(p["uid"])
    fields = {k: p[k] for k in FIELDS if k in p}
    profile = admin_actions.create_profile(user, fields, actor=current_user())
    return jsonify(_admin_profile(profile)), 201


@bp.put("/profiles")
@api_auth
@use_params(S, Param("uid", required=True, allow_blank=False),
            Param("state", required=True, allow_blank=False, description="verified, rejected, …"),
            summary="Verify user's profile")
@ability("update", "Profile")
def profiles_update(p):
    profile = admin_actions.review_profile(users.by_uid(p["uid"]), p["state"], actor=current_user())
    return jsonify(_admin_profile(profile))
