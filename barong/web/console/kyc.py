"""KYC review: the queue (filters, SLA badge, applicant names) and the review screen (identity
documents beside the selfie and the profile, zoom/rotate, PDFs inline, flags, history,
one decision form per document).

Opening an applicant claims it (barong.services.verification.kyc_review.claim); a second reviewer
sees it read-only, and a decision by anyone but the holder is refused (409). Decisions are
deliberate: the `a` / `r` keys only open a document's decision form (static/kyc_review.js);
the outcome is chosen explicitly and confirmed with Enter or the button."""
from __future__ import annotations

from flask import current_app, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _

from barong.errors import BarongError
from barong.extensions import db
from barong.models import Document, DocumentDecision, User, utcnow
from barong.services.operators import admin_users
from barong.services.verification import document_review, kyc_reasons, kyc_review, kyc_screen
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
    toast,
)

#: the queue filters the page offers (and passes on to `j` / next)
QUEUE_ARGS = ("doc_type", "country", "level", "waiting_hours", "reviewer", "q")
WAITING_CHOICES = (("", None), ("4", 4), ("24", 24), ("72", 72), ("168", 168))


def _holder(applicant: User) -> User | None:
    return admin_users.get(applicant.review_claimed_by) if applicant.review_claimed_by else None


def queue_filters(args) -> dict:
    """The queue filters from the query string (blank ones dropped)."""
    return {k: args.get(k, "").strip() for k in QUEUE_ARGS if (args.get(k) or "").strip()}


def _names(users: list[User]) -> dict[int, str]:
    """Applicant names of the page shown (profiles are encrypted at rest: only these are decrypted)."""
    out = {}
    for u in users:
        p = kyc_screen.latest_profile(u)
        if p is not None:
            name = " ".join(x for x in (p.first_name, p.last_name) if x)
            if name:
                out[u.id] = name
    return out


def _reviewers(me: User, current: str | None) -> list[tuple[str, str]]:
    """The reviewer filter's choices: me, and the uid being filtered on (a full list of claim
    holders would scan `users`: `review_claimed_by` has no index)."""
    choices = [(me.uid, _("Me (%(email)s)", email=me.email))]
    if current and current.lower() != "none" and current.upper() != me.uid:
        choices.append((current.upper(), current.upper()))
    return choices


def _doc_types() -> list[str]:
    from barong.settings import settings

    return list(settings().document_types or [])


@bp.get("/kyc")
@console_requires("kyc.read")
def kyc_index():
    page_no, limit = int_arg(request.args, "page", 1, 1, 10**6), int_arg(request.args, "limit", 25, 1, 100)
    filters = queue_filters(request.args)
    errors = None
    try:
        rows, total = kyc_review.queue(filters, page=page_no, limit=limit, preload=("profiles", "documents"))
    except BarongError as err:
        errors = err.codes
        rows, total = [], 0
    users = [u for u, _ in rows]
    since = {u.id: s for u, s in rows}
    page = Page(users, total, page_no, limit, filters)
    now = utcnow()
    return render_page_or_partial(
        "console/kyc/index.html", "console/kyc/_queue.html", page=page, since=since, names=_names(users),
        sla={u.id: kyc_review.sla_status(since[u.id], now) for u in users}, filters=filters, errors=errors,
        sla_hours=current_app.config["BARONG_KYC_SLA_HOURS"], now=now, me=actor(), active="kyc",
        doc_types=_doc_types(), reviewers=_reviewers(actor(), filters.get("reviewer")), waiting_choices=WAITING_CHOICES,
        claimed_by_other=lambda u: kyc_review.claimed_by_other(u, actor()))


@bp.get("/kyc/next")
@console_requires("kyc.read")
def kyc_next():
    """The next applicant nobody else holds (j / n), in the filtered queue; releases the one we skip."""
    me = actor()
    after = admin_users.get(request.args["after"]) if request.args.get("after") else None
    if after is not None:
        kyc_review.release(after, me)
    filters = queue_filters(request.args)
    try:
        applicant = kyc_review.next_pending(after=after, reviewer=me, params=filters)
    except BarongError:
        applicant = kyc_review.next_pending(after=after, reviewer=me)
    if applicant is None:
        flash(_("The queue is empty: nothing left to review."), "success")
        return redirect(url_for("console.kyc_index", **filters))
    return redirect(url_for("console.kyc_show", uid=applicant.uid, **filters))


def _review_context(applicant: User, me: User, **extra) -> dict:
    identity, address, older = kyc_screen.grouped_documents(applicant)
    held_by = extra.pop("held_by", None)
    pending = kyc_review.is_pending(applicant)
    reasons = kyc_reasons.all()
    ctx = dict(user=applicant, pending=pending, held_by=held_by, active="kyc", identity=identity, address=address,
               older=older, profile=kyc_screen.latest_profile(applicant), flags=kyc_screen.flags(applicant),
               history=kyc_screen.history(applicant), reasons=reasons, reason_kind=kyc_reasons.document_kind,
               side_of=kyc_screen.side_of, filters=queue_filters(request.args), errors={}, form={},
               can_decide=policy.can(me, "kyc.decide_document"), today=utcnow().date(),
               reason_text=lambda code: kyc_reasons.text(code, _lang()))
    ctx.update(extra)
    return ctx


def _decided_context(applicant: User, doc: Document, me: User, **extra) -> dict:
    """What `_decided.html` needs: one document's card, the notice, the status, the decision's
    history row — no flags, no history query, no other document (what makes the answer cheap)."""
    ctx = dict(user=applicant, d=doc, pending=kyc_review.is_pending(applicant), held_by=None,
               can_decide=policy.can(me, "kyc.decide_document"), reasons=kyc_reasons.all(),
               reason_kind=kyc_reasons.document_kind, side_of=kyc_screen.side_of,
               filters=queue_filters(request.form), errors={}, form={}, today=utcnow().date(),
               reason_text=lambda code: kyc_reasons.text(code, _lang()), item=None)
    ctx.update(extra)
    return ctx


def _lang() -> str:
    from flask_babel import get_locale

    return str(get_locale() or "en")[:2]


@bp.get("/kyc/<uid>")
@console_requires("kyc.read")
def kyc_show(uid):
    applicant = admin_users.get(uid, full=True)
    me = actor()
    held_by = None
    if kyc_review.is_pending(applicant):
        if policy.can(me, "kyc.decide_document"):  # only a reviewer who may decide holds the applicant
            try:
                kyc_review.claim(applicant, me)
            except BarongError:
                held_by = _holder(applicant)
        elif kyc_review.claimed_by_other(applicant, me):
            held_by = _holder(applicant)
    return render_template("console/kyc/review.html", **_review_context(applicant, me, held_by=held_by))


#: service codes shown on a decision form's fields
DECISION_FIELDS = {"kyc.reason.missing": "reason", "kyc.reason.unknown": "reason", "kyc.reason.wrong_kind": "reason",
                   "kyc.reason.not_applicable": "reason", "admin.kyc.invalid_decision": "outcome",
                   "kyc.note.too_long": "note", "kyc.internal_note.too_long": "internal_note"}


@bp.post("/kyc/<uid>/documents/<int:document_id>/decide")
@console_requires("kyc.read", "kyc.decide_document")
def kyc_decide_document(uid, document_id):
    """One document's decision (document_review.decide_document): outcome approve / reject /
    retry, a catalogue reason, a note to the user and an internal note. Over htmx it answers only
    what the decision changed (_decided.html: the document's card, and out of band the notice,
    the applicant's status and the new history row; a refused form: the card with its errors),
    or HX-Redirect to the next applicant when nothing of this one waits any more; without htmx it
    redirects back to the screen."""
    applicant = admin_users.get(uid)  # the answer needs no profile, data or comment: loaded lazily if at all
    me = actor()
    doc = db.session.get(Document, document_id)
    if doc is None or doc.user_id != applicant.id:
        return refused(BarongError("record.not_found", 404))
    form = {k: request.form.get(k, "") for k in ("outcome", "reason", "note", "internal_note")}
    try:
        document_review.decide_document(doc, me, form["outcome"], form["reason"] or None, form["note"] or None,
                                        form["internal_note"] or None)
    except BarongError as err:
        fields = {DECISION_FIELDS[c]: [c] for c in err.codes if c in DECISION_FIELDS}
        if fields:
            db.session.rollback()
            applicant = admin_users.get(uid, full=not is_htmx())
            if is_htmx():
                doc = db.session.get(Document, document_id)
                ctx = _decided_context(applicant, doc, me, errors={document_id: fields}, form={document_id: form})
                resp = make_response(render_template("console/kyc/_document.html", **ctx), 422)
                return toast(resp, _("Please correct the highlighted fields."), "error")
            ctx = _review_context(applicant, me, errors={document_id: fields}, form={document_id: form})
            return make_response(render_template("console/kyc/review.html", **ctx), 422)
        return refused(err)
    db.session.flush()
    verdict = {"approve": _("approved"), "reject": _("rejected"), "retry": _("sent back for a new upload")}
    message = _("%(doc)s %(verdict)s.", doc=doc.doc_type, verdict=verdict.get(form["outcome"], form["outcome"]))
    done_applicant = not kyc_review.is_pending(applicant)
    filters = queue_filters(request.form)
    if done_applicant and request.form.get("then") != "stay":
        target = url_for("console.kyc_next", after=applicant.uid, **filters)
        if is_htmx():
            resp = make_response("", 200)
            resp.headers["HX-Redirect"] = target
            flash(message, "success")
            return resp
        flash(message, "success")
        return redirect(target)
    if is_htmx():
        decision = (db.session.query(DocumentDecision).filter_by(document_id=doc.id)
                    .order_by(DocumentDecision.id.desc()).first())
        item = kyc_screen.decision_item(decision, doc, me.email) if decision is not None else None
        resp = make_response(render_template("console/kyc/_decided.html",
                                             **_decided_context(applicant, doc, me, item=item)))
        return toast(resp, message)
    flash(message, "success")
    return redirect(url_for("console.kyc_show", uid=applicant.uid, **filters))


@bp.post("/kyc/<uid>/decide")
@console_requires("kyc.read", "kyc.decide")
def kyc_decide(uid):
    """The whole-applicant decision (kyc_review.decide, the original's behaviour): kept for
    scripts and forms that post it; the screen decides per document."""
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
    flash(_("%(email)s: documents approved.", email=applicant.email) if decision == "approve"
          else _("%(email)s: documents rejected.", email=applicant.email), "success")
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
