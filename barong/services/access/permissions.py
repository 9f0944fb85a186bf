"""Permissions (RBAC rows, reference/authz.md §6): CRUD used by admin API and console,
and the decision the authz pipeline takes for every request.

The table is kept per process grouped by role (barong.authz.process_cache), dropped by
`invalidate()` (the "authz" channel: cached sessions stay) which every change here calls
(60 s TTL as a multi-host backstop).
"""
from __future__ import annotations

from dataclasses import dataclass

from barong.authz.process_cache import ProcessCache, invalidate
from barong.errors import NotFound, ValidationError
from barong.extensions import db
from barong.models import Permission

VERBS = ("GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "ALL")
ACTIONS = ("ACCEPT", "DROP", "AUDIT")

_cache = ProcessCache("permissions", ttl=60)


@dataclass(frozen=True)
class Decision:
    allowed: bool
    #: some matching row is AUDIT (the request is recorded as an admin activity)
    audit: bool = False
    #: topic of the first matching AUDIT row (None: derive it from the path)
    audit_topic: str | None = None


def _load() -> dict:
    table: dict[str, list[tuple[str, str, str, str | None]]] = {}
    rows = db.session.query(Permission.role, Permission.verb, Permission.path, Permission.action, Permission.topic)
    for role, verb, path, action, topic in rows.order_by(Permission.id):
        table.setdefault(role, []).append((verb.upper(), path, action.upper(), topic))
    return table


def rules_for(role: str) -> list[tuple[str, str, str, str | None]]:
    """(verb, path, action, topic) rows of `role` (cached)."""
    return _cache.get(None, _load).get(role, [])


def decide(role: str, method: str, path: str) -> Decision:
    """Barong's RBAC: rows of the role whose verb is the method or ALL and whose path
    prefixes `path` (no leading slash). Any DROP, or no ACCEPT, denies; AUDIT alone does
    not grant access."""
    return decide_rows(rules_for(role), method, path)


def decide_rows(rows, method: str, path: str, trace: list | None = None) -> Decision:
    """`decide` over given (verb, path, action, topic) rows — the gateway's rows, or a
    proposed table (barong.authz.explain's dry-run); `trace` collects the matching rows."""
    accept = drop = audit = False
    audit_topic = None
    method = method.upper()
    for row in rows:
        verb, prefix, action, topic = row[:4]
        if (verb == method or verb == "ALL") and path.startswith(prefix):
            if trace is not None:
                trace.append(row)
            if action == "ACCEPT":
                accept = True
            elif action == "DROP":
                drop = True
            elif action == "AUDIT":
                if not audit:
                    audit_topic = topic
                audit = True
    return Decision(accept and not drop, audit, audit_topic)


def drops(role: str, method: str, path: str) -> bool:
    """Does a DROP row of `role` match (the pseudo-roles that only take away, e.g. the
    security cooldown's `security_cooldown`)?"""
    method = method.upper()
    return any(action == "DROP" and (verb == method or verb == "ALL") and path.startswith(prefix)
               for verb, prefix, action, _topic in rules_for(role))


def _validate(role, verb, path, action) -> list[str]:
    errors = []
    for name, value in (("role", role), ("verb", verb), ("path", path), ("action", action)):
        if not value or not str(value).strip():
            errors.append(f"{name}.blank")
    return errors


def create(role: str, verb: str, path: str, action: str, topic: str | None = None) -> Permission:
    errors = _validate(role, verb, path, action)
    if errors:
        raise ValidationError(errors)
    perm = Permission(role=role.strip(), verb=verb.strip().upper(), path=path.strip(), action=action.strip().upper(),
                      topic=topic)
    db.session.add(perm)
    db.session.flush()
    invalidate()
    return perm


def get(permission_id: int) -> Permission:
    perm = db.session.get(Permission, permission_id)
    if perm is None:
        raise NotFound()
    return perm


def update(perm: Permission, **fields) -> Permission:
    for name in ("role", "verb", "path", "action", "topic"):
        value = fields.get(name)
        if value is None:
            continue
        if name in ("verb", "action"):
            value = str(value).upper()
        setattr(perm, name, value)
    errors = _validate(perm.role, perm.verb, perm.path, perm.action)
    if errors:
        raise ValidationError(errors)
    db.session.flush()
    invalidate()
    return perm


def delete(perm: Permission) -> None:
    db.session.delete(perm)
    db.session.flush()
    invalidate()


def all_rows() -> list[Permission]:
    return db.session.query(Permission).order_by(Permission.id).all()
