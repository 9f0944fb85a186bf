"""Permissions (RBAC rows): CRUD used by admin API and console; the authz cache
(barong.authz) is invalidated on every change."""
from __future__ import annotations

from barong.errors import NotFound, ValidationError
from barong.extensions import db
from barong.models import Permission
from barong.services import caches

VERBS = ("GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "ALL")
ACTIONS = ("ACCEPT", "DROP", "AUDIT")


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
    caches.clear_all()
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
    caches.clear_all()
    return perm


def delete(perm: Permission) -> None:
    db.session.delete(perm)
    db.session.flush()
    caches.clear_all()


def all_rows() -> list[Permission]:
    return db.session.query(Permission).order_by(Permission.id).all()
