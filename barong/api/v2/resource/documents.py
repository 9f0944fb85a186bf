"""resource/documents: KYC document uploads (multipart `upload[]`, one or several files)."""
from __future__ import annotations

from flask import current_app, jsonify

from barong.api import entities
from barong.api.auth import api_auth
from barong.api.params import Param, document, no_content, use_params
from barong.api.v2.resource import bp, cached_body, me
from barong.errors import BarongError, NotFound
from barong.services.verification import documents, uploads

SCOPE = "resource.document"


def files_of(value) -> list:
    """The `upload` parameter as a list (a stray string stays in, to be refused as upload.blank)."""
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _entity(d) -> dict:
    """Barong's four fields, then the review (added fields, issue 14: review_state, review_reason,
    review_reason_text in the user's language, review_note)."""
    full = entities.document(d)
    return {**{k: full[k] for k in ("upload", "doc_type", "doc_number", "doc_expire")}, **entities.document_review(d)}


@bp.get("/documents")
@api_auth(load_entity=False)
@document(summary="Return current user documents list")
def documents_index():
    return jsonify(cached_body("documents", lambda: [_entity(d) for d in documents.list_for(me())],
                               current_app.config["BARONG_DOMAIN"]))  # the upload URLs name it


@bp.post("/documents")
@api_auth
@use_params(SCOPE, Param("doc_type", required=True, allow_blank=False, description="Document type"),
            Param("doc_number", required=True, allow_blank=False, description="Document number"),
            Param("upload", "file", required=True,
                  description="file(s): multipart field `upload[]` (or `upload`); jpg, jpeg, png or pdf"),
            Param("doc_expire", description="Document expiration date (YYYY-MM-DD)"),
            Param("doc_category", description="front_side, back_side or selfie"),
            Param("identificator", description="Identificator for documents to be supplied together"),
            Param("metadata", "any", description="Any additional key: value pairs in json string format"),
            status=201, summary="Upload a new document for current user")
@no_content
def documents_create(p):
    expire = p.get("doc_expire")
    if expire not in (None, ""):
        try:
            documents.parse_expire(expire)
        except ValueError:
            raise BarongError("resource.documents.expire_not_a_date", 422) from None
    documents.create(me(), files_of(p.get("upload")), p["doc_type"], doc_expire=expire or None,
                     doc_number=p["doc_number"], doc_category=p.get("doc_category") or None,
                     identificator=p.get("identificator") or None, metadata=p.get("metadata"))
    return "", 201


@bp.get("/documents/<int:document_id>/upload")
@api_auth
@document(summary="Download the file of one of the current user's documents",
          produces=("image/jpeg", "image/png", "application/pdf", "application/octet-stream"))
def documents_upload(document_id):
    doc = documents.find_for(me(), document_id)
    path = documents.path_for(doc)
    if not path.is_file():
        raise NotFound()
    return uploads.send_stored(path, doc.upload_name or doc.upload)
