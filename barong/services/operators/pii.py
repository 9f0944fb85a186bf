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
mark keyed by operator uid + target uid, so the operator sees that user's data for
BARONG_PII_REVEAL_TTL seconds (default 600). Document files of a masked user are refused
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


def sees(operator, uid: str | None) -> bool:
    """May `operator` see user `uid`'s personal data right now (role, or a live reveal)?"""
    if operator is None or uid is None:
        return False
    if always_sees(operator):
        return True
    if not has_request_context():
        return kv.get(_mark(operator, uid)) is not None
    if uid in g.get("pii_revealed", ()):
        return True
    memo = g.setdefault("_pii_marks", {})  # one kv read per (operator, user) per request
    key = (operator.uid, uid)
    if key not in memo:
        memo[key] = kv.get(_mark(operator, uid)) is not None
    return memo[key]


def reveal(operator, uid: str, reason: str | None, fields=None):
    """Reveal user `uid`'s personal data to `operator`: 401 admin.ability.not_permitted without
    the ability, 422 admin.pii.missing_reason / admin.pii.reason_too_long /
    admin.pii.invalid_field, 404 admin.user.doesnt_exist. Returns the user (KYC relations loaded)."""
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
    fields = list(fields or FIELDS)
    if any(f not in FIELDS for f in fields):
        raise BarongError("admin.pii.invalid_field", 422)
    user = admin_users.get(uid, full=True)
    admin_activities.audit(operator, "pii", "reveal", target_uid=user.uid,
                           data={"reason": reason, "fields": fields})
    kv.set(_mark(operator, user.uid), "1", ttl())
    if has_request_context():
        g.pii_revealed = set(g.get("pii_revealed", ())) | {user.uid}
    return user


def document_viewed(operator, doc) -> None:
    """One admin activity per document file shown (who, whose, which document)."""
    owner = doc.user.uid if doc.user is not None else None
    admin_activities.audit(operator, "pii", "document_file", target_uid=owner,
                           data={"document_id": doc.id, "doc_type": doc.doc_type,
                                 "doc_category": getattr(doc, "doc_category", None)})

