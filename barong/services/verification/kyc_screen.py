"""What the KYC review screen shows beside the files: the applicant's documents in the order a
reviewer compares them, the flags worth a second look, and the applicant's history.

Everything here reads; nothing writes. The lookups that cross accounts go through the
encrypted columns' CRC32 indexes (`documents.doc_number_index`, `profiles.first_name_index` /
`last_name_index`) and are confirmed on the decrypted values, so a CRC collision never raises a
false flag and no other account's personal data is decrypted beyond the few candidates.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy.orm import lazyload

from barong.extensions import db
from barong.models import Activity, Comment, Document, DocumentDecision, Phone, Profile, User
from barong.models.base import name_key
from barong.security.crypto import crc32_index, decrypt

#: a document expiring within this many days is flagged (and the expiry watcher warns the user)
EXPIRY_WARNING_DAYS = 30
#: the side a document shows, in the order the screen lays them out
SIDES = {"front_side": "front", "back_side": "back", "selfie": "selfie"}
_SIDE_ORDER = {"front_side": 0, "back_side": 1, None: 2, "selfie": 3}
#: history rows shown (newest first)
HISTORY_LIMIT = 60


@dataclass
class Flag:
    code: str                       # same_document_number | same_name_dob | expires_soon | expired | country_mismatch
    detail: dict = field(default_factory=dict)
    uids: list[str] = field(default_factory=list)  # the other accounts, for links


def side_of(document: Document) -> str | None:
    """`front`, `back`, `selfie`, `address` (proof of address) or None (no category given)."""
    if document.doc_type == "Address":
        return "address"
    return SIDES.get(document.doc_category or "")


def is_address(document: Document) -> bool:
    return document.doc_type == "Address"


def grouped_documents(user: User) -> tuple[list[Document], list[Document], list[Document]]:
    """`(identity, address, older)`: the current identity set laid out front, back, (uncategorised),
    selfie — for each side only its newest upload —, the newest proofs of address, and every
    superseded upload (newest first) for the history column."""
    docs = sorted(user.documents, key=lambda d: d.id, reverse=True)
    current: dict = {}
    older = []
    for d in docs:
        key = ("address",) if is_address(d) else ("id", d.doc_category or f"none-{d.identificator}")
        if key in current:
            older.append(d)
        else:
            current[key] = d
    identity = sorted((d for k, d in current.items() if k[0] == "id"),
                      key=lambda d: (_SIDE_ORDER.get(d.doc_category, 2), -d.id))
    address = [d for k, d in current.items() if k[0] == "address"]
    return identity, address, older


def latest_profile(user: User) -> Profile | None:
    return user.profiles[-1] if user.profiles else None


def _metadata_country(document: Document) -> str | None:
    try:
        meta = json.loads(document.metadata_json or "{}")
    except ValueError:
        return None
    if not isinstance(meta, dict):
        return None
    value = meta.get("country") or meta.get("issuing_country")
    return str(value).strip().upper()[:3] if value else None


def _other_accounts_with_number(user: User, number: str) -> list[str]:
    rows = (db.session.query(Document.user_id, Document.doc_number_encrypted)
            .filter(Document.doc_number_index == crc32_index(number), Document.user_id != user.id).limit(50).all())
    ids = set()
    for user_id, encrypted in rows:
        if (decrypt(encrypted) or "").upper() == number.upper():
            ids.add(user_id)
    return _uids(ids)


def _other_accounts_with_name_dob(user: User, profile: Profile) -> list[str]:
    first, last = name_key(profile.first_name), name_key(profile.last_name)
    if not (first and last and profile.dob):
        return []
    rows = (db.session.query(Profile).options(lazyload("*"))
            .filter(Profile.first_name_index == crc32_index(first), Profile.last_name_index == crc32_index(last),
                    Profile.user_id != user.id).limit(50).all())
    ids = {p.user_id for p in rows
           if name_key(p.first_name) == first and name_key(p.last_name) == last and str(p.dob) == str(profile.dob)}
    return _uids(ids)


def _uids(ids) -> list[str]:
    if not ids:
        return []
    return [uid for (uid,) in db.session.query(User.uid).filter(User.id.in_(sorted(ids))).order_by(User.id)]


def flags(user: User, today: date | None = None) -> list[Flag]:
    """The flags of the review screen, each with what triggered it:

    * `same_document_number` — one of the applicant's document numbers is on another account;
    * `same_name_dob` — another account's profile has the same first + last name and date of birth;
    * `expires_soon` / `expired` — a current identity document expires within 30 days / has expired;
    * `country_mismatch` — the profile's country differs from a document's country (the
      document's metadata `country` / `issuing_country`, when the uploader gave one) or, when no
      document names one, from the country of the applicant's verified phone (documents carry
      no country of their own in Barong's model).
    """
    today = today or date.today()
    out: list[Flag] = []
    identity, _address, _ = grouped_documents(user)
    seen = set()
    for d in user.documents:
        number = d.doc_number
        if number and number.upper() not in seen:
            seen.add(number.upper())
            uids = _other_accounts_with_number(user, number)
            if uids:
                out.append(Flag("same_document_number", {"number": number, "doc_type": d.doc_type}, uids))
    profile = latest_profile(user)
    if profile is not None:
        uids = _other_accounts_with_name_dob(user, profile)
        if uids:
            out.append(Flag("same_name_dob", {"name": f"{profile.first_name} {profile.last_name}",
                                              "dob": str(profile.dob)}, uids))
    dates = set()
    for d in identity:
        if d.doc_expire is None or (d.doc_type, d.doc_expire) in dates:
            continue  # a front and a selfie uploaded together expire together: one flag
        dates.add((d.doc_type, d.doc_expire))
        if d.doc_expire < today:
            out.append(Flag("expired", {"doc_type": d.doc_type, "date": d.doc_expire.isoformat()}))
        elif d.doc_expire <= today + timedelta(days=EXPIRY_WARNING_DAYS):
            out.append(Flag("expires_soon", {"doc_type": d.doc_type, "date": d.doc_expire.isoformat(),
                                             "days": (d.doc_expire - today).days}))
    if profile is not None and profile.country:
        mine = profile.country.strip().upper()
        named = [(d, _metadata_country(d)) for d in user.documents]
        named = [(d, c) for d, c in named if c]
        if named:
            for d, country in named:
                if country != mine:
                    out.append(Flag("country_mismatch", {"profile": mine, "other": country,
                                                         "source": d.doc_type}))
                    break
        else:
            phone = (db.session.query(Phone).filter(Phone.user_id == user.id, Phone.validated_at.isnot(None))
                     .order_by(Phone.id.desc()).first())
            if phone is not None and phone.country and phone.country.strip().upper() != mine:
                out.append(Flag("country_mismatch", {"profile": mine, "other": phone.country.strip().upper(),
                                                     "source": "phone"}))
    return out


@dataclass
class HistoryItem:
    at: object
    kind: str            # decision | comment | activity
    title: str
    detail: dict = field(default_factory=dict)


def _decision_item(dec: DocumentDecision, doc_type: str, category: str | None, reviewer: str | None) -> HistoryItem:
    return HistoryItem(dec.created_at, "decision", dec.outcome,
                       {"doc_type": doc_type, "side": SIDES.get(category or "") or
                        ("address" if doc_type == "Address" else None),
                        "reason": dec.reason, "note": dec.note, "internal_note": dec.internal_note,
                        "reviewer": reviewer})


def decision_item(dec: DocumentDecision, document: Document, reviewer_email: str | None) -> HistoryItem:
    """The history row of one decision (the console adds it to the screen after deciding)."""
    return _decision_item(dec, document.doc_type, document.doc_category, reviewer_email)


#: admin audit topics that are about an applicant's KYC: label and profile changes, decisions
_ADMIN_TOPICS = ("kyc", "labels", "profiles", "users")
_USER_TOPICS = ("profile", "document", "documents", "kyc", "label")


def history(user: User) -> list[HistoryItem]:
    """The applicant's history, newest first: document decisions (outcome, reason, notes,
    reviewer), comments, and the activity rows about the profile, labels and documents —
    operators' audit rows targeting the applicant and the applicant's own (the expiry watcher's)."""
    items: list[HistoryItem] = []
    decisions = (db.session.query(DocumentDecision, Document.doc_type, Document.doc_category, User.email)
                 .join(Document, Document.id == DocumentDecision.document_id)
                 .outerjoin(User, User.id == DocumentDecision.reviewer_id)
                 .filter(DocumentDecision.user_id == user.id)
                 .order_by(DocumentDecision.id.desc()).limit(HISTORY_LIMIT).all())
    for dec, doc_type, category, reviewer in decisions:
        items.append(_decision_item(dec, doc_type, category, reviewer))
    for c in db.session.query(Comment).filter(Comment.user_id == user.id).order_by(Comment.id.desc()).limit(20):
        items.append(HistoryItem(c.created_at, "comment", c.title, {"text": c.data, "author": c.author_uid}))
    rows = (db.session.query(Activity, User.email).outerjoin(User, User.id == Activity.user_id)
            .filter(((Activity.category == "admin") & (Activity.target_uid == user.uid)
                     & Activity.topic.in_(_ADMIN_TOPICS))
                    | ((Activity.category == "user") & (Activity.user_id == user.id)
                       & Activity.topic.in_(_USER_TOPICS)))
            .order_by(Activity.id.desc()).limit(HISTORY_LIMIT).all())
    for a, email in rows:
        if a.category == "admin" and a.topic == "kyc" and (a.action or "").startswith("document "):
            continue  # a per-document decision: shown above from document_decisions
        try:
            data = json.loads(a.data) if a.data else {}
        except ValueError:
            data = {}
        if isinstance(data, dict):
            data = {k: v for k, v in data.items() if v not in (None, "", [], {})}
        items.append(HistoryItem(a.created_at, "activity", f"{a.topic} · {a.action}",
                                 {"actor": email if a.category == "admin" else None, "result": a.result,
                                  "data": data if isinstance(data, dict) else {}}))
    items.sort(key=lambda i: i.at or datetime.min, reverse=True)
    return items[:HISTORY_LIMIT]
