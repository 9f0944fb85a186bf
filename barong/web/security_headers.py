"""Security headers on every response (one after_request hook, registered by create_app).

* every response: `X-Content-Type-Options: nosniff`; HSTS when BARONG_DOMAIN is https;
* HTML: a Content-Security-Policy (scripts and styles from our origin only — htmx and
  app.js are vendored under static/ — inline `style=""` attributes allowed, no inline
  script, no plugin, `frame-ancestors 'none'`), `X-Frame-Options: DENY`,
  `Referrer-Policy: same-origin`, and `Cache-Control: no-store` (site and console pages
  show account data or carry a CSRF token: none may sit in a shared or back-button cache);
* anything else under /api/v2/barong (except the public area and the OpenAPI document),
  /accounts and /admin (JSON, CSV exports, files): `Cache-Control: no-store`.

A response that set a header itself keeps it (uploads.send_stored's sandboxing CSP).
The gateway check (/api/v2/auth/…) answers nginx, not a browser: it gets nosniff only,
so its hot path pays one string test.
"""
from __future__ import annotations

import functools

from flask import Flask

from barong import flaskctx

RECAPTCHA = "https://www.google.com https://www.gstatic.com"
HSTS = "max-age=31536000; includeSubDomains"
_PUBLIC_API = ("/api/v2/barong/public/", "/api/v2/barong/swagger", "/api/v2/barong/openapi")
_PRIVATE = ("/api/v2/barong/", "/accounts/", "/admin/")


@functools.lru_cache(maxsize=4)
def content_security_policy(captcha: str | None = None) -> str:
    script = "'self'" + (f" {RECAPTCHA}" if captcha == "recaptcha" else "")
    frame = f"frame-src {RECAPTCHA}; " if captcha == "recaptcha" else ""
    return ("default-src 'self'; "
            f"script-src {script}; "
            "style-src 'self' 'unsafe-inline'; "
            "img-src 'self' data:; "
            "object-src 'none'; "
            "base-uri 'self'; "
            "form-action 'self'; "
            f"{frame}"
            "frame-ancestors 'none'")


def _setdefault(headers, present: set, name: str, value: str) -> None:
    """`headers.setdefault(name, value)` for a name given in lower case in `present`;
    werkzeug's own raises and catches a KeyError for every absent header."""
    if name.lower() not in present:
        headers.add(name, value)


def init_app(app: Flask) -> None:
    config = app.config

    @app.after_request
    def _security_headers(response):
        # every response passes here: one pass over the headers (names present, Content-Type)
        headers = response.headers
        present = set()
        content_type = None
        for key, value in headers:
            key = key.lower()
            present.add(key)
            if key == "content-type" and content_type is None:
                content_type = value
        if "x-content-type-options" not in present:
            headers.add("X-Content-Type-Options", "nosniff")
        path = flaskctx.request().path
        if path.startswith("/api/v2/auth"):
            return response
        if str(config.get("BARONG_DOMAIN") or "").lower().startswith("https://"):
            _setdefault(headers, present, "Strict-Transport-Security", HSTS)
        if content_type and content_type.partition(";")[0].strip() == "text/html":  # response.mimetype
            _setdefault(headers, present, "Content-Security-Policy",
                        content_security_policy(config.get("BARONG_CAPTCHA")))
            _setdefault(headers, present, "X-Frame-Options", "DENY")
            _setdefault(headers, present, "Referrer-Policy", "same-origin")
            _setdefault(headers, present, "Cache-Control", "no-store")
        elif path.startswith(_PRIVATE) and not path.startswith(_PUBLIC_API):
            _setdefault(headers, present, "Cache-Control", "no-store")  # JSON, CSV exports, files
        return response
