"""admin/users/reveal (issue 17): an operator reveals one user's personal data with a reason.

Every admin API request is marked `g.pii_admin`, so the operator entities
(barong.api.entities) mask names, dob, address, postcode, phones and document numbers for
callers without `read PersonalData` (barong.services.operators.pii)."""
from flask import g, jsonify

from barong.api import entities
from barong.api.auth import api_auth, current_user
from barong.api.params import Param, use_params
from barong.api.v2.admin import bp
from barong.services.operators import pii

S = "admin.pii"


@bp.before_request
def _mark_admin_api():
    g.pii_admin = True


@bp.post("/users/reveal")
@api_auth
@use_params(S, Param("uid", required=True, allow_blank=False),
            Param("reason", max_length=pii.REASON_MAX, invalid=f"{S}.reason_too_long",
                  description="required: why the data is needed (at most 255 characters), stored in the audit "
                              "row; absent or blank → 422 admin.pii.missing_reason"),
            Param("fields", invalid=f"{S}.invalid_field",
                  description="comma-separated subset of " + ", ".join(pii.FIELDS) + " (default all): only "
                              "these are unmasked for the caller; another name (or not a string) → 422 "
                              "admin.pii.invalid_field"),
            summary="Reveal a user's personal data",
            description="For roles with `reveal PersonalData` but not `read PersonalData` (compliance by default): "
                        "writes one admin activity (topic pii, action reveal, data {reason, fields}) and returns "
                        "the user unmasked; the caller then sees that user's data for BARONG_PII_REVEAL_TTL "
                        "seconds (default 600). 401 admin.ability.not_permitted without the ability.")
def users_reveal(p):
    user = pii.reveal(current_user(), p["uid"], p.get("reason"), p.get("fields"))
    return jsonify(entities.user_with_kyc(user)), 201
