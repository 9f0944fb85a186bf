"""resource/users/me and friends."""
from flask import jsonify

from barong.api import entities
from barong.api.auth import api_auth, current_user
from barong.api.params import document
from barong.api.v2.resource import bp


@bp.get("/users/me")
@api_auth
@document(summary="Returns current user")
def users_me():
    return jsonify(entities.user_full(current_user()))
