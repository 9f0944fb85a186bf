"""Uploaded files: type checked by content (magic bytes) and extension, size limit,
storage under `BARONG_UPLOADS_PATH` with random names.

Nothing is written until a whole request's files passed `inspect`; files written during
a request that ends in an error (status >= 400 or an exception, e.g. a failed commit)
are removed again, so a refused upload leaves no file (`init_app` installs that hook).
"""
from __future__ import annotations

import logging
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from flask import Flask, current_app, g, has_request_context

from barong import flaskctx
from barong.errors import ValidationError

log = logging.getLogger(__name__)

#: extension → (content type, magic prefix)
TYPES = {
    "jpg": ("image/jpeg", b"\xff\xd8\xff"),
    "jpeg": ("image/jpeg", b"\xff\xd8\xff"),
    "png": ("image/png", b"\x89PNG\r\n\x1a\n"),
    "pdf": ("application/pdf", b"%PDF-"),
}


@dataclass
class Upload:
    """A checked file, not yet stored."""

    filename: str
    data: bytes
    ext: str
    content_type: str


def _read(item) -> tuple[str, bytes]:
    """(name, bytes) of a werkzeug FileStorage or a (name, bytes) tuple; ValueError for anything else."""
    if isinstance(item, tuple) and len(item) == 2 and isinstance(item[1], (bytes, bytearray)):
        return str(item[0] or ""), bytes(item[1])
    if hasattr(item, "read") and hasattr(item, "filename"):
        limit = current_app.config["BARONG_UPLOAD_MAX_SIZE"]
        data = item.read(limit + 1)
        return item.filename or "", data
    raise ValueError("not a file")


def detect(data: bytes) -> str | None:
    """The content type the bytes really are (jpeg/png/pdf), or None."""
    for ext in ("jpg", "png", "pdf"):
        content_type, magic = TYPES[ext]
        if data.startswith(magic):
            return content_type
    return None


def inspect(item) -> Upload:
    """Check one file. Raises ValidationError: upload.blank (not a file), upload.min_size_error
    (empty), upload.max_size_error (> BARONG_UPLOAD_MAX_SIZE), upload.extension_whitelist_error
    (extension not jpg/jpeg/png/pdf), upload.content_type_whitelist_error (content does not match)."""
    try:
        name, data = _read(item)
    except ValueError:
        raise ValidationError("upload.blank") from None
    if not data:
        raise ValidationError("upload.min_size_error")
    if len(data) > current_app.config["BARONG_UPLOAD_MAX_SIZE"]:
        raise ValidationError("upload.max_size_error")
    ext = Path(name).suffix.lower().lstrip(".")
    if ext not in TYPES:
        raise ValidationError("upload.extension_whitelist_error")
    content_type = TYPES[ext][0]
    if detect(data) != content_type:
        raise ValidationError("upload.content_type_whitelist_error")
    return Upload(Path(name).name[:255], data, ext, content_type)


def root() -> Path:
    path = Path(current_app.config["BARONG_UPLOADS_PATH"])
    path.mkdir(parents=True, exist_ok=True)
    return path


def path_for(stored_name: str) -> Path:
    """Absolute path of a stored file (the name never contains a separator)."""
    return root() / Path(stored_name).name


def store(upload: Upload) -> str:
    """Write the file under a random name; returns the stored name. Raises ValidationError
    (upload.storage_error) when the disk refuses."""
    name = f"{secrets.token_hex(16)}.{upload.ext}"
    target = path_for(name)
    try:
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(upload.data)
    except OSError:
        log.exception("could not store an upload")
        target.unlink(missing_ok=True)
        raise ValidationError("upload.storage_error") from None
    if has_request_context():
        g.setdefault("_barong_new_uploads", []).append(target)
    return name


#: a stored file is never a document of our origin: no script, no plugin, no same-origin frame
DOWNLOAD_CSP = "sandbox; default-src 'none'"


def send_stored(path: Path, download_name: str):
    """The response for every download of an uploaded file (resource API, console): always an
    attachment, typed by what the bytes are (a PNG with HTML appended stays image/png; a
    file that is none of the accepted types is application/octet-stream), nosniff, and a
    sandboxing CSP, so a PDF with JavaScript or a polyglot can never run in the site's origin.
    An `<img src>` of it still displays."""
    from flask import send_file

    with open(path, "rb") as fh:
        mimetype = detect(fh.read(16)) or "application/octet-stream"
    resp = send_file(path, mimetype=mimetype, as_attachment=True, download_name=download_name, conditional=True,
                     max_age=0)
    resp.headers["Cache-Control"] = "private, no-store"
    resp.headers["X-Content-Type-Options"] = "nosniff"
    resp.headers["Content-Security-Policy"] = DOWNLOAD_CSP
    resp.headers["Cross-Origin-Resource-Policy"] = "same-origin"
    return resp


def remove(stored_name: str | None) -> None:
    if stored_name:
        path_for(stored_name).unlink(missing_ok=True)


def _discard_new(reason: str) -> None:
    for path in g.pop("_barong_new_uploads", []):
        try:
            path.unlink(missing_ok=True)
            log.info("removed upload %s of a refused request (%s)", path.name, reason)
        except OSError:
            log.exception("could not remove %s", path)


def init_app(app: Flask) -> None:
    if app.extensions.get("barong_uploads_hooks"):
        return
    app.extensions["barong_uploads_hooks"] = True

    @app.after_request
    def _refused(response):
        if response.status_code >= 400:
            _discard_new(f"status {response.status_code}")
        return response

    @app.teardown_request
    def _failed(exc):
        if exc is not None:
            _discard_new("exception")
        flaskctx.g().pop("_barong_new_uploads", None)  # every request passes here: no LocalProxy
