"""KYC review queue: oldest applicant first, one screen per applicant (profile and
documents side by side), approve / reject in one click, keyboard shortcuts.

Opening an applicant claims it (barong.services.verification.kyc_review.claim); a second reviewer
sees it read-only, and a decision by anyone but the holder is refused (409)."""
from __future__ import annotations

from flask import flash, make_response, redirect, render_template, request, url_for

from barong.errors import BarongError
from barong.extensions import db
from barong.models import Label, User
from barong.services.operators import admin_users
from barong.services.verification import kyc_review
from barong.web.console import bp, policy
from barong.web.console.helpers import (
    Page,
    actor,
    console_requires,
    field_errors,
    int_arg,
    invalid,
    is_htmx,
    refused,
    render_page_or_partial,
)


def _holder(applicant: User) -> User | None:
    return admin_users.get(applicant.review_claimed_by) if applicant.review_claimed_by else None


def _waiting_since(users: list[User]) -> dict[int, object]:
    if not users:
        return {}
    rows = (db.session.query(Label.user_id, Label.updated_at)
            .filter(Label.user_id.in_([u.id for u in users]), Label.key == "document", Label.scope == "private"))
    return dict(rows.all())


@bp.get("/kyc")
@console_requires("kyc.read")
def kyc_index():
    page_no, limit = int_arg(request.args, "page", 1, 1, 10**6), int_arg(request.args, "limit", 25, 1, 100)
    items, total = kyc_review.queue({}, page=page_no, limit=limit)
    page = Page(items, total, page_no, limit, {})
    return render_page_or_partial("console/kyc/index.html", "console/kyc/_queue.html", page=page,
                                  since=_waiting_since(items), me=actor(), active="kyc",
                                  claimed_by_other=lambda u: kyc_review.claimed_by_other(u, actor()))


@bp.get("/kyc/next")
@console_requires("kyc.read")
def kyc_next():
    """The next applicant nobody else holds (j / n); releases the one we skip."""
    me = actor()
    after = admin_users.get(request.args["after"]) if request.args.get("after") else None
    if after is not None:
        kyc_review.release(after, me)
    applicant = kyc_review.next_pending(after=after, reviewer=me)
    if applicant is None:
        flash("The queue is empty: nothing left to review.", "success")
        return redirect(url_for("console.kyc_index"))
    return redirect(url_for("console.kyc_show", uid=applicant.uid))


@bp.get("/kyc/<uid>")
@console_requires("kyc.read")
def kyc_show(uid):
    applicant = admin_users.get(uid, full=True)
    me = actor()
    held_by = None
    pending = kyc_review.is_pending(applicant)
    if pending:
        if policy.can(me, "kyc.decide"):  # only a reviewer who may decide holds the applicant
            try:
                kyc_review.claim(applicant, me)
            except BarongError:
                held_by = _holder(applicant)
        elif kyc_review.claimed_by_other(applicant, me):
            held_by = _holder(applicant)
    return render_template("console/kyc/review.html", user=applicant, pending=pending, held_by=held_by,
                           active="kyc", errors=None, reason="")


@bp.post("/kyc/<uid>/decide")
@console_requires("kyc.read", "kyc.decide")
def kyc_decide(uid):
    applicant = admin_users.get(uid, full=True)
    me = actor()
    decision = request.form.get("decision", "")
    reason = request.form.get("reason", "")
    try:
        kyc_review.decide(applicant, me, decision, reason)
    except BarongError as err:
        if err.field == "reason":
            db.session.rollback()
            applicant = admin_users.get(uid, full=True)
            return invalid("console/kyc/_decision.html", user=applicant, pending=True, held_by=None,
                           errors=field_errors(err, ("reason",)), reason=reason)
        return refused(err)
    verdict = "approved" if decision == "approve" else "rejected"
    flash(f"{applicant.email}: documents {verdict}.", "success")
    target = url_for("console.kyc_next", after=applicant.uid) if request.form.get("then") != "stay" \
        else url_for("console.kyc_show", uid=applicant.uid)
    if is_htmx():
        resp = make_response("", 200)
        resp.headers["HX-Redirect"] = target
        return resp
    return redirect(target)


@bp.post("/kyc/<uid>/release")
@console_requires("kyc.read")
def kyc_release(uid):
    applicant = admin_users.get(uid)
    kyc_review.release(applicant, actor())
    return redirect(url_for("console.kyc_index"))
