"""Permissions and restrictions editors (inline add / edit / delete), whitelinks, levels.

Writes go through barong.services.operators.admin_actions — the admin API's layer (ability
check, the API's value checks, audit) over the services that clear the authz caches,
so a change is effective in `/api/v2/auth/…` at once."""
from __future__ import annotations

from flask import make_response, render_template, request
from flask_babel import gettext as _
from sqlalchemy import func

from barong.errors import BarongError
from barong.extensions import db
from barong.models import Level, Permission, Restriction, User
from barong.models.restriction import CATEGORIES, SCOPES, STATES
from barong.services.operators import admin_actions
from barong.web.console import bp
from barong.web.console.helpers import (
    actor,
    console_requires,
    done,
    field_errors,
    invalid,
    is_htmx,
    refused,
    render_page_or_partial,
)
from barong.web.console.users import roles

VERBS = ("GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "ALL")
ACTIONS = ("ACCEPT", "DROP", "AUDIT")
PERM_FIELDS = ("role", "verb", "path", "action", "topic")
RESTR_FIELDS = ("category", "scope", "value", "state", "code")


def _form(fields) -> dict:
    return {k: (request.form.get(k) or "").strip() for k in fields}


# ---- permissions --------------------------------------------------------------------------------

def _perm_ctx(**extra) -> dict:
    role = request.values.get("role_filter") or ""
    q = db.session.query(Permission).order_by(Permission.role, Permission.id)
    if role:
        q = q.filter(Permission.role == role)
    return dict(rows=q.all(), roles=roles(), role_filter=role, verbs=VERBS, actions=ACTIONS, active="permissions",
                **extra)


@bp.get("/permissions")
@console_requires("permissions.read")
def permissions_index():
    return render_page_or_partial("console/settings/permissions.html", "console/settings/_permissions.html",
                                  **_perm_ctx())


@bp.post("/permissions")
@console_requires("permissions.create")
def permissions_create():
    form = _form(PERM_FIELDS)
    try:
        perm = admin_actions.create_permission(form["role"], form["verb"], form["path"], form["action"],
                                               form["topic"] or None, actor=actor())
    except BarongError as err:
        db.session.rollback()
        return invalid("console/settings/_permissions.html",
                       **_perm_ctx(new=form, new_errors=field_errors(err, PERM_FIELDS)))
    return done(_("Permission #%(id)s added: %(rule)s.", id=perm.id, rule=" ".join((perm.role, perm.verb, perm.path, "→", perm.action))),
                "console/settings/_permissions.html", **_perm_ctx(flash_id=perm.id))


def _perm(permission_id: int) -> Permission:
    return admin_actions.get_permission(permission_id)


@bp.get("/permissions/<int:permission_id>/row")
@console_requires("permissions.read")
def permissions_row(permission_id):
    edit = request.args.get("edit") == "1"
    if edit:
        from barong.web.console import policy

        if not policy.can(actor(), "permissions.update"):
            return refused(BarongError("admin.ability.not_permitted", 403))
    return render_template("console/settings/_permission_row.html", p=_perm(permission_id), edit=edit,
                           verbs=VERBS, actions=ACTIONS)


@bp.post("/permissions/<int:permission_id>")
@console_requires("permissions.update")
def permissions_update(permission_id):
    perm = _perm(permission_id)
    form = _form(PERM_FIELDS)
    blank = [f"{k}.blank" for k in ("role", "verb", "path", "action") if not form[k]]
    try:
        if blank:
            raise BarongError(blank, 422)
        if form["verb"].upper() not in VERBS:
            raise BarongError("admin.permissions.invalid_verb", 422)
        if form["action"].upper() not in ACTIONS:
            raise BarongError("admin.permissions.invalid_action", 422)
        admin_actions.update_permission(perm, actor=actor(), **{k: (form[k] or None) for k in PERM_FIELDS})
    except BarongError as err:
        db.session.rollback()
        return invalid("console/settings/_permission_row.html", p=_perm(permission_id), edit=True, form=form,
                       errors=field_errors(err, PERM_FIELDS), verbs=VERBS, actions=ACTIONS)
    return done(_("Permission #%(id)s saved.", id=perm.id), "console/settings/_permission_row.html", p=perm, edit=False,
                verbs=VERBS, actions=ACTIONS)


@bp.post("/permissions/<int:permission_id>/delete")
@console_requires("permissions.destroy")
def permissions_delete(permission_id):
    perm = _perm(permission_id)
    admin_actions.delete_permission(perm, actor=actor())
    return done(_("Permission #%(id)s deleted.", id=permission_id), None)


# ---- restrictions -------------------------------------------------------------------------------

def _restr_ctx(**extra) -> dict:
    rows = db.session.query(Restriction).order_by(Restriction.category, Restriction.id).all()
    return dict(rows=rows, categories=CATEGORIES, scopes=SCOPES, states=STATES, active="restrictions", **extra)


@bp.get("/restrictions")
@console_requires("restrictions.read")
def restrictions_index():
    return render_page_or_partial("console/settings/restrictions.html", "console/settings/_restrictions.html",
                                  **_restr_ctx())


@bp.post("/restrictions")
@console_requires("restrictions.create")
def restrictions_create():
    form = _form(RESTR_FIELDS)
    try:
        r = admin_actions.create_restriction(form["category"], form["scope"], form["value"], form["state"] or None,
                                             form["code"], actor=actor())
    except BarongError as err:
        db.session.rollback()
        return invalid("console/settings/_restrictions.html",
                       **_restr_ctx(new=form, new_errors=field_errors(err, RESTR_FIELDS)))
    return done(_("Restriction #%(id)s added: %(rule)s.", id=r.id, rule=" ".join((r.category, r.scope, r.value))), "console/settings/_restrictions.html",
                **_restr_ctx(flash_id=r.id))


@bp.get("/restrictions/<int:restriction_id>/row")
@console_requires("restrictions.read")
def restrictions_row(restriction_id):
    edit = request.args.get("edit") == "1"
    if edit:
        from barong.web.console import policy

        if not policy.can(actor(), "restrictions.update"):
            return refused(BarongError("admin.ability.not_permitted", 403))
    return render_template("console/settings/_restriction_row.html", r=admin_actions.get_restriction(restriction_id),
                           edit=edit, categories=CATEGORIES, scopes=SCOPES, states=STATES)


@bp.post("/restrictions/<int:restriction_id>")
@console_requires("restrictions.update")
def restrictions_update(restriction_id):
    r = admin_actions.get_restriction(restriction_id)
    form = _form(RESTR_FIELDS)
    try:
        admin_actions.update_restriction(r, actor=actor(), category=form["category"], scope=form["scope"],
                                         value=form["value"], state=form["state"], code=form["code"])
    except BarongError as err:
        db.session.rollback()
        return invalid("console/settings/_restriction_row.html", r=admin_actions.get_restriction(restriction_id),
                       edit=True, form=form, errors=field_errors(err, RESTR_FIELDS), categories=CATEGORIES,
                       scopes=SCOPES, states=STATES)
    return done(_("Restriction #%(id)s saved.", id=r.id), "console/settings/_restriction_row.html", r=r, edit=False,
                categories=CATEGORIES, scopes=SCOPES, states=STATES)


@bp.post("/restrictions/<int:restriction_id>/delete")
@console_requires("restrictions.destroy")
def restrictions_delete(restriction_id):
    admin_actions.delete_restriction(admin_actions.get_restriction(restriction_id), actor=actor())
    return done(_("Restriction #%(id)s deleted.", id=restriction_id), None)


@bp.post("/restrictions/whitelink")
@console_requires("whitelink.create")
def restrictions_whitelink():
    form = {"expire_time": (request.form.get("expire_time") or "1").strip(),
            "range": (request.form.get("range") or "day").strip()}
    try:
        try:
            expire = int(form["expire_time"])
        except ValueError:
            raise BarongError("admin.restriction.invalid_expire", 422, field="expire_time") from None
        token = admin_actions.issue_whitelink(expire, form["range"], actor=actor())
    except BarongError as err:
        db.session.rollback()
        return invalid("console/settings/_whitelink.html", wl_form=form,
                       wl_errors=field_errors(err, ("expire_time", "range")))
    resp = done(_("Whitelink created."), "console/settings/_whitelink.html", wl_form=form, token=token)
    if not is_htmx():  # without JS the token must still be shown once
        return make_response(render_template("console/settings/restrictions.html", **_restr_ctx(token=token,
                                                                                                  wl_form=form)))
    return resp


# ---- levels -------------------------------------------------------------------------------------

@bp.get("/levels")
@console_requires("levels.read")
def levels_index():
    levels = db.session.query(Level).order_by(Level.id).all()
    counts = dict(db.session.query(User.level, func.count(User.id)).group_by(User.level).all())
    return render_template("console/settings/levels.html", levels=levels, counts=counts, active="levels")
