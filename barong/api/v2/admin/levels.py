"""GET admin/levels."""
from flask import jsonify

from barong.api import admin_bodies, entities
from barong.api.auth import api_auth
from barong.api.params import document
from barong.api.v2.admin import ability, bp
from barong.extensions import db
from barong.models import Level


@bp.get("/levels")
@api_auth(load_entity=False)
@document(summary="Returns array of levels")
@ability("read", "Level")
@admin_bodies.cached(admin_bodies.RBAC)
def levels_index():
    return jsonify([entities.level(l) for l in db.session.query(Level).order_by(Level.id)])
