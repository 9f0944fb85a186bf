"""GET admin/abilities: the caller's ability map."""
from flask import g, jsonify

from barong.api.auth import api_auth
from barong.api.params import document
from barong.api.v2.admin import bp
from barong.services.access import abilities


@bp.get("/abilities")
@api_auth(load_entity=False)
@document(summary="Get all roles and permissions.")
def abilities_index():
    return jsonify(abilities.for_role(getattr(g.current_user, "role", None)))
