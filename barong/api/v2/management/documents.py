"""management `documents` (scope `write_documents`): a base64 upload, with the same
checks as the resource API (services.documents)."""
from __future__ import annotations

import base64
import binascii

from flask import jsonify

from barong.api import entities
from barong.api.params import Param
from barong.api.v2.management import bp, management_signed
from barong.api.v2.management._common import user_or_404
from barong.errors import BarongError
from barong.services.verification import documents

E = "management.document"


def _required(name, description):
    return Param(name, required=True, allow_blank=False, description=description)


@bp.post("/documents")
@management_signed("write_documents", E, _required("uid", "User uid"), _required("doc_type", "Document type"),
                   _required("doc_number", "Document number"), _required("filename", "Document name"),
                   _required("file_ext", "Document file extension (.jpg, .png, .pdf)"),
                   _required("upload", "Base64 encoded document"),
                   Param("doc_expire", description="Document expiration date (YYYY-MM-DD)"),
                   Param("update_labels", bool, default=True, invalid="management.documents.update_labels_invalid",
                         description="If false, the user's KYC label is not created/updated"),
                   Param("metadata", "any", description="additional key: value pairs (JSON string or object)"),
                   status=201, summary="Push documents to barong DB")
def documents_create(p):
    user = user_or_404(p["uid"])
    try:
        content = base64.b64decode("".join(p["upload"].split()), validate=True)
    except (binascii.Error, ValueError):
        raise BarongError("management.documents.upload_not_base64", 422) from None
    ext = p["file_ext"].strip()
    name = p["filename"].strip() + (ext if ext.startswith(".") else "." + ext)
    doc_expire = p.get("doc_expire")
    try:
        created = documents.create(user, [(name, content)], p["doc_type"], doc_expire=doc_expire,
                                   doc_number=p["doc_number"], metadata=p.get("metadata"),
                                   update_labels=p.get("update_labels") is not False)
    except BarongError as err:
        err.codes = [c.replace("resource.documents.", "management.documents.", 1) for c in err.codes]
        raise
    return jsonify([entities.document(d, masked=False) for d in created][0]), 201
