"""BarongError and the error handlers.

Services raise `BarongError("resource.otp.already_enabled", 400)`; under `/api/`
it becomes `{"errors": [...]}` with that status; elsewhere an HTML error page (or,
for forms, the view catches it and puts the message on `field`).
"""
from __future__ import annotations

import logging

from flask import jsonify, render_template, request
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)


class BarongError(Exception):
    """A refusal with Barong's error code(s) and an HTTP status."""

    def __init__(self, codes, status: int = 422, field: str | None = None, headers: dict | None = None):
        self.codes = [codes] if isinstance(codes, str) else list(codes)
        self.status = status
        self.field = field
        self.headers = headers or {}
        super().__init__(", ".join(self.codes))

    @property
    def code(self) -> str:
        return self.codes[0]


class ValidationError(BarongError):
    """Model validation failure: `<attribute>.<reason>` codes, always 422."""

    def __init__(self, codes, field: str | None = None):
        super().__init__(codes, 422, field=field)


class NotFound(BarongError):
    def __init__(self, code: str = "record.not_found"):
        super().__init__(code, 404)


HTTP_CODES = {
    400: "server.bad_request",
    401: "authz.invalid_session",
    403: "authz.permission_denied",
    404: "record.not_found",
    405: "server.method_not_allowed",
    413: "server.payload_too_large",
    415: "server.unsupported_media_type",
    429: "server.too_many_requests",
}


def is_api_request() -> bool:
    return request.path.startswith("/api/")


def json_errors(codes, status, headers=None):
    response = jsonify(errors=list(codes))
    response.status_code = status
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


def _html_error(status: int, message: str | None = None):
    try:
        return render_template("errors/error.html", status=status, message=message), status
    except Exception:  # a broken template must not turn a 404 into a stack trace
        log.exception("error template failed")
        return f"<h1>Error {status}</h1>", status


def register_error_handlers(app):
    @app.errorhandler(BarongError)
    def handle_barong_error(err: BarongError):
        from barong.extensions import db

        db.session.rollback()
        if is_api_request():
            return json_errors(err.codes, err.status, err.headers)
        return _html_error(err.status, err.code)

    @app.errorhandler(HTTPException)
    def handle_http_error(err: HTTPException):
        status = err.code or 500
        if is_api_request():
            if status == 429:
                # Flask-Limiter carries the limit's error_message (a code, services/access/rate_limits.py)
                code = err.description if isinstance(err.description, str) and "." in err.description \
                    and " " not in err.description else "server.too_many_requests"
                response = json_errors([code], 429)
                retry_after = getattr(err, "retry_after", None)
                if retry_after:
                    response.headers["Retry-After"] = str(int(retry_after))
                return response
            headers = None
            if status == 405:  # RFC 9110: a 405 says what is allowed (the path's own routes)
                from barong.api.v2 import allow_header

                headers = {"Allow": allow_header(request.environ)}
            return json_errors([HTTP_CODES.get(status, "server.internal_error")], status, headers)
        return _html_error(status, err.description)

    @app.errorhandler(Exception)
    def handle_unexpected(err: Exception):
        from barong.extensions import db

        log.exception("unhandled error on %s %s", request.method, request.path)
        db.session.rollback()
        if is_api_request():
            return json_errors(["server.internal_error"], 500)
        return _html_error(500)
