"""Operators' actions on users (admin API and console call the same functions).

Reading: `search` (every filter of `GET admin/users`), `pending_documents` (the KYC
queue), `with_label` (users by label key/value), `labels_summary`, `get`.
Writing: `update` (state / otp / email), `change_role`, `unlock`, label add/update/edit/delete,
`delete_data_storage`. Every write

* checks the actor's abilities (barong.services.access.abilities) and the guards of
  reference/admin.md §2 in the original's order (unknown user → 404
  `admin.user.doesnt_exist`; superadmin target by a non-superadmin → 422
  `admin.user.superadmin_change`; self → 422 `admin.user.update_himself`);
* flushes, never commits (the request's unit of work commits once);
* writes the admin audit row through `admin_activities.audit` (pass `audit=False` to
  skip; API calls already audited by the authz AUDIT permission are not recorded twice).

Level/state recomputation after label changes lives in barong.services.accounts.labels only.
"""
from __future__ import annotations

import re
import weakref
from datetime import datetime, timezone

from sqlalchemy import exists, func, or_, select, union
from sqlalchemy.orm import lazyload, selectinload

from barong import signals
from barong.errors import BarongError, NotFound, ValidationError
from barong.extensions import db
from barong.models import DataStorage, Label, Profile, User, utcnow
from barong.services.access import abilities
from barong.services.accounts import cooldown, identity, labels, second_factor, users
from barong.services.audit import activities, admin_activities
from barong.services.operators import four_eyes

SCOPE = "admin.user"
#: columns `order_by` may name (secrets and internal bookkeeping excluded)
ORDER_COLUMNS = ("id", "uid", "email", "username", "role", "level", "otp", "state", "referral_id", "data",
                 "created_at", "updated_at")
RANGES = ("created", "updated")
FILTER_PARAMS = ("q", "uid", "email", "role", "first_name", "last_name", "country", "level", "state", "range", "from",
                 "to", "ordering", "order_by", "extended", "page", "limit")
PENDING_DOCUMENT_VALUES = ("pending", "replaced")
_PHONE_LIKE = re.compile(r"\+?[\d\s().-]+")
#: `users.id IN (ids)` conditions (text_condition's UNION, the `country` profiles) → their
#: ids, each once and each an existing user's, so that `count` can count the ids alone
_MATCHES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


# ---- lookups -------------------------------------------------------------------------------

def get(uid: str | None, *, full: bool = False) -> User:
    """The user with `uid`, or 404 `admin.user.doesnt_exist`. `full` preloads the KYC relations;
    otherwise the labels are left to load on first use (most callers never read them: a
    statement fewer, issue 18)."""
    q = db.session.query(User).filter(User.uid == (uid or ""))
    if full:
        q = q.options(selectinload(User.profiles), selectinload(User.phones), selectinload(User.documents),
                      selectinload(User.data_storages), selectinload(User.comments))
    else:
        q = q.options(lazyload(User.labels))
    user = q.first() if uid else None
    if user is None:
        raise NotFound("admin.user.doesnt_exist")
    return user


def _bool(value, code: str) -> bool:
    if value is None or value == "":
        return False
    if isinstance(value, bool):
        return value
    lowered = str(value).strip().lower()
    if lowered in ("true", "1"):
        return True
    if lowered in ("false", "0"):
        return False
    raise BarongError(code, 422)


def _int_param(value, code: str) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise BarongError(code, 422)
    try:
        return int(str(value).strip())
    except ValueError:
        raise BarongError(code, 422) from None


def parse_filters(params: dict | None, *, ordering: bool = True) -> dict:
    """Normalise raw filter values (strings from a query string, or typed values) into
    `{name: value}`; unknown params are dropped. Raises 422 with every bad one:
    `admin.user.non_boolean_extended`, `admin.user.invalid_range`,
    `admin.user.non_integer_<level|from|to>`, `user.ordering.invalid_ordering`,
    `user.ordering.invalid_attribute`."""
    params = dict(params or {})
    out: dict = {}
    errors: list[str] = []

    def attempt(fn):
        try:
            return fn()
        except BarongError as err:
            errors.extend(err.codes)
            return None

    out["extended"] = attempt(lambda: _bool(params.get("extended"), f"{SCOPE}.non_boolean_extended")) or False
    for name in ("q", "uid", "email", "role", "state", "country", "first_name", "last_name"):
        value = params.get(name)
        if value not in (None, ""):
            out[name] = str(value).strip()
    out["level"] = attempt(lambda: _int_param(params.get("level"), f"{SCOPE}.non_integer_level"))
    rng = params.get("range") or "created"
    if rng not in RANGES:
        errors.append(f"{SCOPE}.invalid_range")
    out["range"] = rng
    out["from"] = attempt(lambda: _int_param(params.get("from"), f"{SCOPE}.non_integer_from"))
    out["to"] = attempt(lambda: _int_param(params.get("to"), f"{SCOPE}.non_integer_to"))
    if ordering:
        direction = (params.get("ordering") or "asc")
        if str(direction).lower() not in ("asc", "desc"):
            errors.append("user.ordering.invalid_ordering")
        out["ordering"] = str(direction).lower()
        order_by = params.get("order_by") or "id"
        if order_by not in ORDER_COLUMNS:
            errors.append("user.ordering.invalid_attribute")
        out["order_by"] = order_by
    if errors:
        raise BarongError(list(dict.fromkeys(errors)), 422)
    return out


def _like(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _phone_users(text: str) -> set[int]:
    """Users with the phone number `text` (any punctuation; E.164 digits), found through the
    encrypted column's CRC32 index (`number_index`) and checked against the decrypted value."""
    from barong.services.accounts import phones

    digits = re.sub(r"\D", "", text)
    if not (6 <= len(digits) <= 15 and _PHONE_LIKE.fullmatch(text)):
        return set()
    return {p.user_id for p in phones.find_by_number(digits)}


def _document_users(text: str) -> set[int]:
    """Users with a document numbered `text` (as entered, or upper-cased), through the
    encrypted column's CRC32 index (`doc_number_index`), checked against the decrypted value."""
    from barong.models import Document
    from barong.security.crypto import crc32_index

    if len(text) > 128 or " " in text:
        return set()
    wanted = {text, text.upper()}
    rows = (db.session.query(Document).options(lazyload("*"))
            .filter(Document.doc_number_index.in_({crc32_index(v) for v in wanted})))
    return {d.user_id for d in rows if d.doc_number in wanted}


def _name_selects(text: str) -> list:
    """`SELECT user_id` of the profiles named `text` — a first or a last name, or "first last" /
    "last first" — through the CRC32 indexes of the case-folded names (`profiles.*_name_index`),
    one select per reading, so that each is an index-only scan of
    `ix_profiles_first_last_user` / `ix_profiles_last_first_user`; [] when `text` cannot be a name."""
    from barong.models.base import name_key
    from barong.security.crypto import crc32_index

    key = name_key(text)
    if not key or "@" in key or len(key) > 255:
        return []
    tokens = key.split(" ")
    whole = crc32_index(key)
    wheres = [(Profile.first_name_index == whole,), (Profile.last_name_index == whole,)]
    if 2 <= len(tokens) <= 4:
        for i in range(1, len(tokens)):
            a, b = crc32_index(" ".join(tokens[:i])), crc32_index(" ".join(tokens[i:]))
            wheres += [(Profile.first_name_index == a, Profile.last_name_index == b),
                       (Profile.first_name_index == b, Profile.last_name_index == a)]
    return [select(Profile.user_id).where(*where) for where in wheres]


def text_condition(text: str):
    """The one search box (`q`): part of an email, a uid, a username, a first/last name
    (whole, any case), a phone number or a document number. The encrypted columns are
    matched through their index, exactly.

    `users.id IN (UNION of one select per kind)`, not one OR over `users`: each arm uses its
    own index (the email part the `pg_trgm` GIN index on PostgreSQL, `ix_users_email_lower_trgm`),
    where an OR across the columns and the profile subquery makes PostgreSQL scan every user
    (issue 18: 0.5–1.5 s at 1,000,000 users). Same matches as the OR."""
    text = text.strip()
    lowered = text.lower()
    arms = [select(User.id).where(User.email_lower.like(_like(lowered), escape="\\")),
            select(User.id).where(User.uid == text.upper()),
            select(User.id).where(User.username == lowered)]
    ids = _phone_users(text) | _document_users(text)
    if ids:
        arms.append(select(User.id).where(User.id.in_(sorted(ids))))
    arms += _name_selects(text)
    matches = union(*arms)
    condition = User.id.in_(matches)
    _MATCHES[condition] = matches
    return condition


def _ts(value: int) -> datetime:
    return datetime.fromtimestamp(int(value), tz=timezone.utc).replace(tzinfo=None)


def _conditions(f: dict) -> list:
    """SQL conditions on `users` for the parsed filters (each backed by an index)."""
    conds = []
    if f.get("q"):
        conds.append(text_condition(f["q"]))
    if f.get("uid"):
        conds.append(User.uid == f["uid"])
    if f.get("email"):
        conds.append(User.email_lower == f["email"].lower())
    if f.get("role"):
        conds.append(User.role == f["role"])
    if f.get("state"):
        conds.append(User.state == f["state"])
    if f.get("level") is not None:
        conds.append(User.level == f["level"])
    if f.get("country"):
        # a semi-join instead of a join: no duplicate rows for users with several profiles,
        # COUNT(*) stays a plain count, and the database starts from the (country, user_id) index
        in_country = select(Profile.user_id).where(Profile.country == f["country"]).distinct()
        conds.append(User.id.in_(in_country))
        _MATCHES[conds[-1]] = in_country
    column = User.created_at if f.get("range", "created") == "created" else User.updated_at
    if f.get("from") is not None:
        conds.append(column >= _ts(f["from"]))
    if f.get("to") is not None:
        conds.append(column <= _ts(f["to"]))
    # first_name / last_name are encrypted at rest: accepted and ignored, as in Barong master
    # (the one box `q` finds names through their index)
    return conds


def _list_options(extended: bool, kyc: bool = False):
    opts = [lazyload(User.labels)]
    if kyc:
        opts = [selectinload(User.labels), selectinload(User.profiles), selectinload(User.phones),
                selectinload(User.documents), selectinload(User.data_storages), selectinload(User.comments)]
    elif extended:
        opts.append(selectinload(User.profiles))
    return opts


#: public names for the KYC queue (barong.services.verification.kyc_review.queue_query), which
#: applies every admin/users filter to its applicants
user_conditions = _conditions
list_options = _list_options


def locked_condition(permanent: bool = False):
    """Users whose login is locked now (a temporary lock still running, or one that holds
    until an operator or a password reset lifts it); `permanent`: only the latter."""
    from barong.services.accounts.identity import PERMANENT_LOCK

    return User.locked_until >= (PERMANENT_LOCK if permanent else utcnow())


def count(conds: list) -> int:
    """COUNT(*) of the users matching `conds`. One id-set condition alone (the box `q`, or
    `country`) is counted on its ids: joining 43,479 name matches or 100,000 profiles back to
    users made PostgreSQL read the whole primary key (0.3–1 s at 1,000,000 users)."""
    if len(conds) == 1 and conds[0] in _MATCHES:
        return db.session.execute(select(func.count()).select_from(_MATCHES[conds[0]].subquery())).scalar_one()
    return db.session.execute(select(func.count()).select_from(User).where(*conds)).scalar_one()


def _order_by(f: dict) -> list:
    """ORDER BY for the parsed filters: the column, then `id` ascending as the tie-break
    (both directions; the (email, id) index serves order_by=email)."""
    column = getattr(User, f["order_by"])
    order = column.desc() if f["ordering"] == "desc" else column.asc()
    return [order] if f["order_by"] == "id" else [order, User.id.asc()]


def search_query(params: dict | None):
    """`(query, conditions, filters)` for `GET admin/users`: the ordered, filtered user
    query (relations the entity needs are preloaded; labels are not) and the conditions
    for a cheap COUNT(*). `page_of` cuts a page of it cheaply."""
    f = parse_filters(params)
    conds = _conditions(f)
    q = db.session.query(User).filter(*conds).options(*_list_options(f["extended"])).order_by(*_order_by(f))
    return q, conds, f


def page_of(conds: list, f: dict, page: int, limit: int) -> list[User]:
    """One page of `search_query`'s users (same rows, same order), as a deferred join: the
    page's ids are cut first (`SELECT id … ORDER BY … LIMIT/OFFSET`, which an index-only scan
    can answer), then only those users are read. A plain OFFSET reads every skipped row
    (page=5000 read 499,900 users at 1,000,000)."""
    order_by = _order_by(f)
    ids = (select(User.id).where(*conds).order_by(*order_by).limit(limit).offset((page - 1) * limit)
           .subquery("page"))
    return (db.session.query(User).join(ids, User.id == ids.c.id).options(*_list_options(f["extended"]))
            .order_by(*order_by).all())


def search(params: dict | None, page: int | None = None, limit: int | None = None):
    """One page of users matching `params` → `(items, total)`. `page`/`limit` default to
    the `page`/`limit` entries of `params` (1 and 100)."""
    f = parse_filters(params)
    conds = _conditions(f)
    page, limit = _page(params, page, limit)
    return page_of(conds, f, page, limit), count(conds)


def _page(params, page, limit) -> tuple[int, int]:
    params = params or {}
    page = page or _int_param(params.get("page"), "non_integer_page") or 1
    limit = limit or _int_param(params.get("limit"), "non_integer_limit") or 100
    if page < 1:
        raise BarongError("non_positive_page", 422)
    if not 1 <= limit <= 100:
        raise BarongError("invalid_limit", 422)
    return page, limit


def pending_documents_query(params: dict | None):
    """`(query, user_conditions, filters)` for the KYC queue (total: `count_pending(conditions)`): users holding a
    **private** `document` label with value pending or replaced, oldest request first
    (that label's updated_at). Filters as `search`, without ordering params."""
    f = parse_filters(params, ordering=False)
    conds = _conditions(f)
    doc = (Label.user_id == User.id, Label.key == "document", Label.scope == "private",
           Label.value.in_(PENDING_DOCUMENT_VALUES))
    q = (db.session.query(User).join(Label, doc[0]).filter(*doc[1:]).filter(*conds)
         .options(*_list_options(False, kyc=f["extended"])).order_by(Label.updated_at.asc(), User.id.asc()))
    return q, conds, f


def count_pending(conds: list) -> int:
    """Size of the KYC queue under the user conditions `conds` (from pending_documents_query).
    Without user filters it is counted on the labels index alone (one private `document`
    label per user: the (user, key, scope) unique index)."""
    doc = (Label.key == "document", Label.scope == "private", Label.value.in_(PENDING_DOCUMENT_VALUES))
    if not conds:
        return db.session.execute(select(func.count()).select_from(Label).where(*doc)).scalar_one()
    return count(conds + [User.id.in_(select(Label.user_id).where(*doc))])


def pending_documents(params: dict | None, page: int | None = None, limit: int | None = None):
    """One page of the KYC queue → `(items, total)`."""
    q, conds, _ = pending_documents_query(params)
    page, limit = _page(params, page, limit)
    return q.limit(limit).offset((page - 1) * limit).all(), count_pending(conds)


def with_label_query(key: str, value: str):
    """Users having a label (any scope) `key`=`value` (normalised like labels are), by id."""
    key, value = labels.normalize(key), labels.normalize(value)
    cond = exists().where(Label.user_id == User.id, Label.key == key, Label.value == value)
    return db.session.query(User).filter(cond).options(lazyload(User.labels)).order_by(User.id), [cond]


def labels_summary() -> dict[str, int]:
    """Counts of **private** labels grouped by (key, value), keyed as Barong serialises its
    grouped hash: `'["email", "verified"]'`."""
    rows = (db.session.query(Label.key, Label.value, func.count(Label.id)).filter(Label.scope == "private")
            .group_by(Label.key, Label.value).order_by(Label.key, Label.value).all())
    return {f'["{k}", "{v}"]': n for k, v, n in rows}


# ---- guards --------------------------------------------------------------------------------

def guard(actor, target: User, *, himself: bool = True) -> None:
    """Barong's guards after the user lookup: superadmin target by a non-superadmin → 422
    `admin.user.superadmin_change`; the actor itself → 422 `admin.user.update_himself`."""
    if target.role == "superadmin" and getattr(actor, "role", None) != "superadmin":
        raise BarongError("admin.user.superadmin_change", 422)
    if himself and actor is not None and target.id == actor.id:
        raise BarongError("admin.user.update_himself", 422)


# ---- user attributes ----------------------------------------------------------------------

def update(user: User, state: str | None = None, otp: bool | None = None, email: str | None = None, *,
           actor, audit: bool = True, one_of: str = f"{SCOPE}.one_of_state_otp_email") -> User:
    """Change exactly one of `state`, `otp` (only to false) or `email` (superadmin only).

    Raises 401 `admin.ability.not_permitted`; 422 `<one_of>` (none or several given),
    `admin.user.superadmin_change`, `admin.user.update_himself`,
    `superadmin.user.update_email`, `admin.user.enable_2fa`,
    `admin.user.<state|otp|email>_no_change` (otp: neither TOTP nor a passkey left), model
    errors (`email.invalid`, `email.taken`, `state.too_long`). Side effects: a non-active
    state or otp=false deactivates the user's API keys (and a non-active state revokes
    sessions and cascades to service accounts — barong.services.accounts.users); otp=false
    is the 2FA reset (`second_factor.reset`: the private `otp` label, the TOTP secret,
    the recovery codes and every passkey go; passkeys removed → one more admin row, "remove
    passkeys" with `passkeys_removed`, written even when authz audited the request)."""
    abilities.authorize(actor, "update", "User")
    given = {k: v for k, v in (("state", state), ("otp", otp), ("email", email)) if v is not None}
    if len(given) != 1:
        raise BarongError(one_of, 422)
    guard(actor, user)
    (field, value), = given.items()
    if field == "email" and getattr(actor, "role", None) != "superadmin":
        raise BarongError("superadmin.user.update_email", 422)
    if field == "otp" and value is True:
        raise BarongError(f"{SCOPE}.enable_2fa", 422)
    current = {"state": user.state, "otp": user.otp, "email": user.email}[field]
    # a reset is "no change" only when no second factor is left (a passkey-only user has otp=false)
    unchanged = (value.strip().lower() == current.lower()) if field == "email" else (
        not second_factor.enrolled(user) if field == "otp" else value == current)
    if unchanged:
        raise BarongError(f"{SCOPE}.{field}_no_change", 422)
    old = current
    removed = 0
    if field == "otp":
        four_eyes.hold("otp_reset", actor, {"uid": user.uid, "field": "otp", "value": False}, target_uid=user.uid)
    elif field == "state" and old == "banned":
        four_eyes.hold("unban", actor, {"uid": user.uid, "field": "state", "value": str(value).strip()},
                       target_uid=user.uid)
    if field == "state":
        value = str(value).strip()
        if len(value) > 32:
            raise ValidationError("state.too_long")
        users.apply_state(user, value)
    elif field == "otp":
        removed = second_factor.reset(user)
        cooldown.start(user, "2fa reset")
    else:
        errors = users.validate_fields(email=value, user=user)
        if errors:
            raise ValidationError(errors)
        user.email, user.email_lower = value.strip(), value.strip().lower()
        cooldown.start(user, "email change")
    db.session.flush()
    admin_activities.audit(actor, "users", f"update {field}", target_uid=user.uid,
                           data={field: value, f"previous_{field}": old}, audit=audit)
    if removed and audit and actor is not None:
        # its own row, also when authz already audited the request (its row has the body only)
        activities.record_admin(actor, topic="users", action="remove passkeys", result="succeed",
                                target_uid=user.uid, data={"passkeys_removed": removed})
    return user


def change_role(user: User, role: str, *, actor, audit: bool = True) -> User:
    """Set `user.role`. Only a superadmin may change roles (abilities `update Role`).

    Raises 401 `admin.ability.not_permitted`; 422 `admin.user.superadmin_change`,
    `admin.user.update_himself`, `admin.user.role_no_change`, `role.doesnt_exist`
    (no permission row names that role)."""
    abilities.authorize(actor, "update", "Role")
    guard(actor, user)
    role = (role or "").strip()
    if role == user.role:
        raise BarongError(f"{SCOPE}.role_no_change", 422)
    if not users.role_exists(role):
        raise ValidationError("role.doesnt_exist")
    four_eyes.hold("role_change", actor, {"uid": user.uid, "role": role}, target_uid=user.uid)
    old, user.role = user.role, role
    db.session.flush()
    from barong.services.delivery import events

    events.emit("model.user.updated", events.user_summary(user, omit_nulls=True), {"role": old})
    admin_activities.audit(actor, "users", "change role", target_uid=user.uid,
                           data={"role": role, "previous_role": old}, audit=audit)
    return user


def unlock(user: User, *, actor, audit: bool = True) -> User:
    """Lift the user's brute-force login lockout (barong.services.accounts.identity.unlock). Raises
    401 `admin.ability.not_permitted`; 422 `admin.user.superadmin_change`,
    `admin.user.update_himself`."""
    abilities.authorize(actor, "update", "User")
    guard(actor, user)
    was = user.locked_until
    identity.unlock(user, by_operator=True)  # + the security cooldown
    admin_activities.audit(actor, "users", "unlock", target_uid=user.uid,
                           data={"locked_until": was.isoformat() if was else None}, audit=audit)
    return user


# ---- labels -------------------------------------------------------------------------------

def add_label(user: User, key: str, value: str, scope: str | None = None, description: str | None = None, *,
              actor, audit: bool = True) -> Label:
    """POST admin/users/labels: create a label (scope default public). Raises 401
    `admin.ability.not_permitted`, 422 `admin.user.superadmin_change`, model errors
    (`key.taken`, `value.invalid`, `scope.inclusion`…)."""
    abilities.authorize(actor, "create", "Label")
    guard(actor, user, himself=False)
    label = labels.add(user, key, value, scope=scope or "public", description=description)
    admin_activities.audit(actor, "labels", "create", target_uid=user.uid,
                           data={"key": label.key, "value": label.value, "scope": label.scope,
                                 "description": description}, audit=audit)
    return label


def upsert_label(user: User, key: str, value: str, scope: str, description: str | None = None,
                 replace: bool = True, *, actor, audit: bool = True) -> Label:
    """POST admin/users/labels/update: update the label found by key+scope (value, and the
    description — cleared when not given); when missing, create it if `replace`, else 404
    `admin.label.doesnt_exist`."""
    abilities.authorize(actor, "update", "Label")
    guard(actor, user, himself=False)
    label = labels.find(user, key, (scope or "").strip().lower())
    if label is None:
        if not replace:
            raise NotFound("admin.label.doesnt_exist")
        label = labels.add(user, key, value, scope=scope, description=description)
        action = "create"
    else:
        # the description goes in with the value, so the label event (and its mail) carries it
        labels.update(label, value=value, description=description)
        label.description = description
        db.session.flush()
        if label.key == "document":  # a cleared description moved updated_at, which the KYC queue reads
            signals.kyc_waiting_changed.send(user)
        action = "update"
    admin_activities.audit(actor, "labels", action, target_uid=user.uid,
                           data={"key": label.key, "value": label.value, "scope": label.scope,
                                 "description": description}, audit=audit)
    return label


def edit_label(user: User, key: str, scope: str, value: str, description: str | None = None, *, actor,
               audit: bool = True) -> Label:
    """PUT admin/users/labels: update value (and description when given) of the label found
    by key+scope, else 404 `admin.label.doesnt_exist`."""
    abilities.authorize(actor, "update", "Label")
    guard(actor, user, himself=False)
    label = labels.find(user, key, (scope or "").strip().lower())
    if label is None:
        raise NotFound("admin.label.doesnt_exist")
    labels.update(label, value=value, description=description)
    admin_activities.audit(actor, "labels", "update", target_uid=user.uid,
                           data={"key": label.key, "value": label.value, "scope": label.scope,
                                 "description": description}, audit=audit)
    return label


def delete_label(user: User, key: str, scope: str, *, actor, audit: bool = True) -> None:
    """DELETE admin/users/labels: 404 `admin.label.doesnt_exist` when absent; a private
    label's removal recomputes level and state (barong.services.accounts.labels)."""
    abilities.authorize(actor, "destroy", "Label")
    guard(actor, user, himself=False)
    label = labels.find(user, key, (scope or "").strip().lower())
    if label is None:
        raise NotFound("admin.label.doesnt_exist")
    data = {"key": label.key, "value": label.value, "scope": label.scope}
    labels.delete(label)
    admin_activities.audit(actor, "labels", "delete", target_uid=user.uid, data=data, audit=audit)


# ---- data storage -------------------------------------------------------------------------

def delete_data_storage(user: User, title: str, *, actor, audit: bool = True) -> None:
    """Remove the user's data-storage record `title` (case-insensitive); 404
    `admin.storage.doesnt_exist`. The `<title>: recorded` label stays (as in Barong)."""
    abilities.authorize(actor, "destroy", "User")
    record = (db.session.query(DataStorage)
              .filter(DataStorage.user_id == user.id, func.lower(DataStorage.title) == (title or "").strip().lower())
              .first())
    if record is None:
        raise NotFound("admin.storage.doesnt_exist")
    db.session.delete(record)
    db.session.flush()
    db.session.expire(user, ["data_storages"])
    admin_activities.audit(actor, "data_storage", "delete", target_uid=user.uid, data={"title": record.title},
                           audit=audit)
