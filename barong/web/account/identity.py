"""Before sign-in: sign up, check-your-email, confirm, resend, log in (+ 2FA step),
log out, forgot/reset password, and the live password-strength hint."""
from __future__ import annotations

import json
import secrets
import time

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from barong.errors import BarongError
from barong.security import password_strength
from barong.security.crypto import decrypt, encrypt, sha256_hex
from barong.services.access import captcha
from barong.services.access.rate_limits import limit
from barong.services.accounts import identity, sessions, users
from barong.services.infra import kv
from barong.services.infra.request_info import RequestInfo
from barong.web.account import bp
from barong.web.forms import (
    EmailForm,
    LoginCodeForm,
    LoginForm,
    ResetPasswordForm,
    SignupForm,
    TokenForm,
)
from barong.web.messages import apply_error, message_for
from barong.web.support import go, render_page, render_page_or_partial, safe_next

#: seconds a half-done login (password accepted, 2FA code pending) is remembered
PENDING_LOGIN_TTL = 300
PENDING_COOKIE = "barong_login_step"


def _captcha_response():
    return request.form.get("g-recaptcha-response") or request.form.get("captcha_response")


def _home():
    return url_for("account.home")


# ---- sign up ----------------------------------------------------------------------------------

# Pages are GET views; their forms post to the same URL, a separate POST view that carries
# the rate limit (so looking at a page never uses up the attempts).

@bp.get("/signup")
def signup():
    if current_user.is_authenticated:
        return redirect(_home())
    form = SignupForm()
    form.refid.data = request.args.get("refid", "")
    return render_page("account/signup.html", form=form)


@bp.post("/signup")
@limit("signup")
def signup_submit():
    form = SignupForm()
    if form.validate_on_submit():
        try:
            captcha.check("user_create", _captcha_response(), scope="identity.user")
            user, _session = identity.signup(
                form.email.data.strip(), form.password.data, RequestInfo.current(),
                refid=(form.refid.data or "").strip() or None,
                data=json.dumps({"language": str(get_locale() or "en")}))
        except BarongError as err:
            apply_error(form, err, default_field="email")
        else:
            if user.state == "active":
                flash(_("Welcome! Your account is ready."), "success")
                return go("account.home")
            return go("account.check_email")
    return render_page_or_partial("account/signup.html", "account/_signup_form.html", 422, form=form)


@bp.post("/password/strength")
def password_strength_hint():
    """Live feedback while typing: the entropy of `identity/password/validate` and the
    same verdict the sign-up will give."""
    password = request.form.get("password") or request.form.get("new_password") or ""
    cfg = current_app.config
    if not password:
        return render_template("account/_password_strength.html", password="", entropy=0, verdict=None,
                               minimum=cfg["BARONG_PASSWORD_MIN_ENTROPY"])
    entropy = password_strength.entropy(password[:password_strength.PASSWORD_LIMIT],
                                        use_dictionary=cfg["BARONG_PASSWORD_USE_DICTIONARY"])
    errors = users.password_errors(password)
    return render_template("account/_password_strength.html", password=password, entropy=entropy,
                           verdict=errors[0] if errors else None, minimum=cfg["BARONG_PASSWORD_MIN_ENTROPY"])


@bp.get("/confirmation/sent")
def check_email():
    email = current_user.email if current_user.is_authenticated else request.args.get("email", "")
    return render_page("account/check_email.html", email=email, form=EmailForm(email=email))


# ---- email confirmation -----------------------------------------------------------------------

@bp.get("/confirmation")
def confirmation():
    """The mail link (`?token=…&lang=…`) opens a page with one button; the POST confirms.
    (A GET never changes state, so mail scanners following links can't use the token.)"""
    form = TokenForm()
    form.token.data = request.args.get("token") or request.args.get("confirmation_token") or ""
    return render_page("account/confirmation.html", form=form)


@bp.post("/confirmation")
@limit("email")
def confirmation_submit():
    form = TokenForm()
    if form.validate_on_submit():
        previous = sessions.from_cookie()
        try:
            user, _session = identity.confirm_email(form.token.data.strip(), RequestInfo.current())
        except BarongError as err:
            apply_error(form, err)
        else:
            if previous is not None and previous.uid == user.uid:
                sessions.destroy(previous)  # the sign-up session is replaced by the confirmed one
            flash(_("Thank you! Your email is confirmed."), "success")
            return go("account.home")
    else:
        form.form_errors.append(_("This link is invalid or has expired. Request a new one."))
    return render_page_or_partial("account/confirmation.html", "account/_confirmation_form.html", 422, form=form)


@bp.get("/confirmation/resend")
def confirmation_resend():
    form = EmailForm()
    form.email.data = request.args.get("email") or (current_user.email if current_user.is_authenticated else "")
    return render_page("account/resend.html", form=form)


@bp.post("/confirmation/resend")
@limit("email", per_account=True)
def confirmation_resend_submit():
    form = EmailForm()
    if form.validate_on_submit():
        try:
            captcha.check("email_confirmation", _captcha_response(), scope="identity.user")
            identity.resend_confirmation(form.email.data.strip())
        except BarongError as err:
            apply_error(form, err, default_field="email")
        else:
            flash(_("If this email belongs to an unconfirmed account, we sent a new link to it."), "success")
            return go(url_for("account.check_email", email=form.email.data.strip()))
    return render_page_or_partial("account/resend.html", "account/_resend_form.html", 422, form=form)


# ---- log in -----------------------------------------------------------------------------------

def _remember_pending_login(email: str, password: str) -> str:
    """Keep the accepted email/password server-side (encrypted, 5 minutes) while the
    2FA code is asked for; the browser only holds a random handle."""
    handle = secrets.token_urlsafe(24)
    kv.set(f"web_login:{sha256_hex(handle)}",
           encrypt(json.dumps({"email": email, "password": password, "at": int(time.time())})), PENDING_LOGIN_TTL)
    return handle


def _pending_login() -> tuple[str, dict] | tuple[None, None]:
    handle = request.cookies.get(PENDING_COOKIE)
    if not handle:
        return None, None
    raw = kv.get(f"web_login:{sha256_hex(handle)}")
    if not raw:
        return None, None
    try:
        return handle, json.loads(decrypt(raw))
    except (ValueError, TypeError):
        return None, None


def _finish_login(next_url: str | None):
    flash(_("You are signed in."), "success")
    response = go(safe_next(next_url, _home()))
    response.delete_cookie(PENDING_COOKIE, path=url_for("account.login"))
    return response


@bp.get("/login")
def login():
    if current_user.is_authenticated:
        return redirect(safe_next(request.args.get("next"), _home()))
    form = LoginForm()
    form.next.data = request.args.get("next", "")
    return render_page("account/login.html", form=form)


@bp.post("/login")
@limit("login")
def login_submit():
    form = LoginForm()
    if form.validate_on_submit():
        email, password = form.email.data.strip(), form.password.data
        try:
            captcha.check("session_create", _captcha_response(), scope="identity.session")
            identity.check_login_captcha(RequestInfo.current().ip, _captcha_response())
            identity.login(email, password, RequestInfo.current())
        except BarongError as err:
            if err.code in ("identity.session.missing_otp", "identity.session.missing_webauthn"):  # 2nd step
                handle = _remember_pending_login(email, password)
                response = go(url_for("account.login_code", next=form.next.data or None))
                response.set_cookie(PENDING_COOKIE, handle, max_age=PENDING_LOGIN_TTL, httponly=True,
                                    samesite="Lax", path=url_for("account.login"),
                                    secure=current_app.config["BARONG_DOMAIN"].startswith("https://"))
                return response
            apply_error(form, err)
        else:
            return _finish_login(form.next.data)
    form.password.data = ""
    return render_page_or_partial("account/login.html", "account/_login_form.html", 422, form=form)


def _start_over():
    flash(_("Please sign in again."), "info")
    return go("account.login")


@bp.get("/login/code")
def login_code():
    """Second step for accounts with 2FA: a TOTP code or one of the recovery codes."""
    if _pending_login()[1] is None:
        return _start_over()
    return render_page("account/login_code.html", form=LoginCodeForm(), next=request.args.get("next"))


@bp.post("/login/code")
@limit("login")
def login_code_submit():
    handle, pending = _pending_login()
    if pending is None:
        return _start_over()
    form = LoginCodeForm()
    next_url = request.args.get("next")
    if form.validate_on_submit():
        try:
            identity.login(pending["email"], pending["password"], RequestInfo.current(),
                           otp_code=form.code.data.strip())
        except BarongError as err:
            if err.code not in ("identity.session.invalid_otp", "identity.session.missing_otp",
                                "identity.session.missing_webauthn"):
                kv.delete(f"web_login:{sha256_hex(handle)}")  # locked, banned…: start over
                flash(message_for(err.code), "error")
                return go("account.login")
            apply_error(form, err, default_field="code")
        else:
            kv.delete(f"web_login:{sha256_hex(handle)}")
            return _finish_login(next_url)
    return render_page_or_partial("account/login_code.html", "account/_login_code_form.html", 422, form=form,
                                  next=next_url)


@bp.post("/logout")
def logout():
    s = sessions.from_cookie()  # CSRFProtect has already checked the form's token
    if s is not None:
        try:
            identity.logout(s, RequestInfo.current(), csrf_checked=True)
        except BarongError:
            pass
    flash(_("You are signed out."), "info")
    return go("account.login")


# ---- forgot / reset password ------------------------------------------------------------------

@bp.get("/password/forgot")
def password_forgot():
    return render_page("account/password_forgot.html", form=EmailForm(), sent=False)


@bp.post("/password/forgot")
@limit("reset", per_account=True)
def password_forgot_submit():
    form = EmailForm()
    if form.validate_on_submit():
        try:
            captcha.check("password_reset", _captcha_response(), scope="identity.user")
            identity.request_password_reset(form.email.data.strip(), RequestInfo.current())
        except BarongError as err:
            apply_error(form, err, default_field="email")
        else:
            return render_page_or_partial("account/password_forgot.html", "account/_password_forgot_form.html",
                                          200, form=form, sent=True)
    return render_page_or_partial("account/password_forgot.html", "account/_password_forgot_form.html", 422,
                                  form=form, sent=False)


@bp.get("/password_reset")
def password_reset():
    """The mail link (`?token=…&lang=…`): choose a new password."""
    token = request.args.get("token") or request.args.get("reset_token") or ""
    if not token:
        abort(404)
    form = ResetPasswordForm()
    form.token.data = token
    return render_page("account/password_reset.html", form=form)


@bp.post("/password_reset")
@limit("reset")
def password_reset_submit():
    form = ResetPasswordForm()
    if form.validate_on_submit():
        try:
            identity.reset_password(form.token.data.strip(), form.password.data, form.confirm_password.data,
                                    RequestInfo.current())
        except BarongError as err:
            apply_error(form, err, default_field="password")
        else:
            flash(_("Your password was changed. Sign in with the new one."), "success")
            return go("account.login")
    return render_page_or_partial("account/password_reset.html", "account/_password_reset_form.html", 422,
                                  form=form)
