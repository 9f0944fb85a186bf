"""Users: live search over every admin/users filter, the user page (UserWithKYC and
more), and the operator actions on a user. Every action calls the admin services
(barong.services.operators.admin_users / comments), which check abilities, apply
Barong's guards and write the admin audit row."""
from __future__ import annotations

from datetime import date, datetime, time, timezone

from flask import render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from barong.errors import BarongError
from barong.extensions import db
from barong.models import Permission, User, utcnow
from barong.services.accounts import api_keys, webauthn
from barong.services.audit import admin_activities
from barong.services.operators import admin_users, comments
from barong.web.console import bp, helpers
from barong.web.console.helpers import (
    Page,
    actor,
    ask_first,
    console_requires,
    done,
    field_errors,
    int_arg,
    invalid,
    policy,
    refused,
    render_page_or_partial,
)

STATES = ("active", "pending", "banned", "locked", "deleted")
# the states that ask first (helpers.ask_first): button, consequence
STATE_CONSEQUENCES = {
    "banned": (_l("Ban"), _l("Ban %(email)s?"),
               _l("They are logged out everywhere and cannot log in until an operator lifts the ban.")),
    "deleted": (_l("Delete"), _l("Delete %(email)s?"),
                _l("The account is closed: they are logged out everywhere and cannot log in again.")),
}
SORTABLE = ("uid", "email", "role", "level", "state", "otp", "created_at", "updated_at")
FILTER_FIELDS = ("q", "uid", "email", "role", "state", "level", "country", "range", "from", "to", "order_by",
                 "ordering", "limit", "locked")


def _day_to_unix(raw: str | None, end: bool = False) -> int | None:
    try:
        d = date.fromisoformat(raw) if raw else None
    except ValueError:
        return None
    if d is None:
        return None
    return int(datetime.combine(d, time.max if end else time.min, tzinfo=timezone.utc).timestamp())


def service_params(args) -> dict:
    """Console form → admin/users params (dates become unix seconds)."""
    params = {k: args.get(k) for k in ("q", "uid", "email", "role", "state", "level", "country", "range",
                                       "ordering", "order_by") if args.get(k)}
    params["from"] = _day_to_unix(args.get("from"))
    params["to"] = _day_to_unix(args.get("to"), end=True)
    params.setdefault("order_by", "created_at")
    params.setdefault("ordering", "desc")
    return params


def roles() -> list[str]:
    return [r for (r,) in db.session.query(Permission.role).distinct().order_by(Permission.role)]


@bp.get("/users")
@console_requires("users.read")
def users_index():
    args = request.args
    error = None
    page_no, limit = int_arg(args, "page", 1, 1, 10**6), int_arg(args, "limit", 25, 1, 100)
    try:
        # the live box `q` (email part, uid, username, name, phone or document number) is a service filter
        _, conds, f = admin_users.search_query(service_params(args))
        if args.get("locked"):  # the console's list of locked accounts (issue 15)
            conds = [*conds, admin_users.locked_condition(permanent=args.get("locked") == "permanent")]
        total = admin_users.count(conds)
        items = admin_users.page_of(conds, f, page_no, limit) if total else []
    except BarongError as err:
        error, f, total, items = err.codes, {}, 0, []
    page = Page(items, total, page_no, limit, {k: args.get(k) for k in FILTER_FIELDS})
    ctx = dict(page=page, args=args, error=error, states=STATES, roles=roles(), sortable=SORTABLE,
               order_by=f.get("order_by", "created_at"), ordering=f.get("ordering", "desc"), active="users")
    return render_page_or_partial("console/users/index.html", "console/users/_table.html", **ctx)


# ---- the user page ----------------------------------------------------------------------------

def _load(uid: str) -> User:
    return admin_users.get(uid, full=True)


def _context(user: User) -> dict:
    ctx = dict(user=user, states=STATES, roles=roles(), now=utcnow(), active="users",
               locked=bool(user.locked_until and user.locked_until > utcnow()),
               passkeys=len(webauthn.credentials_of(user)))  # a second factor too: Reset 2FA removes them
    if policy.can(actor(), "api_keys.read"):
        ctx["api_keys"] = api_keys.list_for(user)
    from barong.web.console.user_support import support_context

    ctx.update(support_context(user))
    if policy.can(actor(), "activities.read"):
        ctx["user_activity"], _ = admin_activities.search("user", {"uid": user.uid}, 1, 20)
    if policy.can(actor(), "activities.admin"):
        ctx["admin_activity"] = (admin_activities.search_query("admin", {"target_uid": user.uid}).limit(20).all())
    return ctx


@bp.get("/users/<uid>")
@console_requires("users.read")
def users_show(uid):
    user = _load(uid)
    return render_template("console/users/show.html", **_context(user))


def _summary(user: User, message: str):
    return done(message, "console/users/_summary.html", fallback_url=_url(user), **_context(user))


def _url(user: User) -> str:
    from flask import url_for

    return url_for("console.users_show", uid=user.uid)


@bp.post("/users/<uid>/state")
@console_requires("users.update")
def users_state(uid):
    user = _load(uid)
    state = (request.form.get("state") or "").strip()
    if state not in STATES:
        return invalid("console/users/_summary.html", errors={"state": [_("Pick a state.")]}, **_context(user))
    if state in STATE_CONSEQUENCES and state != user.state:
        verb, question, consequence = STATE_CONSEQUENCES[state]
        asked = ask_first(user, str(question) % {"email": user.email}, str(consequence), str(verb), _url(user))
        if asked is not None:
            return asked
    try:
        admin_users.update(user, state=state, actor=actor())
    except BarongError as err:
        return refused(err)
    return _summary(user, _("State set to %(state)s.", state=helpers.term(state)))


@bp.post("/users/<uid>/otp")
@console_requires("users.update")
def users_reset_otp(uid):
    user = _load(uid)
    asked = ask_first(user, _("Reset 2FA of %(email)s?", email=user.email),
                      _("Their 2FA is turned off (the authenticator app, the recovery codes and every passkey) and "
                        "their API keys are deactivated; they must set 2FA up again."),
                      _("Reset 2FA"), _url(user))
    if asked is not None:
        return asked
    try:
        admin_users.update(user, otp=False, actor=actor())
    except BarongError as err:
        return refused(err)
    return _summary(user, _("2FA reset: the user must set it up again."))


@bp.post("/users/<uid>/role")
@console_requires("users.role")
def users_role(uid):
    user = _load(uid)
    role = (request.form.get("role") or "").strip()
    if role and role != user.role and role in roles():  # an unknown role is a field error, no question
        asked = ask_first(user, _("Change the role of %(email)s from %(old)s to %(new)s?", email=user.email,
                                  old=user.role, new=role),
                          _("They get the abilities of %(new)s and lose those of %(old)s at once.", new=role,
                            old=user.role),
                          _("Change role"), _url(user))
        if asked is not None:
            return asked
    try:
        admin_users.change_role(user, role, actor=actor())
    except BarongError as err:
        if err.code == "role.doesnt_exist" or err.code.endswith("empty_role"):
            return invalid("console/users/_summary.html", errors=field_errors(err, ("role",)), **_context(user))
        return refused(err)
    return _summary(user, _("Role set to %(role)s.", role=role))


@bp.post("/users/<uid>/unlock")
@console_requires("users.update")
def users_unlock(uid):
    user = _load(uid)
    try:
        admin_users.unlock(user, actor=actor())
    except BarongError as err:
        return refused(err)
    return _summary(user, _("Login lockout lifted."))


# ---- labels -----------------------------------------------------------------------------------

LABEL_FIELDS = ("key", "value", "scope", "description")


def _labels_response(user: User, message: str):
    db.session.expire(user, ["labels"])
    return done(message, "console/users/_labels_and_summary.html", fallback_url=_url(user), **_context(user))


def _label_write(uid: str, write, form_name: str, errors_name: str, message: str):
    """Add or edit a label from the form: field errors (422) re-render the labels fragment
    with the form, other refusals (superadmin target, unknown label…) are a toast."""
    user = _load(uid)
    form = {k: (request.form.get(k) or "").strip() for k in LABEL_FIELDS}
    try:
        write(user, form)
    except BarongError as err:
        if err.status == 422 and err.code != "admin.user.superadmin_change":
            db.session.rollback()
            user = _load(uid)
            return invalid("console/users/_labels.html", **{form_name: form},
                           **{errors_name: field_errors(err, LABEL_FIELDS)}, **_context(user))
        return refused(err)
    return _labels_response(user, str(message) % {"key": form["key"]})


@bp.post("/users/<uid>/labels")
@console_requires("labels.create")
def labels_create(uid):
    def write(user, form):
        admin_users.add_label(user, form["key"], form["value"], scope=form["scope"] or "public",
                              description=form["description"] or None, actor=actor())

    return _label_write(uid, write, "label_form", "label_errors", _l("Label %(key)s added."))


@bp.post("/users/<uid>/labels/edit")
@console_requires("labels.update")
def labels_update(uid):
    def write(user, form):
        admin_users.edit_label(user, form["key"], form["scope"], form["value"],
                               description=form["description"] or None, actor=actor())

    return _label_write(uid, write, "edit_form", "edit_errors", _l("Label %(key)s updated."))


@bp.post("/users/<uid>/labels/delete")
@console_requires("labels.destroy")
def labels_delete(uid):
    user = _load(uid)
    key, scope = request.form.get("key", ""), request.form.get("scope", "")
    asked = ask_first(user, _("Remove label %(key)s (%(scope)s) of %(email)s?", key=key, scope=scope, email=user.email),
                      _("What the label grants (e.g. a KYC level) is recomputed and may be lost."), _("Remove label"),
                      _url(user))
    if asked is not None:
        return asked
    try:
        admin_users.delete_label(user, key, scope, actor=actor())
    except BarongError as err:
        return refused(err)
    return _labels_response(user, _("Label %(key)s removed.", key=key))


# ---- comments, data storage -------------------------------------------------------------------

@bp.post("/users/<uid>/comments")
@console_requires("comments.create")
def comments_create(uid):
    user = _load(uid)
    form = {"title": (request.form.get("title") or "").strip(), "data": request.form.get("data") or ""}
    try:
        comments.add(user, form["title"], form["data"], actor=actor())
    except BarongError as err:
        db.session.rollback()
        user = _load(uid)
        return invalid("console/users/_comments.html", comment_form=form,
                       comment_errors=field_errors(err, ("title", "data")), **_context(user))
    db.session.expire(user, ["comments"])
    return done(_("Comment added."), "console/users/_comments.html", fallback_url=_url(user), **_context(user))


@bp.post("/users/<uid>/data_storage/delete")
@console_requires("data_storage.destroy")
def data_storage_delete(uid):
    user = _load(uid)
    title = request.form.get("title", "")
    try:
        admin_users.delete_data_storage(user, title, actor=actor())
    except BarongError as err:
        return refused(err)
    return done(_("Data storage %(title)s removed.", title=title), "console/users/_data_storage.html", fallback_url=_url(user),
                **_context(user))
