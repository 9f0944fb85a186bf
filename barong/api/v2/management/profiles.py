"""management `profiles` (scope `write_users`): create a profile for a user."""
from __future__ import annotations

from flask import jsonify

from barong.api import entities
from barong.api.params import Param
from barong.api.v2.management import bp, management_signed
from barong.api.v2.management._common import user_or_422
from barong.services.accounts import profiles

E = "management.profile"
FIELDS = ("first_name", "last_name", "dob", "address", "postcode", "city", "country")


@bp.post("/profiles")
@management_signed("write_users", E, Param("uid", required=True, allow_blank=False, description="User uid"),
                   *[Param(f) for f in FIELDS],
                   Param("state", description="drafted (default), submitted, verified or rejected"),
                   Param("metadata", "any", description="additional fields (JSON string or object)"),
                   status=201, summary="Create a profile for a user")
def profiles_create(p):
    user = user_or_422(p["uid"])
    fields = {f: p[f] for f in FIELDS + ("metadata",) if p.get(f) is not None}
    profiles.create(user, fields, state=p.get("state") or None)
    return jsonify(entities.management_user_with_profile(user, masked=False)), 201
