"""GET admin/abilities: the caller's ability map."""
from flask import jsonify

from barong.api.auth import api_auth, current_user
from barong.api.params import document
from barong.api.v2.admin import bp
from barong.services.access import abilities


@bp.get("/abilities")
@api_auth
@document(summary="Get all roles and permissions.")
def abilities_index():
    return jsonify(abilities.for_role(getattr(current_user(), "role", None)))
