"""Service accounts: machine identities owned by a user (uid `SI…`), holding API keys.

Rules (reference/data-model.md §10): unique uid and strict-format unique email (default
`<owner local>+<uid>@<owner domain>`), neither equal to a user's (`email_or_uid.not_uniq`);
role must exist in permissions; level and state copied from the owner unless given.
Disabling a service account deactivates its keys.
"""
from __future__ import annotations

from barong.errors import BarongError, ValidationError
from barong.extensions import db
from barong.models import APIKey, ServiceAccount, User
from barong.services.accounts import users
from barong.services.infra.unit_of_work import add_unique

UID_PREFIX = "SI"
DEFAULT_ROLE = "service_account"


def _default_email(owner: User | None, uid: str) -> str | None:
    if owner is None:
        return None
    local, _, domain = owner.email.partition("@")
    return f"{local}+{uid.lower()}@{domain}"


def _validate(sa: ServiceAccount, email: str | None, uid: str, role: str) -> list[str]:
    errors = []
    if not uid:
        errors.append("uid.blank")
    elif db.session.query(ServiceAccount).filter(ServiceAccount.uid == uid, ServiceAccount.id != sa.id).first():
        errors.append("uid.taken")
    if not email:
        errors.append("email.blank")
    elif not users.valid_email(email):
        errors.append("email.invalid")
    elif db.session.query(ServiceAccount).filter(ServiceAccount.email == email,
                                                 ServiceAccount.id != sa.id).first():
        errors.append("email.taken")
    if (email and users.by_email(email) is not None) or (uid and users.by_uid(uid) is not None):
        errors.append("email_or_uid.not_uniq")
    if not users.role_exists(role):
        errors.append("role.doesnt_exist")
    return errors


_TAKEN = {name: (lambda code=code: ValidationError(code)) for names, code in (
    (("uq_service_accounts_uid", "service_accounts.uid"), "uid.taken"),
    (("uq_service_accounts_email", "service_accounts.email"), "email.taken")) for name in names}


def create(owner: User | None, role: str | None = None, email: str | None = None, uid: str | None = None,
           level: int | None = None, state: str | None = None) -> ServiceAccount:
    """Raises ValidationError (uid.taken, email.invalid, email.taken, email_or_uid.not_uniq, role.doesnt_exist)."""
    uid = (uid or users.generate_uid(UID_PREFIX)).strip()
    role = role or DEFAULT_ROLE
    email = (email or _default_email(owner, uid) or "").strip()
    sa = ServiceAccount(uid=uid, owner_id=owner.id if owner else None, email=email, role=role,
                        level=level if level is not None else (owner.level if owner else 0),
                        state=state or (owner.state if owner else "pending"))
    errors = _validate(sa, email, uid, role)
    if errors:
        raise ValidationError([*dict.fromkeys(errors)])
    add_unique(sa, _TAKEN)  # a concurrent create with the same uid/email passed `_validate` too
    return sa


def deactivate_keys(sa: ServiceAccount) -> None:
    for key in db.session.query(APIKey).filter_by(key_holder_account_type="ServiceAccount",
                                                  key_holder_account_id=sa.id, state="active"):
        key.state = "inactive"


def update(sa: ServiceAccount, role: str | None = None, email: str | None = None, level: int | None = None,
           state: str | None = None) -> ServiceAccount:
    """Raises ValidationError. State `disabled` (or anything but active) deactivates the keys."""
    new_role = role or sa.role
    new_email = (email or sa.email).strip()
    errors = _validate(sa, new_email, sa.uid, new_role)
    if errors:
        raise ValidationError([*dict.fromkeys(errors)])
    sa.role, sa.email = new_role, new_email
    if level is not None:
        sa.level = level
    if state is not None and state != sa.state:
        sa.state = state
        if state != "active":
            deactivate_keys(sa)
    elif state is None and sa.owner is not None:
        sa.state = sa.owner.state  # Barong: copied from the owner on updates that do not set it
    db.session.flush()
    return sa


def by_uid(uid: str | None) -> ServiceAccount | None:
    return db.session.query(ServiceAccount).filter_by(uid=uid).first() if uid else None


def owned_by(owner: User, uid: str | None) -> ServiceAccount:
    """The owner's service account `uid`. Raises 404 resource.service_account.doesnt_exist."""
    sa = by_uid(uid)
    if sa is None or sa.owner_id != owner.id:
        raise BarongError("resource.service_account.doesnt_exist", 404)
    return sa


def query(owner: User | None = None, **filters):
    q = db.session.query(ServiceAccount)
    if owner is not None:
        q = q.filter(ServiceAccount.owner_id == owner.id)
    for name, value in filters.items():
        if value is not None:
            q = q.filter(getattr(ServiceAccount, name) == value)
    return q.order_by(ServiceAccount.id)


def list_for(owner: User | None = None, **filters) -> "list[ServiceAccount]":
    return query(owner, **filters).all()


def raw(sa: ServiceAccount) -> dict:
    """The row as resource GET service_accounts returns it (no entity)."""
    from barong.models import iso

    return {"id": sa.id, "uid": sa.uid, "owner_id": sa.owner_id, "email": sa.email, "role": sa.role,
            "level": sa.level, "state": sa.state, "created_at": iso(sa.created_at), "updated_at": iso(sa.updated_at)}


list = list_for  # noqa: A001 - the name other modules call (services.service_accounts.list)
