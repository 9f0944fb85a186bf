"""resource/profiles: the user's KYC profile (create, edit the drafted one, list)."""
from __future__ import annotations

from datetime import date

from flask import jsonify

from barong.api import entities
from barong.api.auth import api_auth
from barong.api.params import Param, document, use_params
from barong.api.v2.resource import bp, cached_body, me
from barong.services.accounts import profiles

SCOPE = "resource.profile"
PARAMS = (
    Param("first_name"), Param("last_name"), Param("dob", date, invalid="invalid", description="YYYY-MM-DD"),
    Param("address"), Param("postcode"), Param("city"), Param("country", description="ISO 3166 alpha-2 or alpha-3"),
    Param("metadata", "any", description="Any additional key: value pairs in json string format"),
    Param("confirm", bool, default=False, description="Profile confirmation (→ submitted)"),
)


def _fields(p: dict) -> dict:
    return {k: p[k] for k in profiles.FIELDS if k in p}


@bp.get("/profiles/me")
@api_auth(load_entity=False)
@document(summary="Return profiles of current resource owner")
def profiles_me():
    return jsonify(cached_body("profiles", lambda: [entities.profile(pr) for pr in profiles.list_for(me())]))


@bp.post("/profiles")
@api_auth
@use_params(SCOPE, *PARAMS, status=201, summary="Create a profile for current_user (409 state.exists if one is open)")
def profiles_create(p):
    profile = profiles.create(me(), _fields(p), confirm=bool(p.get("confirm")))
    return jsonify(entities.profile(profile)), 201


@bp.put("/profiles")
@api_auth
@use_params(SCOPE, *PARAMS, summary="Update the drafted profile of current_user")
def profiles_update(p):
    profile = profiles.update(me(), _fields(p), confirm=bool(p.get("confirm")))
    return jsonify(entities.profile(profile))
