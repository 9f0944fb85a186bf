"""Operators must use 2FA (BARONG_CONSOLE_REQUIRE_2FA, default on): a signed-in user whose
role opens the console but who has neither TOTP nor a passkey is sent to the 2FA page
before any console page answers; the admin API refuses them with 403
`admin.2fa.required` (barong.authz). Off in the test configuration by default."""
from __future__ import annotations

from flask import current_app, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from barong.web.console import bp


@bp.before_request
def _require_second_factor():
    if not current_app.config.get("BARONG_CONSOLE_REQUIRE_2FA") or not current_user.is_authenticated:
        return None
    from barong.services.accounts import second_factor
    from barong.web.console.policy import can_enter

    if second_factor.enrolled(current_user) or not can_enter(current_user):
        return None
    flash(_("Operators must turn on two-factor authentication (an authenticator app or a passkey) "
            "before using the console."), "info")
    target = url_for("account.otp_page")
    resp = redirect(target)
    if request.headers.get("HX-Request"):
        resp.headers["HX-Redirect"] = target
    return resp
