"""admin: per-document KYC decisions and the reasons catalogue (issue 14; this project's
additions, not in Barong 2.5).

`POST users/documents/decision` decides one document — named by `id` in the parameters like
the original's user writes (`POST users/labels/update` names the user by `uid`), so the RBAC
table's `admin/users` rows cover it (the seeds give `compliance` every verb there).
`GET kyc/reasons` lists the catalogue. Abilities decide next (`update` / `read DocumentReview`:
superadmin, admin and compliance decide; support reads); the service
(barong.services.verification.document_review) checks again and writes the audit row."""
from flask import jsonify

from barong.api import entities
from barong.api.auth import api_auth, current_user
from barong.api.params import Param, document, use_params
from barong.api.v2.admin import ability, bp, nonblank
from barong.errors import NotFound
from barong.extensions import db
from barong.models import Document
from barong.services.verification import document_review, kyc_reasons

S = "admin.kyc"


def _decision_entity(doc: Document) -> dict:
    return {**entities.document(doc, masked=False), "uid": doc.user.uid,
            "review_reason_text": kyc_reasons.text(doc.review_reason, "en")}


@bp.post("/users/documents/decision")
@api_auth
@use_params(S, Param("id", int, required=True, invalid=f"{S}.non_integer_id", minimum=1,
                     description="document id (GET admin/users/:uid → documents[].id)"),
            Param("outcome", required=True, allow_blank=False, values=tuple(document_review.OUTCOMES),
                  invalid="admin.kyc.invalid_decision",
                  description="approve, reject (final) or retry (the user is asked to upload it again)"),
            nonblank("reason", max_length=64,
                     description="catalogue code (GET admin/kyc/reasons): reject needs a `final` one, retry a "
                                 "`retry` one; it must apply to the document"),
            Param("note", description="to the user (shown on their pages and in the mail), at most 1000 characters"),
            Param("internal_note", description="for colleagues only, at most 1000 characters"),
            status=201, summary="Decides one KYC document: approve, reject or request a re-upload",
            errors={404: "admin.kyc.document_doesnt_exist",
                    409: "admin.kyc.not_pending (already decided), admin.kyc.claimed (another reviewer holds "
                         "the applicant)",
                    422: "admin.kyc.invalid_decision, kyc.reason.missing|unknown|wrong_kind|not_applicable, "
                         "kyc.note.too_long, kyc.internal_note.too_long, admin.user.update_himself, "
                         "admin.user.superadmin_change, admin.profiles.second_admin_approval"})
@ability("update", document_review.SUBJECT)
def document_decision(p):
    doc = db.session.get(Document, p["id"]) if p.get("id") is not None else None
    if doc is None:
        raise NotFound("admin.kyc.document_doesnt_exist")
    document_review.decide_document(doc, current_user(), p["outcome"], reason=p.get("reason"),
                                    note=p.get("note"), internal_note=p.get("internal_note"))
    return jsonify(_decision_entity(doc)), 201


@bp.get("/kyc/reasons")
@api_auth
@document(summary="Returns the KYC reasons catalogue (code, kind retry|final, text per language, applies_to)")
@ability("read", document_review.SUBJECT)
def kyc_reasons_index():
    cat = kyc_reasons.load()
    return jsonify([r.entity() for r in cat.reasons.values()])
