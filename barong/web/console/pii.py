"""Console side of issue 17's PII reveals (barong.services.operators.pii): the user page and the
KYC screen show personal data masked for roles without `read PersonalData`; the Reveal form asks
for a reason, writes one admin activity and shows the data for BARONG_PII_REVEAL_TTL seconds."""
from __future__ import annotations

from flask import make_response, render_template, request, url_for
from flask_babel import gettext as _

from barong.errors import BarongError
from barong.services.operators import admin_users, pii
from barong.web.console import bp
from barong.web.console.helpers import actor, console_requires, done, is_htmx, refused


@bp.post("/users/<uid>/reveal")
@console_requires("pii.reveal")
def users_reveal(uid):
    user = admin_users.get(uid)
    reason = request.form.get("reason") or ""
    fields = [f for f in request.form.getlist("fields") if f]  # none ticked: everything
    try:
        pii.reveal(actor(), user.uid, reason, fields or None)
    except BarongError as err:
        if err.status == 422:
            errors = {"fields_error": _("Tick only the listed kinds of data.")} if err.code == "admin.pii.invalid_field" \
                else {"reveal_error": _("Give a reason (at most 255 characters).") if err.code != "admin.pii.missing_reason"
                      else _("Give a reason for revealing this personal data.")}
            page = "console/users/_reveal.html" if is_htmx() else "console/users/reveal.html"
            return make_response(render_template(page, user=user, reason=reason[:300],
                                                 fields=[f for f in fields if f in pii.FIELDS], **errors), 422)
        return refused(err)
    back = request.form.get("next") or ""
    if not back.startswith("/") or back.startswith("//"):
        back = url_for("console.users_show", uid=user.uid)
    resp = done(_("Personal data revealed; the reveal is in the audit log."), None, fallback_url=back)
    if is_htmx():
        resp.headers["HX-Refresh"] = "true"  # the whole page re-renders unmasked (profile, phones, documents)
    return resp
