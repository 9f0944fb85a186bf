"""Operator actions over permissions, restrictions and profiles: the admin layer (ability
check, the admin API's value checks, guards, audit) around the owning services
(barong.services.access.permissions / restrictions / profiles), so the admin API and the
console behave alike. Flush only; audited through admin_activities.audit.
"""
from __future__ import annotations

from barong.errors import BarongError, NotFound
from barong.extensions import db
from barong.models import Permission, Profile, User
from barong.models.profile import PROFILE_STATES
from barong.services.access import abilities, permissions, restrictions
from barong.services.accounts import profiles, users
from barong.services.audit import admin_activities
from barong.services.operators import four_eyes

PERMISSION_VERBS = ("get", "post", "delete", "put", "head", "patch", "all")
PERMISSION_ACTIONS = ("accept", "drop", "audit")
WHITELINK_RANGES = {"day": 86400, "hour": 3600}


def _perm_data(p: Permission) -> dict:
    return {"id": p.id, "role": p.role, "verb": p.verb, "path": p.path, "action": p.action, "topic": p.topic}


# ---- permissions --------------------------------------------------------------------------

def get_permission(permission_id: int) -> Permission:
    perm = db.session.get(Permission, permission_id)
    if perm is None:
        raise NotFound("admin.permission.doesnt_exist")
    return perm


def create_permission(role: str, verb: str, path: str, action: str, topic: str | None = None, *, actor,
                      audit: bool = True) -> Permission:
    """Raises 422 `admin.permissions.invalid_verb`, `admin.permissions.invalid_action`,
    `admin.permission.role_doesnt_exist` (no permission row has that role yet)."""
    abilities.authorize(actor, "create", "Permission")
    errors = []
    if (verb or "").strip().lower() not in PERMISSION_VERBS:
        errors.append("admin.permissions.invalid_verb")
    if (action or "").strip().lower() not in PERMISSION_ACTIONS:
        errors.append("admin.permissions.invalid_action")
    if not users.role_exists((role or "").strip()):
        errors.append("admin.permission.role_doesnt_exist")
    if errors:
        raise BarongError(errors, 422)
    four_eyes.hold("permission_create", actor, {"role": role, "verb": verb, "path": path, "action": action,
                                                "topic": topic})
    perm = permissions.create(role, verb, path, action, topic)
    admin_activities.audit(actor, "permissions", "create", data=_perm_data(perm), audit=audit)
    return perm


def update_permission(perm: Permission, *, actor, audit: bool = True, **fields) -> Permission:
    """Update the given fields; no value checks (as Barong: action `all` is stored `ALL`)."""
    abilities.authorize(actor, "update", "Permission")
    four_eyes.hold("permission_update", actor, {"id": perm.id, "fields": fields})
    before = _perm_data(perm)
    permissions.update(perm, **fields)
    admin_activities.audit(actor, "permissions", "update", data={**_perm_data(perm), "previous": before},
                           audit=audit)
    return perm


def delete_permission(perm: Permission, *, actor, audit: bool = True) -> None:
    abilities.authorize(actor, "destroy", "Permission")
    four_eyes.hold("permission_delete", actor, {"id": perm.id})
    data = _perm_data(perm)
    permissions.delete(perm)
    admin_activities.audit(actor, "permissions", "delete", data=data, audit=audit)


# ---- restrictions -------------------------------------------------------------------------

def _restr_data(r) -> dict:
    return {"id": r.id, "category": r.category, "scope": r.scope, "value": r.value, "code": r.code,
            "state": r.state}


def get_restriction(restriction_id: int):
    from barong.models import Restriction

    r = db.session.get(Restriction, restriction_id)
    if r is None:
        raise NotFound("admin.restriction.doesnt_exist")
    return r


def _check_restriction(code, **given):
    """The admin API's value checks (422 `admin.restriction.invalid_<category|scope|state>`
    for each given, non-None value outside the model's choices), then `code` as an int
    (422 `admin.restriction.non_integer_code`; None or "" → None). Forms pass raw strings."""
    from barong.models.restriction import CATEGORIES, SCOPES, STATES

    choices = {"category": CATEGORIES, "scope": SCOPES, "state": STATES}
    errors = [f"admin.restriction.invalid_{name}" for name, value in given.items()
              if value is not None and value not in choices[name]]
    if errors:
        raise BarongError(errors, 422)
    if code is None or code == "":
        return None
    if isinstance(code, int) and not isinstance(code, bool):
        return code
    try:
        return int(str(code).strip())
    except ValueError:
        raise BarongError("admin.restriction.non_integer_code", 422, field="code") from None


def create_restriction(category: str, scope: str, value: str, state: str | None = None,
                       code: int | str | None = None, *, actor, audit: bool = True):
    """Raises 422 `admin.restriction.invalid_<category|scope|state>` (a blank state means
    enabled), `admin.restriction.non_integer_code`, model errors (`value.invalid`, `value.taken`…)."""
    abilities.authorize(actor, "create", "Restriction")
    code = _check_restriction(code, category=category, scope=scope, state=state or None)
    four_eyes.hold("restriction_create", actor, {"category": category, "scope": scope, "value": value,
                                                 "state": state, "code": code})
    r = restrictions.create(category, scope, value, state or "enabled", code)
    admin_activities.audit(actor, "restrictions", "create", data=_restr_data(r), audit=audit)
    return r


def update_restriction(r, *, actor, audit: bool = True, **fields):
    """Update the given (non-None) fields; value checks as create_restriction."""
    abilities.authorize(actor, "update", "Restriction")
    checked = {k: fields.get(k) for k in ("category", "scope", "state")}
    fields["code"] = _check_restriction(fields.get("code"), **checked)
    four_eyes.hold("restriction_update", actor, {"id": r.id, "fields": fields})
    before = _restr_data(r)
    restrictions.update(r, **fields)
    admin_activities.audit(actor, "restrictions", "update", data={**_restr_data(r), "previous": before},
                           audit=audit)
    return r


def delete_restriction(r, *, actor, audit: bool = True) -> None:
    abilities.authorize(actor, "destroy", "Restriction")
    four_eyes.hold("restriction_delete", actor, {"id": r.id})
    data = _restr_data(r)
    restrictions.delete(r)
    admin_activities.audit(actor, "restrictions", "delete", data=data, audit=audit)


def issue_whitelink(expire_time: int = 1, range_: str = "day", *, actor, audit: bool = True) -> str:
    """A whitelink token valid `expire_time` (1..30) days or hours. Raises 422
    `admin.restriction.invalid_expire` / `admin.restriction.invalid_range`."""
    abilities.authorize(actor, "create", "Restriction")
    errors = []
    if not isinstance(expire_time, int) or isinstance(expire_time, bool) or not 1 <= expire_time <= 30:
        errors.append("admin.restriction.invalid_expire")
    if range_ not in WHITELINK_RANGES:
        errors.append("admin.restriction.invalid_range")
    if errors:
        raise BarongError(errors, 422)
    token = restrictions.issue_whitelink(expire_time * WHITELINK_RANGES[range_])
    admin_activities.audit(actor, "restrictions", "create whitelink",
                           data={"expire_time": expire_time, "range": range_}, audit=audit)
    return token


# ---- profiles -----------------------------------------------------------------------------

def create_profile(user: User, fields: dict, *, actor, audit: bool = True) -> Profile:
    """Profile for `user`, `submitted`, authored by `actor` (409 `state.exists` when the user
    has an open one; field errors 422). Barong checks no ability here; we require
    `create Profile` (held by every role the default permission table lets reach it)."""
    abilities.authorize(actor, "create", "Profile")
    profile = profiles.create(user, fields, author=actor.uid, state="submitted")
    admin_activities.audit(actor, "profiles", "create", target_uid=user.uid,
                           data={"state": profile.state, "fields": sorted(k for k, v in fields.items() if v)},
                           audit=audit)
    return profile


def review_profile(user: User | None, state: str, *, actor, audit: bool = True) -> Profile:
    """Move the user's `submitted` profile to `state` (verified / rejected / …).

    Raises 401 `admin.ability.not_permitted`; 404 `admin.profiles.doesnt_exist_or_not_editable`
    (no user or no submitted profile); 422 `admin.profiles.superadmin_change` (superadmin
    target by a non-superadmin), `admin.profiles.second_admin_approval` (double
    verification on, the caller authored it and its role may not verify alone),
    `state.inclusion`."""
    abilities.authorize(actor, "update", "Profile")
    profile = None
    if user is not None:
        profile = (db.session.query(Profile)
                   .filter_by(user_id=user.id, state_value=PROFILE_STATES["submitted"]).order_by(Profile.id.desc())
                   .first())
    if profile is None:
        raise NotFound("admin.profiles.doesnt_exist_or_not_editable")
    if user.role == "superadmin" and actor.role != "superadmin":
        raise BarongError("admin.profiles.superadmin_change", 422)
    if not abilities.can_verify_profile(actor, profile):
        raise BarongError("admin.profiles.second_admin_approval", 422)
    previous = profile.state
    profiles.set_state(profile, state)
    admin_activities.audit(actor, "profiles", f"set state {state}", target_uid=user.uid,
                           data={"state": state, "previous_state": previous}, audit=audit)
    return profile
