"""KYC documents (identity documents and proofs of address).

`create` checks everything first — expiry rules, the per-type document limit, every
field and every file (type by content, size) — and only then writes the files and
rows, all or nothing (CONTRACT §7; files of a request that fails later are removed by
services.uploads). The KYC step of the `local` provider sets the private label
`document: pending` (`address: pending` for proofs of address).
"""
from __future__ import annotations

import json
import re
import secrets
from datetime import date
from pathlib import Path

from flask import current_app

from barong.dates import parse_date
from barong.errors import BarongError, ValidationError
from barong.extensions import db
from barong.models import Document, User, iso
from barong.services.delivery import events
from barong.services.verification import uploads

CATEGORIES = ("front_side", "back_side", "selfie")
_DOC_NUMBER = re.compile(r"^[A-Za-z0-9\- ]+$")


def parse_expire(value) -> date | None:
    """A date string (ISO or day-first, barong.dates) or date → date; None for blank.
    Raises ValueError for anything else."""
    if value is None or isinstance(value, date):
        return value
    value = str(value).strip()
    if not value:
        return None
    return parse_date(value)


def _check_expire(doc_expire) -> date | None:
    """Barong's expiry rules when BARONG_REQUIRED_DOCS_EXPIRE: present, YYYY-MM-DD, not past."""
    required = current_app.config["BARONG_REQUIRED_DOCS_EXPIRE"]
    try:
        expire = parse_expire(doc_expire)
    except ValueError:
        if required:
            raise BarongError("resource.documents.invalid_format", 422) from None
        raise BarongError("resource.documents.expire_not_a_date", 422) from None
    if required:
        if expire is None:
            raise BarongError("resource.documents.invalid_format", 422)
        if expire < date.today():
            raise BarongError("resource.documents.already_expired", 422)
    return expire


def _check_limit(user: User, doc_type: str, adding: int) -> None:
    limit = current_app.config["BARONG_DOC_NUM_LIMIT"]
    count = db.session.query(Document).filter_by(user_id=user.id, doc_type=doc_type).count()
    if count > limit:  # Barong's order: "reached" only when already over
        raise BarongError("resource.documents.limit_reached", 400)
    if count + adding > limit:
        raise BarongError("resource.documents.limit_will_be_reached", 400)


def _field_errors(doc_type, doc_number, metadata) -> list[str]:
    from barong.settings import settings

    errors = []
    if not doc_type:
        errors.append("doc_type.blank")
    elif doc_type not in (settings().document_types or []):
        errors.append("doc_type.inclusion")
    if doc_number is not None and doc_number != "":
        if len(doc_number) > 128:
            errors.append("doc_number.too_long")
        elif not _DOC_NUMBER.match(doc_number):
            errors.append("doc_number.invalid")
    if metadata is not None:
        try:
            json.loads(metadata)
        except (ValueError, TypeError):
            errors.append("metadata.invalid_format")
    return errors


def _check_not_rejected(user: User, doc_type: str, doc_number: str | None) -> None:
    """A document a reviewer rejected for good (review_state `rejected`, a final reason) cannot be
    sent again: 422 resource.documents.rejected for the same type and number (found through
    the number's CRC32 index, compared decrypted)."""
    if not doc_number:
        return
    from barong.security.crypto import crc32_index

    rows = (db.session.query(Document)
            .filter_by(user_id=user.id, doc_type=doc_type, review_state="rejected",
                       doc_number_index=crc32_index(doc_number)).all())
    if any(row.doc_number == doc_number for row in rows):
        raise BarongError("resource.documents.rejected", 422)


def record(document: Document) -> dict:
    from barong.api.entities import upload_url

    data = {"user": events.user_summary(document.user, omit_nulls=True), "upload": upload_url(document),
            "doc_type": document.doc_type, "doc_number": document.doc_number,
            "doc_expire": document.doc_expire.isoformat() if document.doc_expire else None,
            "metadata": document.metadata_json, "created_at": iso(document.created_at),
            "updated_at": iso(document.updated_at)}
    return {k: v for k, v in data.items() if v is not None}


def kyc_step(user: User, doc_type: str) -> None:
    """`local` provider: every upload (re)sets `document: pending` (`address: pending` for Address)."""
    from barong.services.accounts import labels

    key = "address" if doc_type == "Address" else "document"
    labels.set_value(user, key, "pending", scope="private")


def create(user: User, files: list, doc_type: str, doc_expire=None, doc_number: str | None = None,
           doc_category: str | None = None, identificator: str | None = None, metadata: str | None = None,
           *, check_limit: bool = True, check_expire: bool = True, update_labels: bool = True) -> list[Document]:
    """One document row per file (sharing `identificator`, 32 random hex when not given).

    `files`: werkzeug FileStorage objects or (filename, bytes) tuples.
    Raises 422 resource.documents.invalid_format|already_expired (expiry rules),
    resource.documents.doc_category, 400 resource.documents.limit_reached|limit_will_be_reached,
    ValidationError (doc_type.inclusion, doc_number.invalid, metadata.invalid_format,
    upload.blank|min_size_error|max_size_error|extension_whitelist_error|content_type_whitelist_error).
    Emits model.document.created per row; runs the KYC label step once.
    """
    if isinstance(metadata, (dict, list)):
        metadata = json.dumps(metadata)
    expire = _check_expire(doc_expire) if check_expire else parse_expire(doc_expire)
    files = list(files or [])
    if check_limit:
        _check_limit(user, doc_type, len(files))
    if doc_category is not None and doc_category not in CATEGORIES:
        raise BarongError("resource.documents.doc_category", 422)
    errors = _field_errors(doc_type, doc_number, metadata)
    if not files:
        errors.append("upload.blank")
    if errors:
        raise ValidationError(errors)
    _check_not_rejected(user, doc_type, doc_number)
    checked = [uploads.inspect(f) for f in files]  # every file checked before any is written
    identificator = identificator or secrets.token_hex(16)
    created = []
    for upload in checked:
        doc = Document(user_id=user.id, upload=uploads.store(upload), upload_name=upload.filename,
                       content_type=upload.content_type, doc_type=doc_type, doc_expire=expire,
                       doc_category=doc_category, identificator=identificator, metadata_json=metadata)
        doc.doc_number = doc_number or None
        db.session.add(doc)
        created.append(doc)
    db.session.flush()
    for doc in created:
        if doc not in user.documents:
            user.documents.append(doc)
        events.emit("model.document.created", record(doc))
    if update_labels:
        kyc_step(user, doc_type)
    from barong.services.verification import kyc_review

    kyc_review.refresh_waiting(user)  # a pending upload: the applicant waits (again)
    return created


def create_address(user: User, files: list, country: str, address: str, city: str | None = None,
                   postcode: str | None = None) -> list[Document]:
    """Proof of address: documents of type `Address` (no number, no expiry, no limit), label
    `address: pending`. The address fields only go to an external KYC provider (not stored)."""
    return create(user, files, "Address", check_limit=False, check_expire=False)


def path_for(document: Document) -> Path:
    """Where the document's file is stored."""
    return uploads.path_for(document.upload)


def list_for(user: User) -> list[Document]:
    return db.session.query(Document).filter_by(user_id=user.id).order_by(Document.id).all()


def find_for(user: User, document_id: int) -> Document:
    """The user's own document. Raises 404 record.not_found."""
    doc = db.session.get(Document, document_id)
    if doc is None or doc.user_id != user.id:
        raise BarongError("record.not_found", 404)
    return doc
