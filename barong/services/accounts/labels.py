"""Labels, and what they imply: a private label change recomputes the user's level
and state (the one place that does it), and emits Barong's label events."""
from __future__ import annotations

import re

from sqlalchemy import update as sa_update
from sqlalchemy.orm.attributes import set_committed_value

from barong import signals
from barong.errors import BarongError, ValidationError
from barong.extensions import db
from barong.models import Label, Level, User, utcnow
from barong.services.delivery import events
from barong.services.infra.unit_of_work import add_unique

_TOKEN = re.compile(r"^[a-z0-9_-]+$")
SCOPES = ("public", "private")
_KEY_TAKEN = {name: (lambda: ValidationError("key.taken")) for name in ("uq_labels_user_key_scope", "labels.key")}


def normalize(value: str | None) -> str:
    return " ".join(str(value or "").split()).lower()


def validate(key: str, value: str, scope: str) -> list[str]:
    errors = []
    for name, v in (("key", key), ("value", value)):
        if not v:
            errors.append(f"{name}.blank")
        elif len(v) < 3:
            errors.append(f"{name}.too_short")
        elif len(v) > 255:
            errors.append(f"{name}.too_long")
        elif not _TOKEN.match(v):
            errors.append(f"{name}.invalid")
    if scope not in SCOPES:
        errors.append("scope.inclusion")
    return errors


def _record(label: Label) -> dict:
    return {"id": label.id, "key": label.key, "value": label.value, "description": label.description,
            "user": events.user_summary(label.user, omit_nulls=True)}


def find(user: User, key: str, scope: str | None = None) -> Label | None:
    key = normalize(key)
    for label in user.labels:
        if label.key == key and (scope is None or label.scope == scope):
            return label
    return None


def add(user: User, key: str, value: str, scope: str = "public", description: str | None = None) -> Label:
    """Create a label. Raises ValidationError (key.taken, key.invalid, value.invalid, scope.inclusion…)."""
    key, value, scope = normalize(key), normalize(value), (scope or "public").strip().lower()
    errors = validate(key, value, scope)
    if not errors and find(user, key, scope) is not None:
        errors.append("key.taken")
    if errors:
        raise ValidationError(errors)
    if user.id is None:
        db.session.flush()
    label = Label(user_id=user.id, key=key, value=value, scope=scope, description=description)
    add_unique(label, _KEY_TAKEN)  # a concurrent add of the same key passed `find` too
    if label not in user.labels:  # loading the collection may have found it already
        user.labels.append(label)
    events.emit("model.label.created", _record(label))
    if scope == "private":
        _private_label_changed(user, label)
    _waiting_may_change(user, key)
    return label


def update(label: Label, value: str | None = None, scope: str | None = None,
           description: str | None = None) -> Label:
    """Change a label's value/scope/description. Raises ValidationError."""
    old = {"value": label.value, "scope": label.scope, "description": label.description}
    new_value = normalize(value) if value is not None else label.value
    new_scope = scope.strip().lower() if scope is not None else label.scope
    errors = validate(label.key, new_value, new_scope)
    if not errors and new_scope != label.scope and find(label.user, label.key, new_scope) is not None:
        errors.append("key.taken")
    if errors:
        raise ValidationError(errors)
    if (new_value, new_scope) != (old["value"], old["scope"]):
        _compare_and_set(label, old["value"], old["scope"], new_value, new_scope)
    if description is not None:
        label.description = description
    db.session.flush()
    changes = {k: v for k, v in old.items() if getattr(label, k) != v}
    if changes:
        events.emit("model.label.updated", _record(label), changes)
    if "private" in (old["scope"], label.scope) and changes:
        _private_label_changed(label.user, label)
    _waiting_may_change(label.user, label.key)
    return label


def _compare_and_set(label: Label, old_value: str, old_scope: str, new_value: str, new_scope: str) -> None:
    """Write value/scope only if the row still holds what this request read: of two
    concurrent changes of one label (two reviewers deciding `document`) the second waits for
    the first's row lock (PostgreSQL) or write lock (SQLite), then matches no row and is
    refused with 409 label.conflict, so each event's previous value is the one it replaced."""
    if label.id is None:
        db.session.flush()
    result = db.session.execute(
        sa_update(Label).where(Label.id == label.id, Label.value == old_value, Label.scope == old_scope)
        .values(value=new_value, scope=new_scope, updated_at=utcnow())
        .execution_options(synchronize_session=False))
    if result.rowcount != 1:
        raise BarongError("label.conflict", 409)
    for name, value in (("value", new_value), ("scope", new_scope)):
        set_committed_value(label, name, value)
    db.session.expire(label, ["updated_at"])


def set_value(user: User, key: str, value: str, scope: str = "private") -> Label:
    """Create or update the label `key` in `scope` (Barong's `find_or_create … update`)."""
    label = find(user, key, scope)
    if label is None:
        return add(user, key, value, scope)
    if label.value != normalize(value):
        update(label, value=value)
    return label


def delete(label: Label) -> None:
    user, was_private, key = label.user, label.scope == "private", label.key
    user.labels.remove(label)
    db.session.delete(label)
    db.session.flush()
    if was_private:
        _private_label_changed(user, None)
    _waiting_may_change(user, key)


def _waiting_may_change(user: User, key: str) -> None:
    """The KYC queue's `users.kyc_waiting_since` reads the `document` label (its value and its
    `updated_at`): tell the verification layer, which recomputes it (barong.signals)."""
    if key == "document":
        signals.kyc_waiting_changed.send(user)


def _private_label_changed(user: User, label: Label | None) -> None:
    if label is not None and label.key == "document" and label.scope == "private" and label.value in (
            "verified", "rejected"):
        events.emit(f"system.document.{label.value}", _record(label))
    recompute(user)


def level_for(user: User) -> int:
    private = user.private_labels()
    level = 0
    for lvl in db.session.query(Level).order_by(Level.id):
        if private.get(lvl.key) != lvl.value:
            break
        level = lvl.id
    return level


def state_for(user: User) -> str:
    from barong.settings import settings

    cfg = settings()
    private = user.private_labels()
    state = "pending"
    reqs = cfg.activation_requirements or {}
    if all(private.get(str(k)) == str(v) for k, v in reqs.items()):
        state = "active"
    keys = {l.key for l in user.labels}
    for trigger_state, trigger_keys in (cfg.state_triggers or {}).items():
        if keys & {str(k) for k in trigger_keys or []}:
            state = trigger_state
    return state


def recompute(user: User) -> None:
    """Level and state from labels (data-model.md §2, §5); saves only what changed."""
    from barong.services.accounts import users

    changes = {}
    level = level_for(user)
    if level != user.level:
        changes["level"] = user.level
        user.level = level
    state = state_for(user)
    if state != user.state:
        changes["state"] = user.state
        users.apply_state(user, state)
    if changes:
        db.session.flush()
        events.emit("model.user.updated", events.user_summary(user, omit_nulls=True), changes)
