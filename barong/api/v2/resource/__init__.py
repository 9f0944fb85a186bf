"""`/api/v2/barong/resource/…`: the signed-in user's own account."""
from flask import Blueprint

bp = Blueprint("resource", __name__)

from barong.api.v2.resource import users  # noqa: E402,F401
