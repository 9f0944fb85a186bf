"""The end-user site (`/accounts/…`): sign-up, confirmation, log-in with 2FA, password
reset, and the signed-in user's pages (overview, security, verification, API keys,
activity, sessions). Every view calls the same service functions as the JSON API."""
from flask import Blueprint

bp = Blueprint("account", __name__, url_prefix="/accounts")

from barong.web.account import identity, overview, security, verification, api_keys  # noqa: E402,F401
from barong.web.account import passkeys  # noqa: E402,F401
from barong.web.account import protection  # noqa: E402,F401


@bp.context_processor
def _account_context():
    def can_enter_console() -> bool:
        """Operators see a link to the console (same rules as the console's own guard)."""
        from flask_login import current_user

        from barong.web.console.policy import can_enter

        return bool(current_user.is_authenticated and can_enter(current_user))

    return {"can_enter_console": can_enter_console}
