"""Console plumbing: the guard decorator, page-or-partial rendering, toasts, audit,
form errors from service codes, paging."""
from __future__ import annotations

import functools
import json
import math
from urllib.parse import urlencode

from flask import (
    Response,
    flash,
    g,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext
from flask_login import current_user
from werkzeug.routing import BuildError

from barong.errors import BarongError
from barong.services.audit import activities, admin_activities
from barong.services.infra.unit_of_work import durable
from barong.web.console import policy


def is_htmx() -> bool:
    return request.headers.get("HX-Request") == "true" and request.headers.get("HX-History-Restore-Request") != "true"


def actor():
    """The signed-in operator (a User)."""
    return current_user._get_current_object()


# ---- guard ----------------------------------------------------------------------------------

def _login_url() -> str:
    try:
        return url_for("account.login", next=request.full_path.rstrip("?"))
    except BuildError:  # the site's login page is not mounted
        return "/"


def _record_denied(user_id: int, capability: str, path: str, method: str, target_uid: str | None) -> None:
    from barong.extensions import db
    from barong.models import User

    user = db.session.get(User, user_id)
    if user is not None:
        activities.record_admin(user, topic="console", action=capability, result="denied",
                                target_uid=target_uid, data={"path": path, "method": method})


def console_requires(*capabilities: str):
    """Guard a console view: signed in (else → login), and every capability granted by
    the admin API's rules (else 403; a refused state-changing call is audited as denied)."""
    for c in capabilities:
        if c not in policy.CAPABILITIES:
            raise KeyError(f"unknown console capability {c!r}")

    def decorator(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            user = current_user
            if not getattr(user, "is_authenticated", False):
                if is_htmx():
                    resp = Response(status=401)
                    resp.headers["HX-Redirect"] = _login_url()
                    return resp
                return redirect(_login_url())
            missing = [c for c in capabilities if not policy.can(user, c)]
            if missing:
                if request.method not in ("GET", "HEAD"):
                    target = (request.view_args or {}).get("uid") or request.values.get("uid")
                    durable(_record_denied, user.id, missing[0], request.path, request.method, target)
                return forbidden()
            return view(*args, **kwargs)

        wrapper.console_capabilities = capabilities
        return wrapper

    return decorator


def forbidden():
    if is_htmx():
        resp = make_response("", 403)
        toast(resp, _("You are not allowed to do that."), "error")
        return resp
    return render_template("console/forbidden.html"), 403


# ---- responses ------------------------------------------------------------------------------

def render_page_or_partial(page_template: str, partial_template: str, status: int = 200, **ctx):
    """The same endpoint answers a full page, or only the fragment for an htmx request."""
    if is_htmx():
        return make_response(render_template(partial_template, **ctx), status)
    return make_response(render_template(page_template, **ctx), status)


def toast(resp, message: str, level: str = "success"):
    """Attach an `HX-Trigger: toast` (the layout shows it) to an htmx response."""
    existing = resp.headers.get("HX-Trigger")
    events = json.loads(existing) if existing else {}
    events["toast"] = {"message": str(message), "level": level}
    resp.headers["HX-Trigger"] = json.dumps(events)
    return resp


def done(message: str, fragment_template: str | None = None, fallback_url: str | None = None, **ctx):
    """Success: the updated fragment + toast for htmx; flash + redirect (PRG) without JS."""
    if is_htmx():
        body = render_template(fragment_template, **ctx) if fragment_template else ""
        return toast(make_response(body, 200), message)
    flash(str(message), "success")
    return redirect(fallback_url or request.referrer or url_for("console.dashboard"))


def ask_first(user, question: str, consequence: str, button: str, cancel_url: str | None = None):
    """Destructive actions ask first: None when the POST carries `confirm=1` (go ahead);
    otherwise the confirmation naming the user and the consequence — a page without JS,
    in place of the htmx target (same id) with htmx — whose form re-posts the same fields
    with `confirm=1` + CSRF. Nothing is changed until then."""
    if request.form.get("confirm") == "1":
        return None
    fields = [(k, v) for k in request.form if k not in ("confirm", "csrf_token") for v in request.form.getlist(k)]
    ctx = dict(subject=user, question=question, consequence=consequence, button=button, fields=fields,
               action_url=request.path, cancel_url=cancel_url or request.referrer or url_for("console.dashboard"),
               target_id=request.headers.get("HX-Target") if is_htmx() else None)
    if is_htmx():
        resp = make_response(render_template("console/_confirm.html", **ctx), 200)
        if not ctx["target_id"]:
            resp.headers["HX-Reswap"] = "none"
        return resp
    return make_response(render_template("console/confirm.html", **ctx), 200)


def audit(topic: str, action: str, target_uid: str | None = None, data: dict | None = None):
    """Every console action lands in the admin audit log (admin_activities.audit: the one
    audit path of the admin services; payload masked by activities)."""
    return admin_activities.audit(actor(), topic, action, target_uid=target_uid, data=data)


# ---- form errors ----------------------------------------------------------------------------

MESSAGES = {
    "blank": _l("Can't be blank."),
    "empty": _l("Can't be blank."),
    "missing": _l("Can't be blank."),
    "invalid": _l("Is not valid."),
    "taken": _l("Is already taken."),
    "too_short": _l("Is too short."),
    "too_long": _l("Is too long."),
    "inclusion": _l("Is not one of the allowed values."),
    "doesnt_exist": _l("Does not exist."),
    "no_change": _l("Is unchanged."),
    "not_integer": _l("Must be a whole number."),
}


def humanize(code: str) -> str:
    last = code.rsplit(".", 1)[-1]
    for key, text in MESSAGES.items():
        if last == key or last.endswith("_" + key) or last.startswith(key + "_"):
            return str(text)
    return code


def field_errors(err: BarongError, fields: tuple[str, ...]) -> dict[str, list[str]]:
    """Spread a service error's codes over form fields (flaskbb's populate_errors):
    `value.invalid` → value, `admin.permissions.invalid_verb` → verb, others → `_form`."""
    out: dict[str, list[str]] = {}
    for code in err.codes:
        target = None
        if err.field in fields:
            target = err.field
        else:
            head, last = code.split(".", 1)[0], code.rsplit(".", 1)[-1]
            if head in fields:
                target = head
            else:
                for f in fields:
                    if last.endswith("_" + f) or last.startswith(f + "_"):
                        target = f
                        break
        message = humanize(code) if target else code
        out.setdefault(target or "_form", []).append(f"{message} ({code})" if target else message)
    return out


def invalid(template: str, **ctx):
    """422 + the re-rendered form fragment (htmx swaps 422, see the layout's config)."""
    resp = make_response(render_template(template, **ctx), 422)
    if is_htmx():
        toast(resp, _("Please correct the highlighted fields."), "error")
    return resp


def refused(err: BarongError):
    """A business refusal that is not a form field error (409 claimed, 422 self change…).
    Whatever the service flushed before refusing is dropped here: the no-JS answer is a
    redirect (status < 400), which the unit of work would otherwise commit."""
    from barong.extensions import db

    db.session.rollback()
    if is_htmx():
        resp = make_response("", err.status)
        resp.headers["HX-Reswap"] = "none"
        return toast(resp, humanize_refusal(err), "error")
    flash(humanize_refusal(err), "error")
    return redirect(request.referrer or url_for("console.dashboard"))


REFUSALS = {
    "admin.user.update_himself": _l("You cannot change your own account here."),
    "admin.user.superadmin_change": _l("Only a superadmin may change a superadmin."),
    "admin.kyc.claimed": _l("Another reviewer is deciding this applicant."),
    "admin.kyc.not_pending": _l("This applicant has already been decided."),
    "admin.user.role_no_change": _l("The user already has that role."),
    "admin.user.state_no_change": _l("The user is already in that state."),
    "admin.user.otp_no_change": _l("2FA is already off."),
    "role.doesnt_exist": _l("That role does not exist."),
    # support actions (barong.services.operators.support_actions)
    "admin.session.doesnt_exist": _l("That session has already ended."),
    "admin.user.not_active": _l("The user is banned or deleted: a reset would not let them in."),
    "admin.user.already_confirmed": _l("The user's email is already confirmed."),
    "admin.required_action.invalid": _l("Pick what the user must do."),
    "admin.required_action.enable_2fa_done": _l("2FA is already on for this user."),
    "admin.required_action.doesnt_exist": _l("That action is not pending."),
}


def humanize_refusal(err: BarongError) -> str:
    """The operator's sentence for a refusal, in the page's language; an unknown code as is."""
    return str(REFUSALS.get(err.code, err.code))


# Barong's vocabulary shown in the console's language (badges, choices): user, profile,
# phone, restriction and outbox states, activity results, label scopes. The stored value
# stays in the markup (class, option value, title); anything else (label values, topics,
# roles, verbs) is data and is shown as stored. Context "console" keeps these apart from
# the site's own words for the same states.
TERMS = {
    "active": lazy_pgettext("console", "active"),
    "pending": lazy_pgettext("console", "pending"),
    "banned": lazy_pgettext("console", "banned"),
    "locked": lazy_pgettext("console", "locked"),
    "deleted": lazy_pgettext("console", "deleted"),
    "drafted": lazy_pgettext("console", "drafted"),
    "submitted": lazy_pgettext("console", "submitted"),
    "verified": lazy_pgettext("console", "verified"),
    "rejected": lazy_pgettext("console", "rejected"),
    "unverified": lazy_pgettext("console", "unverified"),
    "succeed": lazy_pgettext("console", "succeed"),
    "failed": lazy_pgettext("console", "failed"),
    "denied": lazy_pgettext("console", "denied"),
    "sent": lazy_pgettext("console", "sent"),
    "delivered": lazy_pgettext("console", "delivered"),
    "approved": lazy_pgettext("console", "approved"),
    "expired": lazy_pgettext("console", "expired"),
    "mail_pending": lazy_pgettext("console", "mail_pending"),
    "mail_sent": lazy_pgettext("console", "mail_sent"),
    "mail_failed": lazy_pgettext("console", "mail_failed"),
    "all": lazy_pgettext("console", "all"),
    "enabled": lazy_pgettext("console", "enabled"),
    "disabled": lazy_pgettext("console", "disabled"),
    "public": lazy_pgettext("console", "public"),
    "private": lazy_pgettext("console", "private"),
}


def term(value) -> str:
    """`value` in the page's language when it is one of Barong's TERMS, else as is."""
    text = TERMS.get(value) if isinstance(value, str) else None
    return str(text) if text is not None else value


def term_choices(values) -> list[tuple[str, str]]:
    """(value, shown text) pairs for a select of TERMS."""
    return [(v, term(v)) for v in values]


# ---- paging ---------------------------------------------------------------------------------

class Page:
    def __init__(self, items, total: int, page: int, limit: int, args: dict):
        self.items, self.total, self.page, self.limit = list(items), total, page, limit
        self.pages = max(1, math.ceil(total / limit)) if limit else 1
        self._args = {k: v for k, v in args.items() if v not in (None, "") and k != "page"}

    def url(self, page: int) -> str:
        return "?" + urlencode({**self._args, "page": page})

    def sort_url(self, column: str, current: str | None, ordering: str | None) -> str:
        new = "desc" if current == column and ordering != "desc" else "asc"
        return "?" + urlencode({**self._args, "order_by": column, "ordering": new, "page": 1})


def int_arg(args, name: str, default: int, lo: int = 1, hi: int = 1000) -> int:
    try:
        value = int(args.get(name) or default)
    except (TypeError, ValueError):
        value = default
    return max(lo, min(hi, value))


def paginate(query, args, default_limit: int = 25) -> Page:
    page = int_arg(args, "page", 1, 1, 10**6)
    limit = int_arg(args, "limit", default_limit, 1, 500)
    total = query.order_by(None).count() if hasattr(query, "count") else len(query)
    items = query.offset((page - 1) * limit).limit(limit).all()
    return Page(items, total, page, limit, dict(args))


# ---- templates ------------------------------------------------------------------------------

def pii_sees(uid: str | None, field: str | None = None) -> bool:
    """May the signed-in operator see user `uid`'s personal data now (issue 17) — the reveal's
    `field` (pii.FIELDS), or all of it when None? Memoised per request."""
    from barong.services.operators import pii

    cache = g.setdefault("_console_pii", {})
    key = (uid, field)
    if key not in cache:
        cache[key] = pii.sees(current_user if getattr(current_user, "is_authenticated", False) else None, uid,
                              field)
    return cache[key]


#: the template's kind of value → the reveal field it belongs to ("text" names none: shown only
#: when everything is revealed — say "name" or "address" for a reveal of that part to show it)
PII_FIELD_OF_KIND = {"name": "names", "address": "address", "dob": "dob", "phone": "phones",
                     "doc_number": "documents"}


def pii_value(value, kind: str, uid: str | None):
    """`value` as the operator may see it: itself, or masked the original's way (entities.pii_masked).
    `kind`: name, address (also postcode), dob, phone, doc_number, or text (any other)."""
    from barong.api import entities

    return value if pii_sees(uid, PII_FIELD_OF_KIND.get(kind)) else entities.pii_masked(value, kind)


def install_template_helpers(bp) -> None:
    @bp.context_processor
    def _helpers():
        return {"console_can": lambda capability: policy.can(current_user, capability), "term_choices": term_choices,
                "pii_sees": pii_sees, "pii": pii_value}

    bp.add_app_template_filter(term, "term")

    @bp.app_template_filter("console_dt")
    def _dt(value):
        return value.strftime("%Y-%m-%d %H:%M") if value else "—"

    @bp.app_template_filter("console_json")
    def _fromjson(value):
        try:
            return json.loads(value) if value else {}
        except ValueError:
            return {}
