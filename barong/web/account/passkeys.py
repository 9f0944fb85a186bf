"""Passkeys and security keys on the site: the list (name, added, last used), adding one
(the browser's ceremony in static/webauthn.js, confirmed with the password or a TOTP
code), removing one (asks first, with the password or a code), signing in with one (the
login's second step, or alone with BARONG_WEBAUTHN_PASSWORDLESS), and new recovery codes.
Same services as resource/webauthn and identity/sessions (second_factor, webauthn)."""
from __future__ import annotations

from flask import current_app, flash, jsonify, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from barong.errors import BarongError
from barong.security.crypto import sha256_hex
from barong.services.access.rate_limits import limit
from barong.services.accounts import otp, second_factor, users, webauthn
from barong.services.infra import kv
from barong.services.infra.request_info import RequestInfo
from barong.web.account import bp
from barong.web.account.identity import _finish_login, _pending_login, _start_over
from barong.web.messages import message_for
from barong.web.support import go, render_page, render_whole_page

MESSAGES = {
    "resource.webauthn.missing_confirmation": _l("Enter your password (or a code from your authenticator app)."),
    "resource.webauthn.invalid_confirmation": _l("The password or code is not correct."),
    "resource.webauthn.invalid_name": _l("Give the passkey a name (at most 64 characters)."),
    "resource.webauthn.invalid_credential": _l("The passkey could not be verified. Please try again."),
    "resource.webauthn.credential_taken": _l("This passkey is already registered."),
    "resource.webauthn.limit_reached": _l("You have registered the most passkeys an account can have (10)."),
    "resource.webauthn.not_found": _l("This passkey does not exist."),
    "identity.session.invalid_webauthn": _l("This passkey was not accepted. Use a passkey you registered for "
                                            "this account."),
    "identity.session.webauthn_cloned": _l("This passkey was refused: its signature counter went backwards, so it "
                                           "may have been copied. Use another passkey or a recovery code."),
    "identity.session.passwordless_disabled": _l("Signing in with a passkey alone is not available."),
    "resource.otp.invalid": _l("The code is not correct."),
    "resource.otp.missing_code": _l("Enter a code from your authenticator app, or use your passkey."),
    "resource.otp.not_enabled": _l("Turn on two-factor authentication first."),
}


def _message(err: BarongError) -> str:
    return str(MESSAGES[err.code]) if err.code in MESSAGES else message_for(err.code)


def _page(status: int = 200, **ctx):
    user = current_user
    return render_page("account/passkeys.html", status, user=user, credentials=webauthn.credentials_of(user),
                       limit=webauthn.MAX_CREDENTIALS, **ctx)


@bp.get("/security/passkeys")
@login_required
def passkeys_page():
    return _page()


@bp.post("/security/passkeys/options")
@login_required
@limit("otp")
def passkeys_options():
    return jsonify(publicKey=webauthn.registration_options(current_user))


@bp.post("/security/passkeys")
@login_required
@limit("otp")
def passkeys_add():
    form = request.form
    try:
        _cred, codes = second_factor.enrol_passkey(
            current_user, form.get("credential") or "", form.get("name"), RequestInfo.current(),
            password=form.get("password"), otp_code=form.get("otp_code"))
    except BarongError as err:
        return _page(422, error=_message(err), name=form.get("name", ""))
    flash(_("Your passkey was added. You can use it to sign in."), "success")
    if codes:
        response = render_whole_page("account/otp_recovery_codes.html", codes=codes)
        response.headers["Cache-Control"] = "no-store"
        return response
    return go("account.passkeys_page")


@bp.post("/security/passkeys/<int:credential_id>/remove")
@login_required
@limit("otp")
def passkeys_remove(credential_id):
    """Asks first: without a password or code the answer is the question; with one, the removal."""
    form = request.form
    try:
        cred = webauthn.find(current_user, credential_id)
    except BarongError:
        flash(str(MESSAGES["resource.webauthn.not_found"]), "error")
        return go("account.passkeys_page")
    if form.get("confirm") != "1":
        return render_page("account/passkey_remove.html", cred=cred, user=current_user)
    try:
        second_factor.remove_passkey(current_user, credential_id, RequestInfo.current(),
                                     password=form.get("password"), otp_code=form.get("otp_code"))
    except BarongError as err:
        return render_page("account/passkey_remove.html", 422, cred=cred, user=current_user, error=_message(err))
    flash(_("The passkey “%(name)s” was removed.", name=cred.name), "success")
    return go("account.passkeys_page")


@bp.post("/security/reauth/options")
@login_required
@limit("otp")
def reauth_options():
    """A passkey challenge for confirming an action on the signed-in account (new recovery codes)."""
    return jsonify(publicKey=webauthn.authentication_options("reauth", user=current_user))


@bp.post("/security/2fa/recovery-codes")
@login_required
@limit("otp")
def recovery_codes_regenerate():
    form = request.form
    try:
        codes = second_factor.regenerate_recovery_codes(current_user, RequestInfo.current(),
                                                        otp_code=form.get("code"),
                                                        webauthn_assertion=form.get("webauthn_assertion") or None)
    except BarongError as err:
        flash(_message(err), "error")
        return go("account.otp_page")
    flash(_("New recovery codes are ready. The old ones no longer work."), "success")
    response = render_whole_page("account/otp_recovery_codes.html", codes=codes)
    response.headers["Cache-Control"] = "no-store"
    return response


# ---- signing in --------------------------------------------------------------------------------

def passkey_factors(email: str) -> dict:
    """Which second factors the login's second step offers for `email`."""
    user = users.by_email(email)
    return {"totp": bool(user and user.otp), "passkey": bool(user and webauthn.has_credentials(user))}


@bp.post("/login/passkey/options")
@limit("login")
def login_passkey_options():
    if request.args.get("passwordless") == "1":
        if not current_app.config["BARONG_WEBAUTHN_PASSWORDLESS"]:
            return jsonify(errors=["identity.session.passwordless_disabled"]), 404
        return jsonify(publicKey=webauthn.authentication_options("passwordless"))
    _handle, pending = _pending_login()
    if pending is None:
        return jsonify(errors=["identity.session.missing_email"]), 422
    return jsonify(publicKey=webauthn.authentication_options("login", email=pending["email"]))


@bp.post("/login/passkey")
@limit("login")
def login_passkey():
    """The login's second step with a passkey (or, passwordless=1, the whole login)."""
    from barong.services.accounts import identity

    assertion = request.form.get("webauthn_assertion") or ""
    next_url = request.args.get("next")
    if request.form.get("passwordless") == "1":
        try:
            second_factor.passwordless_login(assertion, RequestInfo.current())
        except BarongError as err:
            flash(_message(err), "error")
            return go("account.login")
        return _finish_login(next_url)
    handle, pending = _pending_login()
    if pending is None:
        return _start_over()
    try:
        identity.login(pending["email"], pending["password"], RequestInfo.current(), webauthn_assertion=assertion)
    except BarongError as err:
        if err.code not in ("identity.session.invalid_webauthn", "identity.session.webauthn_cloned",
                            "identity.session.missing_webauthn", "identity.session.missing_otp"):
            kv.delete(f"web_login:{sha256_hex(handle)}")  # locked, banned…: start over
            flash(message_for(err.code), "error")
            return go("account.login")
        flash(_message(err), "error")
        return go(url_for("account.login_code", next=next_url) if next_url else url_for("account.login_code"))
    kv.delete(f"web_login:{sha256_hex(handle)}")
    return _finish_login(next_url)


def recovery_left(user) -> int | None:
    return otp.recovery_codes_left(user) if second_factor.enrolled(user) else None


@bp.app_context_processor
def _passkey_context():
    def login_factors() -> dict:
        """The pending login's second factors (the login's second step shows the ones the user has)."""
        _handle, pending = _pending_login()
        return passkey_factors(pending["email"]) if pending else {"totp": True, "passkey": False}

    return {"login_factors": login_factors,
            "passkey_count": lambda user: len(webauthn.credentials_of(user)),
            "second_factor_recovery_left": recovery_left,
            "passwordless_enabled": lambda: bool(current_app.config["BARONG_WEBAUTHN_PASSWORDLESS"])}
