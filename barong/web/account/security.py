"""Security pages: two-factor authentication, password change, sessions, activity."""
from __future__ import annotations

import base64
import math

from flask import abort, flash, g, request
from flask_babel import gettext as _
from flask_login import current_user, login_required

from barong.errors import BarongError
from barong.security.crypto import sha256_hex
from barong.services.access.rate_limits import limit
from barong.services.accounts import account, otp, sessions
from barong.services.infra.request_info import RequestInfo
from barong.web.account import bp
from barong.web.forms import ActionForm, ChangePasswordForm, CodeForm
from barong.web.messages import apply_error, message_for
from barong.web.support import (
    go,
    is_htmx,
    render_page,
    render_page_or_partial,
    render_whole_page,
)

ACTIVITY_PER_PAGE = 20


# ---- two-factor authentication ----------------------------------------------------------------

def _qr_context(user, secret: str, url: str | None = None, png: bytes | None = None) -> dict:
    url = url or otp.otpauth_url(user, secret)
    png = png or otp.qr_png(url)
    grouped = " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))
    return {"secret": secret, "secret_grouped": grouped, "otpauth_url": url,
            "qr_data_url": "data:image/png;base64," + base64.b64encode(png).decode()}


@bp.get("/security/2fa")
@login_required
def otp_page():
    return render_page("account/otp.html", user=current_user, form=CodeForm(), setup_form=ActionForm(),
                       recovery_left=otp.recovery_codes_left(current_user) if current_user.otp else None)


@bp.post("/security/2fa/setup")
@login_required
@limit("otp")
def otp_setup():
    """(Re)create the TOTP secret and show it as a QR code and as text."""
    try:
        secret, url, png = otp.generate_secret(current_user, RequestInfo.current())
    except BarongError as err:
        flash(message_for(err.code), "error")
        return go("account.otp_page")
    return render_page("account/otp_setup.html", form=CodeForm(), **_qr_context(current_user, secret, url, png))


@bp.post("/security/2fa/enable")
@login_required
@limit("otp")
def otp_enable():
    form = CodeForm()
    if current_user.otp:
        flash(message_for("resource.otp.already_enabled"), "info")
        return go("account.otp_page")
    secret = otp.secret_for(current_user)
    if not secret:  # no QR code generated yet
        return go("account.otp_page")
    if form.validate_on_submit():
        try:
            codes = otp.enable(current_user, form.code.data.strip(), RequestInfo.current())
        except BarongError as err:
            apply_error(form, err, default_field="code")
        else:
            flash(_("Two-factor authentication is on."), "success")
            response = render_whole_page("account/otp_recovery_codes.html", codes=codes)
            response.headers["Cache-Control"] = "no-store"
            return response
    return render_page_or_partial("account/otp_setup.html", "account/_otp_enable_form.html", 422, form=form,
                                  **_qr_context(current_user, secret))


@bp.post("/security/2fa/disable")
@login_required
@limit("otp")
def otp_disable():
    form = CodeForm()
    if form.validate_on_submit():
        try:
            otp.disable(current_user, form.code.data.strip(), RequestInfo.current())
        except BarongError as err:
            apply_error(form, err, default_field="code")
        else:
            flash(_("Two-factor authentication is off. Your API keys were disabled."), "success")
            return go("account.otp_page")
    return render_page_or_partial("account/otp.html", "account/_otp_disable_form.html", 422, user=current_user,
                                  form=form, setup_form=ActionForm(),
                                  recovery_left=otp.recovery_codes_left(current_user) if current_user.otp
                                  else None)


# ---- password ---------------------------------------------------------------------------------

@bp.route("/security/password", methods=["GET", "POST"])
@login_required
def password_change():
    form = ChangePasswordForm()
    if request.method == "GET":
        return render_page("account/password_change.html", form=form)
    if form.validate_on_submit():
        info = RequestInfo.current()
        try:
            account.change_password(current_user, form.old_password.data, form.new_password.data,
                                    form.confirm_password.data, info, keep_session_id=info.session_id)
        except BarongError as err:
            apply_error(form, err, default_field="new_password")
        else:
            flash(_("Your password was changed. Your other sessions were signed out."), "success")
            return go("account.password_change")
    return render_page_or_partial("account/password_change.html", "account/_password_change_form.html", 422,
                                  form=form)


# ---- sessions ---------------------------------------------------------------------------------

def public_id(s) -> str:
    """What the page calls a session: a hash of the store id (never the cookie or the id itself)."""
    return sha256_hex(s.id)[:20]


def _own_sessions():
    sessions.from_cookie()
    current = g.get("barong_session_id")
    rows = sessions.list_for_user(current_user.uid)
    rows.sort(key=lambda s: (s.id != current, -s.last_seen_at))
    return [{"data": s, "public_id": public_id(s), "current": s.id == current} for s in rows]


@bp.get("/sessions")
@login_required
def sessions_page():
    return render_page_or_partial("account/sessions.html", "account/_sessions_table.html",
                                  rows=_own_sessions(), form=ActionForm())


@bp.post("/sessions/<sid>/revoke")
@login_required
def sessions_revoke(sid):
    form = ActionForm()
    if not form.validate_on_submit():
        abort(400)
    row = next((r for r in _own_sessions() if r["public_id"] == sid), None)
    if row is None:  # another user's session, or gone already
        abort(404)
    if row["current"]:
        flash(_("To end this session, sign out."), "info")
    else:
        sessions.destroy(row["data"])
        flash(_("The session was signed out."), "success")
    if not is_htmx():
        return go("account.sessions_page")
    return render_page_or_partial("account/sessions.html", "account/_sessions_table.html",
                                  rows=_own_sessions(), form=ActionForm())


@bp.post("/sessions/revoke-others")
@login_required
def sessions_revoke_others():
    form = ActionForm()
    if not form.validate_on_submit():
        abort(400)
    sessions.from_cookie()
    count = sessions.invalidate_all(current_user.uid, keep=g.get("barong_session_id"))
    flash(_("Signed out %(count)d other session(s).", count=count), "success")
    if not is_htmx():
        return go("account.sessions_page")
    return render_page_or_partial("account/sessions.html", "account/_sessions_table.html",
                                  rows=_own_sessions(), form=ActionForm())


# ---- activity ---------------------------------------------------------------------------------

@bp.get("/activity")
@login_required
def activity():
    topic = request.args.get("topic", "all")
    if topic not in account.TOPICS:
        topic = "all"
    try:
        page = max(1, int(request.args.get("page", 1)))
    except ValueError:
        page = 1
    try:
        query = account.activity(current_user, topic)
        total = query.count()
        rows = query.offset((page - 1) * ACTIVITY_PER_PAGE).limit(ACTIVITY_PER_PAGE).all()
    except BarongError:  # resource.user.no_activity
        total, rows = 0, []
    pages = max(1, math.ceil(total / ACTIVITY_PER_PAGE))
    return render_page_or_partial("account/activity.html", "account/_activity_table.html", rows=rows,
                                  topic=topic, topics=account.TOPICS, page=page, pages=pages, total=total)
