"""Approvals: the four-eyes requests waiting for a second operator, approve / reject
(barong.services.operators.four_eyes — the admin API's functions), and the notice shown
when a console action is held."""
from __future__ import annotations

from flask import flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _

from barong.errors import BarongError
from barong.web.console import bp
from barong.web.console.helpers import actor, console_requires, done, is_htmx, refused, toast
from barong.services.operators import four_eyes


def held_response(req):
    message = _("Sent for approval: another operator must approve it (request #%(id)s).", id=req.id)
    if is_htmx():
        resp = make_response("", 200)
        resp.headers["HX-Reswap"] = "none"
        return toast(resp, message, "success")
    flash(message, "success")
    return redirect(request.referrer or url_for("console.approvals_index"))


@bp.get("/approvals")
@console_requires("approvals.read")
def approvals_index():
    return render_template("console/approvals.html", waiting=four_eyes.pending(), recent=four_eyes.recent(),
                           describe=four_eyes.describe, me=actor(), active="approvals")


def _decide(fn, request_id: int, message: str):
    try:
        fn(request_id, actor(), request.form.get("note"))
    except BarongError as err:
        return refused(err)
    return done(message, None, url_for("console.approvals_index"))


@bp.post("/approvals/<int:request_id>/approve")
@console_requires("approvals.read")
def approvals_approve(request_id):
    return _decide(four_eyes.approve, request_id, _("Request #%(id)s approved.", id=request_id))


@bp.post("/approvals/<int:request_id>/reject")
@console_requires("approvals.read")
def approvals_reject(request_id):
    return _decide(four_eyes.reject, request_id, _("Request #%(id)s rejected.", id=request_id))
