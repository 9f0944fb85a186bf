"""User data storage: small JSON documents under the titles `barong.yml` allows
(`user_storage_titles`), each marked by a private label `<title>: recorded`."""
from __future__ import annotations

import json

from barong.errors import ValidationError
from barong.extensions import db
from barong.models import DataStorage, User, iso
from barong.services.delivery import events
from barong.services.infra.unit_of_work import add_unique

EXCLUDED_TITLES = ("document", "label", "profile", "phone", "user")
MAX_DATA = 5120


def record(ds: DataStorage) -> dict:
    return {"user": events.user_summary(ds.user, omit_nulls=True), "title": ds.title, "data": ds.data,
            "created_at": iso(ds.created_at), "updated_at": iso(ds.updated_at)}


def validate(user: User | None, title: str | None, data: str | None, existing: DataStorage | None = None) -> list[str]:
    from barong.settings import settings

    errors = []
    title = (title or "").strip().lower()
    if not title:
        errors.append("title.blank")
    elif len(title) > 64:
        errors.append("title.too_long")
    allowed = [str(t).lower() for t in (settings().user_storage_titles or [])]
    if title and title not in allowed:
        errors.append("title.inclusion")
    if title in EXCLUDED_TITLES:
        errors.append("title.exclusion")
    if data is None or str(data).strip() == "":
        errors.append("data.blank")
    elif len(data) > MAX_DATA:
        errors.append("data.too_long")
    else:
        try:
            json.loads(data)
        except (ValueError, TypeError):
            errors.append("data.invalid_format")
    if user is not None and title and not errors:
        other = db.session.query(DataStorage).filter_by(user_id=user.id, title=title).first()
        if other is not None and other is not existing:
            errors.append("title.taken")
    return errors


_TITLE_TAKEN = {name: (lambda: ValidationError("title.taken"))
                for name in ("uq_data_storages_user_title", "data_storages.title")}


def create(user: User, title: str, data) -> DataStorage:
    """Store `data` (a JSON string, or an object serialised for you) under `title`.

    Raises ValidationError: title.inclusion / title.exclusion (reported together),
    title.taken, data.invalid_format, data.too_long. Adds the private label
    `<title>: recorded` (silently skipped when it cannot be created) and emits
    model.data_storage.created.
    """
    if isinstance(data, (dict, list)):
        data = json.dumps(data)
    errors = validate(user, title, data)
    if errors:
        raise ValidationError(errors)
    ds = DataStorage(user_id=user.id, title=title.strip().lower(), data=data)
    add_unique(ds, _TITLE_TAKEN)  # a concurrent create of the same title passed `validate` too
    if ds not in user.data_storages:  # loading the collection may have found it already
        user.data_storages.append(ds)
    from barong.services.accounts import labels

    try:
        labels.add(user, ds.title, "recorded", scope="private")
    except ValidationError:
        pass  # Barong: the label is best effort (an existing one, a title too short for a key)
    events.emit("model.data_storage.created", record(ds))
    return ds


def update(ds: DataStorage, data) -> DataStorage:
    """Replace the data. Raises ValidationError (data.*)."""
    if isinstance(data, (dict, list)):
        data = json.dumps(data)
    errors = [e for e in validate(None, ds.title, data) if e.startswith("data.")]
    if errors:
        raise ValidationError(errors)
    old = ds.data
    ds.data = data
    db.session.flush()
    if old != data:
        events.emit("model.data_storage.updated", record(ds), {"data": old})
    return ds


def delete(ds: DataStorage) -> None:
    user = ds.user
    if ds in user.data_storages:
        user.data_storages.remove(ds)
    db.session.delete(ds)
    db.session.flush()
