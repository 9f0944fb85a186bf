"""The end-user site (`/accounts/…`): sign-up, confirmation, log-in with 2FA, password
reset, and the signed-in user's pages (overview, security, verification, API keys,
activity, sessions). Every view calls the same service functions as the JSON API."""
from flask import Blueprint

bp = Blueprint("account", __name__, url_prefix="/accounts")

from barong.web.account import identity, overview, security, verification, api_keys  # noqa: E402,F401
