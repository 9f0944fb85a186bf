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
  whatever `--access-logformat` asks for; its handlers also carry `RedactFilter`. The atoms
  are redacted as the format reads them (`RedactedAtoms`: the default format names 9 of the
  ~40 gunicorn builds), and the filter keeps the line it formatted, so the handler does not
  format it again (issue 18: the access line cost ~80 µs per request before).
* `RedactFilter` / `install(logger)`: a logging filter applying `redact_text` to the
  formatted message and traceback of every record; create_app installs it on the root
  handlers.
"""
from __future__ import annotations

import logging
import re
import traceback
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


_HEADER_SUFFIXES = ("}i", "}o", "}e")


def redact_atom(key, value):
    """One gunicorn access-log atom with its secret taken out (see the module docstring)."""
    if key == "r":
        if not isinstance(value, str):
            return value
        parts = value.split(" ")
        if len(parts) >= 2:
            parts[1] = redact_uri(parts[1])
            return " ".join(parts)
        return redact_text(value)
    if key == "q":
        return redact_query(value)
    if key == "f" or key == "U":
        return redact_uri(value)
    if not (isinstance(key, str) and key.startswith("{") and key[-2:] in _HEADER_SUFFIXES):
        return value
    name = key[1:-2].lower()
    header = name[5:].replace("_", "-") if name.startswith("http_") else name.replace("_", "-")
    if header in SECRET_HEADERS or name in SECRET_HEADERS:
        return FILTERED
    if name in URI_HEADERS or header in URI_HEADERS:
        return redact_uri(value)
    if name == "query_string":
        return redact_query(value)
    if isinstance(value, str):
        return redact_text(value)
    return value


def redact_atoms(atoms: dict) -> dict:
    """gunicorn access-log atoms with every secret taken out (see the module docstring)."""
    safe = {key: redact_atom(key, value) for key, value in atoms.items()}
    for key in ("q", "f", "U"):  # as gunicorn always gives them
        if key not in safe:
            safe[key] = redact_atom(key, None)
    return safe


class RedactFilter(logging.Filter):
    """Rewrites a record's message (and traceback) through `redact_text`; never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 — a broken format string: leave the record to logging
            return True
        cleaned = redact_text(message)
        if cleaned != message or record.args:  # formatted once: the handler does not format it again
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

class RedactedAtoms(dict):
    """gunicorn's SafeAtoms (`{header}i` keys in any case, `-` for an absent atom, `"` escaped)
    over gunicorn's raw atoms, each redacted (`redact_atom`) when the format asks for it: the
    format names a handful of the ~40 atoms gunicorn builds per request (every request and
    response header, the whole environ), and redacting all of them cost more than the rest
    of the access line."""

    __slots__ = ()

    def __getitem__(self, key):
        if key.startswith("{"):
            key = key.lower()
        try:
            value = dict.__getitem__(self, key)
        except KeyError:
            return "-"
        value = redact_atom(key, value)
        return value.replace('"', '\\"') if isinstance(value, str) else value


if _GunicornLogger is not None:
    class RedactingLogger(_GunicornLogger):
        """gunicorn's logger with redacted access-log atoms and filtered handlers."""

        atoms_wrapper_class = RedactedAtoms

        def setup(self, cfg):
            super().setup(cfg)
            install(self.error_log)
            install(self.access_log)

        def atoms(self, resp, req, environ, request_time):
            return redact_atoms(super().atoms(resp, req, environ, request_time))

        def access(self, resp, req, environ, request_time):
            """gunicorn's access(), with the atoms redacted as the format reads them (RedactedAtoms)
            instead of all of them first."""
            cfg = self.cfg
            if not (cfg.accesslog or cfg.logconfig or cfg.logconfig_dict or cfg.logconfig_json
                    or (cfg.syslog and not cfg.disable_redirect_access_to_syslog)):
                return
            safe_atoms = RedactedAtoms(super().atoms(resp, req, environ, request_time))
            try:
                self.access_log.info(cfg.access_log_format, safe_atoms)
            except Exception:  # noqa: BLE001 — as gunicorn: a broken format is an error-log line
                self.error(traceback.format_exc())
