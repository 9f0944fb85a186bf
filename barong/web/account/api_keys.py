"""API keys: list, create (2FA code; the secret is shown once), disable/enable, delete."""
from __future__ import annotations

from flask import flash
from flask_babel import gettext as _
from flask_login import current_user, login_required

from barong.errors import BarongError
from barong.services.accounts import api_keys
from barong.services.infra.request_info import RequestInfo
from barong.web import form_nonce
from barong.web.account import bp
from barong.web.forms import ApiKeyCreateForm, TotpForm
from barong.web.messages import apply_error
from barong.web.support import go, is_htmx, render_page_or_partial


def _rows(errors_for: str | None = None, form: TotpForm | None = None) -> list[dict]:
    rows = []
    for key in api_keys.list_for(current_user):
        row_form = form if (form is not None and key.kid == errors_for) else TotpForm(prefix=f"k{key.kid}",
                                                                                        formdata=None)
        rows.append({"key": key, "form": row_form})
    return rows


def _render(status=200, create_form=None, created=None, errors_for=None, row_form=None):
    form = create_form or ApiKeyCreateForm(formdata=None)
    form.algorithm.choices = [(a, a) for a in api_keys.ALGORITHMS]
    return render_page_or_partial("account/api_keys.html", "account/_api_keys.html", status,
                                  rows=_rows(errors_for, row_form), form=form, created=created,
                                  otp_on=current_user.otp)


@bp.get("/api-keys")
@login_required
def api_keys_page():
    return _render()


@bp.post("/api-keys")
@login_required
def api_keys_create():
    form = ApiKeyCreateForm()
    form.algorithm.choices = [(a, a) for a in api_keys.ALGORITHMS]
    if form.validate_on_submit():
        try:
            form_nonce.consume_for(form)
            key, secret = api_keys.create(current_user, form.algorithm.data, form.scope.data or None,
                                          otp_code=form.totp_code.data.strip(), info=RequestInfo.current(),
                                          allowed_ips=form.allowed_ips.data or None,
                                          expires_at=form.expires_at.data or None)
        except BarongError as err:
            apply_error(form, err, default_field="totp_code")
        else:
            # The one time the secret is shown: rendered into this response only, never stored for later.
            response = _render(created={"key": key, "secret": secret})
            response.headers["Cache-Control"] = "no-store"
            return response
    return _render(422, create_form=form)


def _change(kid: str, action: str):
    form = TotpForm(prefix=f"k{kid}")
    if form.validate_on_submit():
        try:
            api_keys.check_otp(current_user, form.totp_code.data.strip())  # the gate comes before the lookup
            key = api_keys.find_for(current_user, kid)
            if action == "delete":
                api_keys.delete(key)
                message = _("The API key was deleted.")
            else:
                api_keys.update(key, state="inactive" if action == "disable" else "active")
                message = _("The API key was disabled.") if action == "disable" else _("The API key is active again.")
        except BarongError as err:
            if err.status == 404:
                raise
            apply_error(form, err, default_field="totp_code")
        else:
            flash(message, "success")
            return _render() if is_htmx() else go("account.api_keys_page")
    return _render(422, errors_for=kid, row_form=form)


@bp.post("/api-keys/<kid>/disable")
@login_required
def api_keys_disable(kid):
    return _change(kid, "disable")


@bp.post("/api-keys/<kid>/enable")
@login_required
def api_keys_enable(kid):
    return _change(kid, "enable")


@bp.post("/api-keys/<kid>/delete")
@login_required
def api_keys_delete(kid):
    return _change(kid, "delete")
