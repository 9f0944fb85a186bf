"""Document files for the in-page preview: streamed from BARONG_UPLOADS_PATH to operators
who may read users (the admin API's `GET users/:uid` shows the same documents)."""
from __future__ import annotations

from flask import abort, send_file

from barong.extensions import db
from barong.models import Document
from barong.services import documents
from barong.web.console import bp
from barong.web.console.helpers import console_requires

PREVIEWABLE = {"image/jpeg", "image/png", "application/pdf"}


@bp.get("/documents/<int:document_id>/file")
@console_requires("users.read")
def documents_file(document_id):
    doc = db.session.get(Document, document_id)
    if doc is None:
        abort(404)
    path = documents.path_for(doc)
    if not path.is_file():
        abort(404)
    mimetype = doc.content_type if doc.content_type in PREVIEWABLE else "application/octet-stream"
    resp = send_file(path, mimetype=mimetype, as_attachment=mimetype == "application/octet-stream",
                     download_name=doc.upload_name or path.name, conditional=True, max_age=0)
    resp.headers["Cache-Control"] = "private, no-store"
    resp.headers["X-Content-Type-Options"] = "nosniff"
    if mimetype.startswith("image/"):  # an image never needs to run anything (PDFs need the viewer)
        resp.headers["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; sandbox"
    resp.headers["Cross-Origin-Resource-Policy"] = "same-origin"
    return resp
