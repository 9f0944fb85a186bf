"""gunicorn settings of `make run` (`gunicorn -c python:barong.gunicorn_conf`, see barong/serve.py).

* `post_worker_init`: each worker starts its background mail deliverer and webhook deliverer.
* `logger_class`: barong.access_log.RedactingLogger — no token, password, cookie, CSRF token
  or API-key signature in the access or error log.
* Requests gunicorn refuses before the app sees them (request line past
  `limit_request_line`, headers past their limits, malformed lines) are answered with a
  JSON body like every other error, not gunicorn's HTML page:

  | refusal | status | body |
  |---|---|---|
  | request line too long (> 4094 bytes, gunicorn's default) | 414 | `{"errors": ["server.uri_too_long"]}` |
  | too many / too large header fields | 431 | `{"errors": ["server.headers_too_large"]}` |
  | any other malformed request | 400 | `{"errors": ["server.bad_request"]}` |
  | unsupported transfer coding | 501 | `{"errors": ["server.not_implemented"]}` |
  | an error gunicorn itself hit | 500 | `{"errors": ["server.internal_error"]}` |

  The limits stay in place (an unlimited request line lets one client fill a worker's
  memory); nginx in front has its own (`large_client_header_buffers`).

Command-line options and `GUNICORN_CMD_ARGS` still override these values.
"""
from __future__ import annotations

import json
import threading

from gunicorn import util
from gunicorn.http import errors as http_errors
from gunicorn.workers import base as worker_base

logger_class = "barong.access_log.RedactingLogger"
limit_request_line = 4094
limit_request_fields = 100
limit_request_field_size = 8190

_REFUSALS = (
    (http_errors.LimitRequestLine, 414, "URI Too Long", "server.uri_too_long"),
    (http_errors.LimitRequestHeaders, 431, "Request Header Fields Too Large", "server.headers_too_large"),
    (http_errors.UnsupportedTransferCoding, 501, "Not Implemented", "server.not_implemented"),
    (http_errors.ParseException, 400, "Bad Request", "server.bad_request"),
)


def classify(exc: BaseException) -> tuple[int, str, str]:
    """(status, reason, error code) of the answer to a request gunicorn could not hand to the app."""
    if isinstance(exc, http_errors.ConfigurationProblem):
        return 500, "Internal Server Error", "server.internal_error"
    for kind, status, reason, code in _REFUSALS:
        if isinstance(exc, kind):
            return status, reason, code
    if isinstance(exc, getattr(worker_base, "SSLError", ())):
        return 400, "Bad Request", "server.bad_request"
    return 500, "Internal Server Error", "server.internal_error"


def json_error_response(status: int, reason: str, code: str) -> bytes:
    body = json.dumps({"errors": [code]})
    return (f"HTTP/1.1 {status} {reason}\r\nConnection: close\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nX-Content-Type-Options: nosniff\r\n\r\n{body}").encode("latin1")


_original_handle_error = worker_base.Worker.handle_error
_answer = threading.local()  # the gthread worker handles errors on several threads


def _write_json_error(sock, status_int, reason, _mesg):
    """Replaces gunicorn.util.write_error (its only caller is Worker.handle_error)."""
    answer = getattr(_answer, "value", None) or (status_int, reason, "server.internal_error"
                                                 if status_int >= 500 else "server.bad_request")
    util.write_nonblock(sock, json_error_response(*answer))


def handle_error(self, req, client, addr, exc):
    """gunicorn's Worker.handle_error (its logging and access line), answering JSON with our status.

    The access line keeps gunicorn's status; it differs only for an over-long request line
    (400 there, 414 sent), which has no access line since no request was read."""
    _answer.value = classify(exc)
    try:
        _original_handle_error(self, req, client, addr, exc)
    finally:
        _answer.value = None


util.write_error = _write_json_error
worker_base.Worker.handle_error = handle_error


def post_worker_init(worker):
    """Start the worker's background mail deliverer (services/delivery/mail_worker.py) and webhook
    deliverer (services/delivery/webhooks.py): mail and deliveries
    written before this worker started, or by another process, are swept without waiting for
    a request of this worker to wake it."""
    from barong.services.delivery import mail_worker

    app = getattr(worker, "wsgi", None)
    if app is not None and getattr(app, "config", {}).get("BARONG_MAIL_DELIVERY") == "background":
        mail_worker.start(app)
    if app is not None and getattr(app, "config", {}).get("BARONG_WEBHOOK_DELIVERY") == "background":
        from barong.services.delivery import webhooks

        webhooks.start(app)  # signed webhooks: retries and rows of other processes, without a request
