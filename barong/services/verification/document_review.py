"""Per-document KYC decisions (issue 14): each document — identity front / back side,
selfie, proof of address — is approved, rejected (final) or sent back for re-upload
(retry) on its own; the applicant's labels follow the documents.

Outcomes and reasons (barong.services.verification.kyc_reasons):

* `approve` — no reason needed (one given must still exist in the catalogue);
* `reject` — final: needs a catalogue reason of kind `final`; the same document (type +
  number) cannot be uploaded again by this user (documents.create refuses it);
* `retry` — needs a reason of kind `retry`; the user is asked for that document again and a
  new upload of the same slot puts the applicant back in the queue.

A reason must fit the document (`applies_to`), else 422 kyc.reason.not_applicable. The
note (to the user) and the internal note (colleagues only) are optional free text.

Labels (`recompute_labels`), always through the label service, so level/state and the
original's events (`model.label.*`, `system.document.*`) and mails follow:

* identity documents (everything but `Address`): the latest document of each slot of the
  identity set counts (slots: `identity.required` of the catalogue file, plus `back_side`
  for `identity.back_side_types`; a document without a category is a `front_side`).
  Any slot finally rejected → `document: rejected`; every slot approved →
  `document: verified`; a slot expired (and nothing waiting) → `document: expired`;
  else `document: pending` (waiting for review, to be re-uploaded, or not uploaded yet).
* proof of address (the latest `Address` document): approved → `address: verified`,
  rejected → `address: rejected`, expired → `address: expired`, else `address: pending`.

Concurrency: the decision is a compare-and-set on `review_state = 'pending'`, so of two
reviewers deciding one document at once exactly one wins; the other gets 409
admin.kyc.not_pending (or admin.kyc.claimed when the winner still holds the applicant).
A live claim of another reviewer (kyc_review.claim) refuses with 409 admin.kyc.claimed.
Every refusal raises before anything is written, or inside the transaction the request
rolls back.
"""
from __future__ import annotations

from sqlalchemy import update

from barong.errors import BarongError
from barong.extensions import db
from barong.models import Document, DocumentDecision, User, iso, utcnow
from barong.services.access import abilities
from barong.services.audit import admin_activities
from barong.services.delivery import events
from barong.services.verification import kyc_reasons

OUTCOMES = {"approve": "approved", "reject": "rejected", "retry": "retry"}
#: the reason kind each negative outcome needs
REASON_KIND = {"reject": "final", "retry": "retry"}
NOTE_MAX = 1000
#: ability a per-document decision needs (abilities.EXTENSION_SUBJECTS); reading the
#: catalogue / states needs `read DocumentReview`
SUBJECT = "DocumentReview"


# ---- slots -----------------------------------------------------------------------------------

def slot_of(document: Document) -> str:
    """front_side | back_side | selfie | address: the place a document fills."""
    if document.doc_type == "Address":
        return "address"
    return document.doc_category or "front_side"


def _latest_by_slot(docs) -> dict[str, Document]:
    latest: dict[str, Document] = {}
    for doc in sorted(docs, key=lambda d: d.id):
        latest[slot_of(doc)] = doc
    return latest


def required_slots(latest: dict[str, Document]) -> list[str]:
    """The identity set this applicant needs, given the front side they uploaded."""
    cat = kyc_reasons.load()
    slots = list(cat.required)
    front = latest.get("front_side")
    if front is not None and front.doc_type in cat.back_side_types and "back_side" not in slots:
        slots.insert(1 if "front_side" in slots else 0, "back_side")
    return slots


def _documents(user: User) -> list[Document]:
    return db.session.query(Document).filter_by(user_id=user.id).order_by(Document.id).all()


def identity_value(user: User, docs: list[Document] | None = None) -> str | None:
    """What the `document` label should say; None when the user has no identity document."""
    docs = [d for d in (docs if docs is not None else _documents(user)) if d.doc_type != "Address"]
    if not docs:
        return None
    latest = _latest_by_slot(docs)
    states = [latest[s].review_state if s in latest else "missing" for s in required_slots(latest)]
    if any(d.review_state == "rejected" for d in latest.values()):
        return "rejected"
    if states and all(s == "approved" for s in states):
        return "verified"
    if "expired" in states and "pending" not in states:
        return "expired"
    return "pending"


def address_value(user: User, docs: list[Document] | None = None) -> str | None:
    docs = [d for d in (docs if docs is not None else _documents(user)) if d.doc_type == "Address"]
    if not docs:
        return None
    state = docs[-1].review_state
    return {"approved": "verified", "rejected": "rejected", "expired": "expired"}.get(state, "pending")


def recompute_labels(user: User, actor: User | None = None, keys=("document", "address")) -> dict[str, str]:
    """Set `document` / `address` (those in `keys`) from the documents (see module docstring)
    through the label service; a submitted profile follows a `document` verified/rejected as with
    the whole-applicant decision. Returns the labels written `{key: value}` (unchanged ones omitted)."""
    from barong.services.accounts import labels

    docs = _documents(user)
    written = {}
    current = user.private_labels()
    for key, value in (("document", identity_value(user, docs)), ("address", address_value(user, docs))):
        if key not in keys or value is None or current.get(key) == value:
            continue
        labels.set_value(user, key, value, scope="private")
        written[key] = value
    if written.get("document") in ("verified", "rejected") and actor is not None:
        _profile_follows(user, written["document"], actor)
    return written


def _profile_follows(user: User, state: str, actor: User) -> None:
    """A `submitted` profile follows the `document` label, as with the whole-applicant decision
    (admin_actions.review_profile: 422 admin.profiles.second_admin_approval refuses it all)."""
    from barong.services.operators import admin_actions

    if any(p.state == "submitted" for p in user.profiles):
        admin_actions.review_profile(user, state, actor=actor, audit=False)


# ---- the decision ----------------------------------------------------------------------------

def _clean(value, name: str) -> str | None:
    value = (value or "").strip() if isinstance(value, str) or value is None else str(value).strip()
    if value and len(value) > NOTE_MAX:
        raise BarongError(f"kyc.{name}.too_long", 422)
    return value or None


def check_reason(outcome: str, reason: str | None, document: Document) -> kyc_reasons.Reason | None:
    """Validate the reason for `outcome` on `document` (module docstring); raises 422 kyc.reason.*."""
    reason = (reason or "").strip() or None
    if reason is None:
        if outcome in REASON_KIND:
            raise BarongError("kyc.reason.missing", 422)
        return None
    entry = kyc_reasons.get(reason)
    if outcome in REASON_KIND and entry.kind != REASON_KIND[outcome]:
        raise BarongError("kyc.reason.wrong_kind", 422)
    if not entry.fits(kyc_reasons.document_kind(document)):
        raise BarongError("kyc.reason.not_applicable", 422)
    return entry


def document_record(document: Document) -> dict:
    """The event record of a reviewed document: documents.record + the review fields, the
    reason's text in every catalogue language (the mailer picks the user's)."""
    from barong.services.verification import documents

    data = documents.record(document)
    entry = kyc_reasons.load().reasons.get(document.review_reason or "")
    data.update({"id": document.id, "doc_category": document.doc_category, "review_state": document.review_state,
                 "review_reason": document.review_reason,
                 "review_reason_text": dict(entry.text) if entry else None,
                 "review_note": document.review_note, "reviewed_at": iso(document.reviewed_at)})
    return {k: v for k, v in data.items() if v is not None}


def decide_document(document: Document, reviewer: User, outcome: str, reason: str | None = None,
                    note: str | None = None, internal_note: str | None = None, *,
                    audit: bool = True) -> Document:
    """Approve, reject or send back one document (module docstring).

    Raises 422 admin.kyc.invalid_decision, kyc.reason.missing|unknown|wrong_kind|not_applicable,
    kyc.note.too_long, kyc.internal_note.too_long, 401 admin.ability.not_permitted (no
    `update DocumentReview`), 422 admin.user.update_himself / admin.user.superadmin_change,
    409 admin.kyc.claimed (another reviewer holds the applicant), 409 admin.kyc.not_pending
    (already decided — also the loser of two simultaneous decisions).
    Writes: the document's review fields, a DocumentDecision row, `model.document.updated`
    (mailed to the user for reject / retry), an admin audit row, then the labels.
    """
    from barong.services.verification import kyc_review

    new_state = OUTCOMES.get(outcome)
    if new_state is None:
        raise BarongError("admin.kyc.invalid_decision", 422)
    entry = check_reason(outcome, reason, document)
    note, internal_note = _clean(note, "note"), _clean(internal_note, "internal_note")
    abilities.authorize(reviewer, "update", SUBJECT)
    applicant = document.user
    if applicant.id == reviewer.id:
        raise BarongError("admin.user.update_himself", 422)
    if applicant.role == "superadmin" and reviewer.role != "superadmin":
        raise BarongError("admin.user.superadmin_change", 422)
    kyc_review.claim(applicant, reviewer)  # 409 admin.kyc.claimed when someone else holds it
    now = utcnow()
    result = db.session.execute(
        update(Document).where(Document.id == document.id, Document.review_state == "pending")
        .values(review_state=new_state, review_reason=entry.code if entry else None, review_note=note,
                reviewed_by_id=reviewer.id, reviewed_at=now, updated_at=now)
        .execution_options(synchronize_session=False))
    if result.rowcount != 1:
        raise BarongError("admin.kyc.not_pending", 409)
    db.session.refresh(document)
    db.session.add(DocumentDecision(document_id=document.id, user_id=applicant.id, reviewer_id=reviewer.id,
                                    outcome=outcome, reason=entry.code if entry else None, note=note,
                                    internal_note=internal_note, uploaded_at=document.created_at, created_at=now))
    db.session.flush()
    events.emit("model.document.updated", document_record(document), {"review_state": "pending"})
    admin_activities.audit(reviewer, "kyc", f"document {outcome}", target_uid=applicant.uid,
                           data={"document_id": document.id, "doc_type": document.doc_type,
                                 "doc_category": document.doc_category, "outcome": outcome,
                                 "reason": entry.code if entry else None, "note": note,
                                 "internal_note": internal_note}, audit=audit)
    recompute_labels(applicant, reviewer)
    kyc_review.refresh_waiting(applicant)
    if not kyc_review.is_pending(applicant):
        kyc_review.release(applicant, reviewer)
    return document


def settle_all(applicant: User, reviewer: User, decision: str, reason: str | None = None) -> list[Document]:
    """The whole-applicant decision (kyc_review.decide, the original's API): every pending document
    of `applicant` — identity and proof of address — becomes approved (`approve`) or rejected
    (`reject`, the free-text reason as the note to the user, no catalogue code), one
    DocumentDecision row each. The caller sets the `document` label as the original does; the
    `address` label follows here. No per-document event or mail: the label mail is the decision's."""
    outcome = "approve" if decision == "approve" else "reject"
    state = OUTCOMES[outcome]
    now = utcnow()
    docs = pending_documents(applicant)
    if docs:
        db.session.execute(
            update(Document).where(Document.id.in_([d.id for d in docs]), Document.review_state == "pending")
            .values(review_state=state, review_reason=None, review_note=reason if outcome == "reject" else None,
                    reviewed_by_id=reviewer.id, reviewed_at=now, updated_at=now)
            .execution_options(synchronize_session=False))
        for doc in docs:
            db.session.refresh(doc)
            db.session.add(DocumentDecision(document_id=doc.id, user_id=applicant.id, reviewer_id=reviewer.id,
                                            outcome=outcome, note=doc.review_note, uploaded_at=doc.created_at,
                                            created_at=now))
        db.session.flush()
    recompute_labels(applicant, reviewer, keys=("address",))
    return docs


def pending_documents(user: User) -> list[Document]:
    return (db.session.query(Document).filter_by(user_id=user.id, review_state="pending")
            .order_by(Document.id).all())


def decisions_for(user: User) -> list[DocumentDecision]:
    """The applicant's decision history, newest first."""
    return (db.session.query(DocumentDecision).filter_by(user_id=user.id)
            .order_by(DocumentDecision.id.desc()).all())


# ---- what the user sees ----------------------------------------------------------------------

def _doc_state(doc: Document, latest: dict[str, Document], lang: str) -> dict:
    slot = slot_of(doc)
    current = latest.get(slot) is doc
    return {"id": doc.id, "doc_type": doc.doc_type, "doc_category": doc.doc_category, "slot": slot,
            "kind": kyc_reasons.document_kind(doc), "state": doc.review_state, "reason": doc.review_reason,
            "reason_text": kyc_reasons.text(doc.review_reason, lang), "note": doc.review_note,
            "current": current, "reupload": current and doc.review_state in ("retry", "expired"),
            "final": doc.review_state == "rejected"}


def document_states(user: User, lang: str | None = "en") -> dict:
    """Everything the user pages and the API show about the review, in `lang`:

    `documents`: per document (upload order) {id, doc_type, doc_category, slot, kind, state,
    reason, reason_text, note, current (the latest of its slot), reupload (must be sent
    again), final}; `identity` / `address`: the summary {label, slots: [{slot, state
    ('missing' when never uploaded), reason_text, note, upload (an upload is asked for)}]}.
    """
    docs = _documents(user)
    latest = _latest_by_slot(docs)
    labels = user.private_labels()
    out = {"documents": [_doc_state(d, latest, lang) for d in docs]}
    by_id = {d["id"]: d for d in out["documents"]}
    identity_slots = required_slots(latest)
    identity_slots += [s for s in ("front_side", "back_side", "selfie") if s in latest and s not in identity_slots]

    def summary(slots):
        rows = []
        for slot in slots:
            doc = latest.get(slot)
            if doc is None:
                rows.append({"slot": slot, "state": "missing", "reason": None, "reason_text": None, "note": None,
                             "upload": True, "document_id": None})
                continue
            entry = by_id[doc.id]
            rows.append({"slot": slot, "state": entry["state"], "reason": entry["reason"],
                         "reason_text": entry["reason_text"], "note": entry["note"],
                         "upload": entry["reupload"], "document_id": doc.id})
        return rows

    out["identity"] = {"label": labels.get("document"), "slots": summary(identity_slots)}
    out["address"] = {"label": labels.get("address"), "slots": summary(["address"])}
    return out


def must_reupload(user: User) -> list[str]:
    """Slots the user is asked to send again (retry or expired)."""
    states = document_states(user)
    return [row["slot"] for part in ("identity", "address") for row in states[part]["slots"]
            if row["state"] in ("retry", "expired")]
