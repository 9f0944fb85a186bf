"""`/api/v2/auth/<path>`: the gateway's authorization endpoint (reference/authz.md)."""
from flask import Blueprint

bp = Blueprint("authz", __name__)
