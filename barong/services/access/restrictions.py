"""Restrictions (reference/authz.md §3): CRUD, whitelink access, and the evaluation the
authz pipeline and the before-request hook run on every request.

Enabled rows are kept per process, grouped category → scope (barong.authz.process_cache:
dropped at once in this worker and, through the generation file, in the others, by
`invalidate_cache()`, the "authz" channel; 60 s TTL as a multi-host backstop).
"""
from __future__ import annotations

import ipaddress

from barong import signals
from barong.authz.process_cache import ProcessCache, invalidate
from barong.errors import BarongError, ValidationError
from barong.extensions import db
from barong.models import Restriction
from barong.services.infra import kv
from barong.services.infra.request_info import RequestInfo
from barong.services.infra.unit_of_work import add_unique

CATEGORY_ORDER = ("whitelist", "maintenance", "blacklist", "blocklogin")
SCOPE_ORDER = ("all", "ip", "ip_subnet", "continent", "country")
#: restrictions are not checked at all for this path (the whitelink exception)
WHITELINK_PATH = "api/v2/barong/identity/users/access"
#: blocklogin only refuses this path
SESSIONS_PATH = "api/v2/barong/identity/sessions"

_cache = ProcessCache("restrictions", ttl=60)


def invalidate_cache() -> None:
    invalidate()


def _load() -> dict:
    grouped: dict = {}
    rows = db.session.query(Restriction.category, Restriction.scope, Restriction.value, Restriction.code).filter(
        Restriction.state == "enabled")
    for category, scope, value, code in rows:
        if code is None:
            code = 471 if category == "maintenance" else DEFAULT_CODES.get(scope, 401)
        matcher = value
        if scope == "ip_subnet":
            try:
                matcher = ipaddress.ip_network(value, strict=False)
            except ValueError:
                continue
        elif scope in ("continent", "country"):
            matcher = value.casefold()
        grouped.setdefault(category, {}).setdefault(scope, []).append((matcher, int(code)))
    return grouped


def enabled() -> dict:
    """{category: {scope: [(matcher, code)]}} of the enabled restrictions (cached)."""
    return _cache.get(None, _load)


def _first_match(scopes: dict, ip: str, geo: dict):
    for scope in SCOPE_ORDER:
        rows = scopes.get(scope)
        if not rows:
            continue
        if scope == "all":
            return scope, "all", rows[0][1]
        if scope == "ip":
            for value, code in rows:
                if value == ip:
                    return scope, value, code
        elif scope == "ip_subnet":
            try:
                addr = ipaddress.ip_address(ip)
            except ValueError:
                continue
            for net, code in rows:
                if net.version == addr.version and addr in net:
                    return scope, str(net), code
        else:
            if "geo" not in geo:
                from barong.services.infra import geoip

                geo["geo"] = geoip.lookup(ip)
            name = geo["geo"].get(scope)
            if name:
                name = name.casefold()
                for value, code in rows:
                    if value == name:
                        return scope, value, code
    return None


def hit(ip: str, path: str, login: bool = False) -> tuple[str, str, str, int] | None:
    """The restriction deciding a request from `ip` to `path`: (category, scope, value,
    code), a whitelist match included; None when none applies. `check` and the authz
    explain (barong.authz.explain) both ask this."""
    groups = enabled()
    if not groups or path == WHITELINK_PATH:
        return None
    geo: dict = {}
    for category in CATEGORY_ORDER:
        scopes = groups.get(category)
        if not scopes:
            continue
        if category == "blocklogin" and not (login or path == SESSIONS_PATH):
            continue
        found = _first_match(scopes, ip, geo)
        if found is not None:
            return (category, *found)
    return None


def check(ip: str, path: str, login: bool = False) -> None:
    """Refuse a request from `ip` to `path` (no leading slash) that a restriction forbids.

    Raises BarongError authz.restrict.maintenance / .blacklist / .blocklogin with the
    restriction's code as status. A whitelist match ends the check; blocklogin only
    refuses the sessions path (or `login=True`, the web login form).
    """
    found = hit(ip, path, login)
    if found is not None and found[0] != "whitelist":
        raise BarongError(f"authz.restrict.{found[0]}", found[3])


_VALUE_TAKEN = {name: (lambda: ValidationError("value.taken"))
                for name in ("uq_restrictions_scope_category_value", "restrictions.value")}


def grant_whitelink_access(token: str, info: RequestInfo) -> Restriction:
    """Whitelist the caller's IP (identity/users/access). Raises 422 identity.user.access.invalid_token, value.taken."""
    if kv.get(f"whitelink:{token}") != "active":
        raise BarongError("identity.user.access.invalid_token", 422)
    if db.session.query(Restriction.id).filter_by(category="whitelist", scope="ip", value=info.ip).first():
        raise BarongError("value.taken", 422)
    restriction = Restriction(category="whitelist", scope="ip", value=info.ip, state="enabled", code=None)
    add_unique(restriction, _VALUE_TAKEN)  # two clicks of one whitelink: one row, the other value.taken
    invalidate_cache()
    return restriction


# ---- CRUD (admin API and console) -----------------------------------------------------------

DEFAULT_CODES = {"continent": 423, "country": 423, "ip_subnet": 403, "ip": 401, "all": 401}


def _validate(r: Restriction) -> list[str]:
    import ipaddress

    from barong.models.restriction import CATEGORIES, SCOPES, STATES

    errors = []
    if r.category not in CATEGORIES:
        errors.append("category.inclusion")
    if r.scope not in SCOPES:
        errors.append("scope.inclusion")
    if r.state not in STATES:
        errors.append("state.inclusion")
    if not r.value:
        errors.append("value.blank")
    elif len(r.value) > 64:
        errors.append("value.too_long")
    elif r.scope == "ip":
        try:
            if not isinstance(ipaddress.ip_address(r.value), ipaddress.IPv4Address):
                errors.append("value.invalid")
        except ValueError:
            errors.append("value.invalid")
    elif r.scope == "ip_subnet":
        try:
            net = ipaddress.ip_network(r.value, strict=False)
            if net.version != 4 or "/" not in r.value:
                errors.append("value.invalid")
        except ValueError:
            errors.append("value.invalid")
    if not errors:
        q = db.session.query(Restriction.id).filter_by(scope=r.scope, category=r.category, value=r.value)
        if r.id is not None:
            q = q.filter(Restriction.id != r.id)
        if q.first():
            errors.append("value.taken")
    return errors


def _assign_code(r: Restriction) -> None:
    if r.code in (None, "") or r.category == "whitelist":
        r.code = 471 if r.category == "maintenance" else DEFAULT_CODES.get(r.scope, 401)


def _after_save(r: Restriction, was_enabled_blocklogin: bool) -> None:
    if r.category == "blocklogin" and r.state == "enabled" and not was_enabled_blocklogin:
        signals.blocklogin_enabled.send(r)  # accounts.sessions ends every session
    invalidate_cache()


def create(category: str, scope: str, value: str, state: str = "enabled", code: int | None = None) -> Restriction:
    """Raises ValidationError (category/scope/state.inclusion, value.invalid, value.taken)."""
    from barong.errors import ValidationError

    r = Restriction(category=category, scope=scope, value=(value or "").strip(), state=state or "enabled", code=code)
    errors = _validate(r)
    if errors:
        raise ValidationError(errors)
    _assign_code(r)
    add_unique(r, _VALUE_TAKEN)  # a concurrent create of the same restriction passed `_validate` too
    _after_save(r, False)
    return r


def update(r: Restriction, **fields) -> Restriction:
    from barong.errors import ValidationError

    was = r.category == "blocklogin" and r.state == "enabled"
    for name in ("category", "scope", "value", "state", "code"):
        if fields.get(name) is not None:
            setattr(r, name, fields[name])
    errors = _validate(r)
    if errors:
        raise ValidationError(errors)
    _assign_code(r)
    db.session.flush()
    _after_save(r, was)
    return r


def delete(r: Restriction) -> None:
    db.session.delete(r)
    db.session.flush()
    invalidate_cache()


def get(restriction_id: int) -> Restriction:
    from barong.errors import NotFound

    r = db.session.get(Restriction, restriction_id)
    if r is None:
        raise NotFound()
    return r


def issue_whitelink(ttl_seconds: int) -> str:
    """A reusable token that whitelists whoever presents it (identity/users/access) until it expires."""
    import secrets

    token = secrets.token_hex(32)  # 64 hex characters, the shape of Barong's sha256-hex token
    kv.set(f"whitelink:{token}", "active", ttl_seconds)
    return token
