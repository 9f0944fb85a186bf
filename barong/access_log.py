"""No secret in any log line (CONTRACT §4): redaction for gunicorn's access and error logs
and for the app's own log handlers.

* `redact_query(qs)` / `redact_uri(uri)`: the value of every query parameter whose name
  looks secret (`token`, `reset_token`, `confirmation_token`, `reset_password_token`,
  `whitelink_token`, `password`, `otp_code`, `code`, `csrf_token`, `captcha_response`, …:
  any name containing one of `SECRET_NAME_PARTS`) becomes `[FILTERED]`; names and the other
  values stay, so the line is still useful.
* `redact_text(text)`: the same for URIs inside free text, plus anything shaped like a JWT
  (confirmation and reset tokens are JWTs) or a password digest (argon2 / bcrypt).
* `RedactingLogger`: gunicorn's logger (`logger_class`, set in barong/gunicorn_conf.py)
  whose access-log atoms carry redacted request line, query and referer (a page opened
  from a mail link sends it as `Referer` for its CSS), and never the values of secret
  headers (`Cookie`, `Set-Cookie`, `Authorization`, `X-CSRF-Token`, `X-Auth-Signature`, …),
  whatever `--access-logformat` asks for; its handlers also carry `RedactFilter`.
* `RedactFilter` / `install(logger)`: a logging filter applying `redact_text` to the
  formatted message and traceback of every record; create_app installs it on the root
  handlers.
"""
from __future__ import annotations

import logging
import re
from urllib.parse import unquote_plus

FILTERED = "[FILTERED]"

#: a query parameter whose (lower-cased) name contains one of these is secret
SECRET_NAME_PARTS = ("token", "password", "passwd", "secret", "otp", "code", "csrf", "signature", "jwt",
                     "captcha", "session", "apikey", "api_key", "auth", "nonce", "digest")

#: request/response headers never logged (lower-case)
SECRET_HEADERS = frozenset({"cookie", "set-cookie", "authorization", "proxy-authorization", "x-csrf-token",
                            "x-auth-signature", "x-auth-apikey", "x-auth-nonce", "x-data-integrity"})
#: headers (and environ keys) that hold a URI: logged with the query redacted
URI_HEADERS = frozenset({"referer", "http_referer", "raw_uri", "request_uri", "path_info", "location"})

_QUERY_IN_TEXT = re.compile(
    r"(?i)([?&;](?:[^=&\s\"'<>#;]*?(?:" + "|".join(SECRET_NAME_PARTS) + r"))[^=&\s\"'<>#;]*=)[^&\s\"'<>#;]*")
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}")
_DIGEST = re.compile(r"\$argon2(?:id|i|d)\$[^\s'\",)\]}]+|\$2[abxy]\$\d\d\$[./A-Za-z0-9]{53}")


def _secret_name(name: str) -> bool:
    name = unquote_plus(name).lower()
    return any(part in name for part in SECRET_NAME_PARTS)


def redact_query(query: str | None) -> str | None:
    """`a=1&token=x` → `a=1&token=[FILTERED]` (names kept, order kept)."""
    if not query:
        return query
    out = []
    for pair in query.split("&"):
        name, sep, _value = pair.partition("=")
        out.append(f"{name}={FILTERED}" if sep and _secret_name(name) else pair)
    return "&".join(out)


def redact_uri(uri: str | None) -> str | None:
    """The path as it is, the query through `redact_query`, JWT-shaped strings anywhere."""
    if not uri or not isinstance(uri, str):
        return uri
    path, sep, query = uri.partition("?")
    if sep:
        query, hsep, fragment = query.partition("#")
        uri = f"{path}?{redact_query(query)}" + (f"#{fragment}" if hsep else "")
    return _JWT.sub(FILTERED, uri)


def redact_text(text: str) -> str:
    if not text:
        return text
    text = _QUERY_IN_TEXT.sub(lambda m: m.group(1) + FILTERED, text)
    text = _JWT.sub(FILTERED, text)
    return _DIGEST.sub(FILTERED, text)


def redact_atoms(atoms: dict) -> dict:
    """gunicorn access-log atoms with every secret taken out (see the module docstring)."""
    safe = dict(atoms)
    if isinstance(safe.get("r"), str):
        parts = safe["r"].split(" ")
        if len(parts) >= 2:
            parts[1] = redact_uri(parts[1])
            safe["r"] = " ".join(parts)
        else:
            safe["r"] = redact_text(safe["r"])
    for key in ("q",):
        safe[key] = redact_query(safe.get(key))
    for key in ("f", "U"):
        safe[key] = redact_uri(safe.get(key))
    for key, value in atoms.items():
        if not (isinstance(key, str) and key.startswith("{") and key[-2:] in ("}i", "}o", "}e")):
            continue
        name = key[1:-2].lower()
        header = name[5:].replace("_", "-") if name.startswith("http_") else name.replace("_", "-")
        if header in SECRET_HEADERS or name in SECRET_HEADERS:
            safe[key] = FILTERED
        elif name in URI_HEADERS or header in URI_HEADERS:
            safe[key] = redact_uri(value)
        elif name == "query_string":
            safe[key] = redact_query(value)
        elif isinstance(value, str):
            safe[key] = redact_text(value)
    return safe


class RedactFilter(logging.Filter):
    """Rewrites a record's message (and traceback) through `redact_text`; never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 — a broken format string: leave the record to logging
            return True
        cleaned = redact_text(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact_text(record.exc_text)
        if record.stack_info:
            record.stack_info = redact_text(record.stack_info)
        return True


def install(logger: logging.Logger | None = None) -> None:
    """Put a RedactFilter on every handler of `logger` (default: the root logger), once."""
    logger = logger or logging.getLogger()
    for handler in logger.handlers:
        if not any(isinstance(f, RedactFilter) for f in handler.filters):
            handler.addFilter(RedactFilter())


try:
    from gunicorn.glogging import Logger as _GunicornLogger
except ImportError:  # gunicorn is a run-time dependency only
    _GunicornLogger = None

if _GunicornLogger is not None:
    class RedactingLogger(_GunicornLogger):
        """gunicorn's logger with redacted access-log atoms and filtered handlers."""

        def setup(self, cfg):
            super().setup(cfg)
            install(self.error_log)
            install(self.access_log)

        def atoms(self, resp, req, environ, request_time):
            return redact_atoms(super().atoms(resp, req, environ, request_time))
