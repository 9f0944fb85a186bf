"""KYC profiles: create/update by the user, state changes by reviewers.

A user has many profiles (history) but at most one open (`drafted`/`submitted`) one.
Every change syncs the user's private label `profile` to the profile's state (→ level
and state recomputation) and emits `model.profile.created|updated`. PII fields
(first/last name, dob, address) are encrypted by the model's properties.
"""
from __future__ import annotations

import json
import re
from datetime import date

from barong.dates import parse_date
from barong.errors import BarongError, ValidationError
from barong.extensions import db
from barong.models import PROFILE_STATES, Profile, User, iso
from barong.services.delivery import events

FIELDS = ("first_name", "last_name", "dob", "address", "postcode", "city", "country", "metadata")
COUNTRY_ERROR = "country.must have alpha2 or alpha3 format"  # Barong's custom message, rendered as its code

_W = r"\w"  # Python's \w is Unicode-aware: letters/digits/underscore of any script
FORMATS = {
    "first_name": (re.compile(rf"^[{_W}\s\-']+$"), 1),
    "last_name": (re.compile(rf"^[{_W}\s\-']+$"), 1),
    "city": (re.compile(rf"^[{_W}\s\-–.~']+$"), 1),
    "postcode": (re.compile(rf"^[{_W}\s\-]+$"), 2),
    "address": (re.compile(rf"^[{_W}\s\-–,.~;/:#\"\\&'()]+$"), 1),
}
SQUISHED = ("first_name", "last_name", "city", "postcode")


def _squish(value):
    return " ".join(value.split()) if isinstance(value, str) else value


def _country(value: str) -> str | None:
    import pycountry

    v = value.strip()
    try:
        found = pycountry.countries.get(alpha_2=v) if len(v) == 2 else (
            pycountry.countries.get(alpha_3=v) if len(v) == 3 else None)
    except (KeyError, LookupError):
        found = None
    return found


def clean(fields: dict) -> tuple[dict, list[str]]:
    """Normalised field values (blank → None, squished, dob → date) and the model errors."""
    out: dict = {}
    errors: list[str] = []
    for name in FIELDS:
        if name not in fields:
            continue
        value = fields[name]
        if isinstance(value, str) and value.strip() == "":
            value = None
        if name in SQUISHED:
            value = _squish(value)
        out[name] = value
        if value is None:
            continue
        if name in FORMATS:
            pattern, minimum = FORMATS[name]
            value = str(value)
            if len(value) < minimum:
                errors.append(f"{name}.too_short")
            elif len(value) > 255:
                errors.append(f"{name}.too_long")
            elif not pattern.match(value):
                errors.append(f"{name}.invalid")
        elif name == "country":
            if _country(str(value)) is None:
                errors.append(COUNTRY_ERROR)
        elif name == "dob":
            if not isinstance(value, date):
                try:
                    value = parse_date(str(value))  # ISO or day-first, as Barong's `type: Date`
                except ValueError:
                    errors.append("dob.invalid_format")
                    continue
            out[name] = value
            if value > date.today():
                errors.append("dob.invalid")
        elif name == "metadata":
            if isinstance(value, (dict, list)):
                value = out[name] = json.dumps(value)
            try:
                json.loads(value)
            except (ValueError, TypeError):
                errors.append("metadata.invalid_format")
    return out, errors


def validate(fields: dict) -> list[str]:
    """The model errors (`first_name.invalid`, `dob.invalid`, `metadata.invalid_format`, …) of `fields`."""
    return clean(fields)[1]


def _assign(profile: Profile, values: dict) -> dict:
    """Set `values` on `profile`; returns the previous values of the fields that changed."""
    changes = {}
    for name, value in values.items():
        if name == "dob":
            new = value.isoformat() if isinstance(value, date) else value
            old = profile.dob
            if old != new:
                changes["dob"] = old
                profile.dob = new
        elif name == "metadata":
            if profile.metadata_json != value:
                changes["metadata"] = profile.metadata_json
                profile.metadata_json = value
        elif name == "country":
            value = value.strip().upper() if value else value
            if profile.country != value:
                changes["country"] = profile.country
                profile.country = value
        else:
            old = getattr(profile, name)
            if old != value:
                changes[name] = old
                setattr(profile, name, value)
    return changes


def record(profile: Profile) -> dict:
    """Event record: the user and the unmasked fields, nulls omitted."""
    data = {"user": events.user_summary(profile.user, omit_nulls=True), "first_name": profile.first_name,
            "last_name": profile.last_name, "dob": profile.dob, "address": profile.address,
            "postcode": profile.postcode, "city": profile.city, "country": profile.country,
            "metadata": profile.metadata_json, "created_at": iso(profile.created_at),
            "updated_at": iso(profile.updated_at)}
    return {k: v for k, v in data.items() if v is not None}


def open_profile(user: User) -> Profile | None:
    return db.session.query(Profile).filter(
        Profile.user_id == user.id,
        Profile.state_value.in_([PROFILE_STATES["drafted"], PROFILE_STATES["submitted"]])).first()


def _sync_label(profile: Profile) -> None:
    from barong.services.accounts import labels

    labels.set_value(profile.user, "profile", profile.state, scope="private")


def create(user: User, fields: dict, confirm: bool = False, author: str | None = None,
           state: str | None = None) -> Profile:
    """New profile: `drafted`, `submitted` with `confirm`, or `state` (admin/management).

    Raises 409 state.exists when an open profile exists (unless the new state is
    verified/rejected), 422 state.inclusion, or ValidationError with the field errors.
    """
    state = state or ("submitted" if confirm else "drafted")
    if state not in PROFILE_STATES:
        raise ValidationError("state.inclusion")
    values, errors = clean(fields)
    if errors:
        raise ValidationError(errors)
    if state not in ("verified", "rejected") and open_profile(user) is not None:
        raise BarongError("state.exists", 409)
    profile = Profile(author=author)
    profile.state = state
    _assign(profile, values)
    user.profiles.append(profile)  # via the relationship: the collection holds it exactly once
    db.session.flush()
    _sync_label(profile)
    events.emit("model.profile.created", record(profile))
    return profile


def update(user: User, fields: dict, confirm: bool = False) -> Profile:
    """Edit the user's `drafted` profile (`confirm` → `submitted`).

    Raises 404 resource.profile.doesnt_exist_or_not_editable, ValidationError.
    """
    profile = db.session.query(Profile).filter_by(user_id=user.id,
                                                  state_value=PROFILE_STATES["drafted"]).first()
    if profile is None:
        raise BarongError("resource.profile.doesnt_exist_or_not_editable", 404)
    values, errors = clean(fields)
    if errors:
        raise ValidationError(errors)
    changes = _assign(profile, values)
    if confirm:
        changes["state"] = profile.state
        profile.state = "submitted"
    db.session.flush()
    _sync_label(profile)
    events.emit("model.profile.updated", record(profile), changes or None)
    return profile


def admin_update(profile: Profile, fields: dict, state: str | None = None) -> Profile:
    """Reviewer edit of any profile's fields (and optionally its state). Raises ValidationError."""
    values, errors = clean(fields)
    if errors:
        raise ValidationError(errors)
    changes = _assign(profile, values)
    db.session.flush()
    if state is not None and state != profile.state:
        return set_state(profile, state, _changes=changes)
    events.emit("model.profile.updated", record(profile), changes or None)
    return profile


def set_state(profile: Profile, state: str, _changes: dict | None = None) -> Profile:
    """Move a profile to `state` (drafted/submitted/verified/rejected) and sync the `profile` label.

    Raises 422 state.inclusion for an unknown state.
    """
    if state not in PROFILE_STATES:
        raise ValidationError("state.inclusion")
    changes = dict(_changes or {})
    if profile.state != state:
        changes["state"] = profile.state
        profile.state = state
    db.session.flush()
    _sync_label(profile)
    events.emit("model.profile.updated", record(profile), changes or None)
    return profile


def list_for(user: User) -> list[Profile]:
    return db.session.query(Profile).filter_by(user_id=user.id).order_by(Profile.id).all()
