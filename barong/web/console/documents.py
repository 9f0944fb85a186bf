"""Document files (image previews, PDF downloads): streamed from BARONG_UPLOADS_PATH, as
sandboxed attachments (uploads.send_stored), to operators who may read
users (the admin API's `GET users/:uid` shows the same documents).

Issue 17: a file of a user whose personal data the operator may not see (no `read
PersonalData`, no live reveal, barong.services.operators.pii) is refused (403); every file
shown is one admin activity (topic `pii`, action `document_file`)."""
from __future__ import annotations

from flask import abort

from barong.extensions import db
from barong.models import Document
from barong.services.operators import pii
from barong.services.verification import documents, uploads
from barong.web.console import bp
from barong.web.console.helpers import actor, console_requires, forbidden


@bp.get("/documents/<int:document_id>/file")
@console_requires("users.read")
def documents_file(document_id):
    doc = db.session.get(Document, document_id)
    if doc is None:
        abort(404)
    path = documents.path_for(doc)
    if not path.is_file():
        abort(404)
    if not pii.sees(actor(), doc.user.uid if doc.user is not None else None, "documents"):
        return forbidden()
    pii.document_viewed(actor(), doc)
    return uploads.send_stored(path, doc.upload_name or path.name)  # attachment, sandboxed (img previews work)
