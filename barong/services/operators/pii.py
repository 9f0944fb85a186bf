"""Personal data shown to operators (issue 17, "PII reveals are logged").

Names, date of birth, address, postcode, phone numbers, document numbers and document
files are masked in the console and the admin API for an operator whose role lacks
`read PersonalData` (an extension subject, barong.services.access.abilities: superadmin
and admin by default, so the admin API's bodies for them are unchanged).

An operator whose role has `reveal PersonalData` (superadmin, admin, compliance by
default; not support nor technical) may reveal one user's data by giving a reason
(required, at most 255 characters). A reveal writes exactly one admin activity
(topic `pii`, action `reveal`, the target's uid, data `{reason, fields}`; through the admin
API the POST's AUDIT row from the permission table is that row, see
admin_activities.already_audited) and leaves a kv
mark keyed by operator uid + target uid holding the revealed `fields`, so the operator
sees *those* fields of that user for BARONG_PII_REVEAL_TTL seconds (default 600); the
others stay masked (`names`: first and last name; `dob`; `address`: address and postcode;
`phones`; `documents`: document numbers and files). Document files of a masked user are refused
(403 in the console) until revealed; every document file shown is one admin activity
(topic `pii`, action `document_file`). The management API is unchanged (unmasked, as
the original).
"""
from __future__ import annotations

from flask import current_app, g, has_request_context

from barong.errors import BarongError
from barong.services.access import abilities
from barong.services.audit import admin_activities
from barong.services.infra import kv

SUBJECT = "PersonalData"
#: what a reveal may name (`fields`); none given means all of them
FIELDS = ("names", "dob", "address", "phones", "documents")
REASON_MAX = 255


def ttl() -> int:
    return int(current_app.config.get("BARONG_PII_REVEAL_TTL", 600) or 600)


def _mark(operator, uid: str) -> str:
    return f"pii_reveal:{operator.uid}:{uid}"


def always_sees(operator) -> bool:
    """Does the operator's role read personal data unmasked (no reveal needed)?"""
    return abilities.can(operator, "read", SUBJECT)


def may_reveal(operator) -> bool:
    return always_sees(operator) or abilities.can(operator, "reveal", SUBJECT)


def _fields_of(raw) -> frozenset:
    """The fields a reveal mark names ("1", the mark before fields were kept: all of them)."""
    if raw is None:
        return frozenset()
    text = raw.decode() if isinstance(raw, bytes) else str(raw)
    if text == "1":
        return frozenset(FIELDS)
    return frozenset(f for f in text.split(",") if f in FIELDS)


def _revealed(operator, uid: str) -> frozenset:
    if not has_request_context():
        return _fields_of(kv.get(_mark(operator, uid)))
    now = g.get("pii_revealed", {}).get(uid)
    if now is not None:
        return now
    memo = g.setdefault("_pii_marks", {})  # one kv read per (operator, user) per request
    key = (operator.uid, uid)
    if key not in memo:
        memo[key] = _fields_of(kv.get(_mark(operator, uid)))
    return memo[key]


def sees(operator, uid: str | None, field: str | None = None) -> bool:
    """May `operator` see user `uid`'s personal data right now (role, or a live reveal)?
    `field` (one of FIELDS): that part; None: all of it (a reveal of only some fields is
    not enough)."""
    if operator is None or uid is None:
        return False
    if always_sees(operator):
        return True
    revealed = _revealed(operator, uid)
    return field in revealed if field is not None else revealed >= set(FIELDS)


def reveal(operator, uid: str, reason: str | None, fields=None):
    """Reveal user `uid`'s personal data to `operator` — only `fields` (a list or a
    comma-separated string of FIELDS; none: all). 401 admin.ability.not_permitted without
    the ability, 422 admin.pii.missing_reason / admin.pii.reason_too_long /
    admin.pii.invalid_field (a name not in FIELDS), 404 admin.user.doesnt_exist. Returns the
    user (KYC relations loaded)."""
    from barong.services.operators import admin_users

    if not may_reveal(operator):
        raise BarongError("admin.ability.not_permitted", 401)
    reason = (reason or "").strip()
    if not reason:
        raise BarongError("admin.pii.missing_reason", 422)
    if len(reason) > REASON_MAX:
        raise BarongError("admin.pii.reason_too_long", 422)
    if isinstance(fields, str):
        fields = [f.strip() for f in fields.split(",") if f.strip()]
    if fields is not None and not isinstance(fields, (list, tuple, set, frozenset)):
        raise BarongError("admin.pii.invalid_field", 422)
    if any(not isinstance(f, str) or f not in FIELDS for f in fields or ()):
        raise BarongError("admin.pii.invalid_field", 422)
    fields = [f for f in FIELDS if f in set(fields or FIELDS)]  # the catalogue's order, no repeats
    user = admin_users.get(uid, full=True)
    admin_activities.audit(operator, "pii", "reveal", target_uid=user.uid,
                           data={"reason": reason, "fields": fields})
    # a later reveal of other fields adds to a live one (the mark's TTL starts again)
    shown = _fields_of(kv.get(_mark(operator, user.uid))) | set(fields)
    kv.set(_mark(operator, user.uid), ",".join(f for f in FIELDS if f in shown), ttl())
    if has_request_context():
        g.pii_revealed = {**g.get("pii_revealed", {}), user.uid: frozenset(shown)}
        g.pop("_pii_marks", None)
    return user


def document_viewed(operator, doc) -> None:
    """One admin activity per document file shown (who, whose, which document)."""
    owner = doc.user.uid if doc.user is not None else None
    admin_activities.audit(operator, "pii", "document_file", target_uid=owner,
                           data={"document_id": doc.id, "doc_type": doc.doc_type,
                                 "doc_category": getattr(doc, "doc_category", None)})

