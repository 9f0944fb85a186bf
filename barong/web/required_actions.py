"""The site's side of required actions (barong.services.accounts.required_actions): a signed-in user
whom an operator made change the password or enrol 2FA is led to that page before any
other page of the site or the console; the pages that do it, sign-out and the public
pages stay reachable. The API's side is barong.authz (403 authz.required_action.*)."""
from __future__ import annotations

from flask import Flask, flash, redirect, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from barong import flaskctx

#: where each action is done, and the endpoints that belong to doing it
PAGES = {
    "change_password": ("account.password_change", {"account.password_change", "account.password_strength_hint"}),
    "enable_2fa": ("account.otp_page", {"account.otp_page", "account.otp_setup", "account.otp_enable",
                                        "account.passkeys_page", "account.passkeys_options", "account.passkeys_add"}),
}
#: reachable whatever is pending (signing out, the language switch, public and login pages)
OPEN = {"static", "account.logout", "home.set_language", "account.login", "account.login_submit",
        "account.login_code", "account.login_code_submit", "account.login_passkey_options", "account.login_passkey", "account.password_reset",
        "account.password_reset_submit", "account.password_forgot", "account.password_forgot_submit",
        "account.confirmation", "account.confirmation_submit", "account.check_email",
        "account.confirmation_resend", "account.confirmation_resend_submit", "jwks_well_known"}
MESSAGES = {
    "change_password": _l("An administrator asks you to change your password before you continue."),
    "enable_2fa": _l("An administrator asks you to turn on two-factor authentication before you continue."),
}


def lead_to_required_action():
    req = flaskctx.request()  # every request passes here: no LocalProxy
    endpoint = req.endpoint
    if endpoint is None or endpoint in OPEN or req.path.startswith("/api/"):
        return None
    if not current_user.is_authenticated:
        return None
    from barong.services.accounts import required_actions

    pending = required_actions.pending(current_user.uid)
    if not pending:
        return None
    if any(endpoint in PAGES[a][1] for a in pending):
        return None
    action = pending[0]
    flash(str(MESSAGES[action]), "info")
    if request.headers.get("HX-Request"):
        resp = redirect(url_for(PAGES[action][0]))
        resp.headers["HX-Redirect"] = url_for(PAGES[action][0])
        return resp
    return redirect(url_for(PAGES[action][0]))


def init_app(app: Flask) -> None:
    app.before_request(lead_to_required_action)
