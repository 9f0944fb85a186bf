"""`/api/v2/barong/management/…`: service-to-service API, JWS multi-signature."""
from flask import Blueprint

bp = Blueprint("management", __name__)
