"""`/api/v2/barong/admin/…`: operators' JSON API."""
from flask import Blueprint

bp = Blueprint("admin_api", __name__)
