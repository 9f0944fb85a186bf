"""Locale selection for the HTML pages (English and Russian, Barong's languages).

Order: a `lang` query argument (mail links carry `&lang=ru`; it is remembered in the
`lang` cookie), the `lang` cookie (set by the language switcher), the signed-in
user's `data.language` when they set one, then the browser's Accept-Language.
An explicit choice made in this browser wins over the stored preference so the
switcher always works.
"""
from __future__ import annotations

import json

from flask import g, has_request_context, request

from barong import flaskctx

LANGUAGES = ("en", "ru")
LANGUAGE_NAMES = {"en": "English", "ru": "Русский"}
COOKIE = "lang"
COOKIE_MAX_AGE = 365 * 24 * 3600


def _normalise(value) -> str | None:
    value = (str(value) if value is not None else "").strip().lower()[:2]
    return value if value in LANGUAGES else None


def user_language(user) -> str | None:
    """The language stored in the user's `data` JSON (`{"language": "ru"}`), if any."""
    try:
        data = json.loads(getattr(user, "data", None) or "{}")
    except (TypeError, ValueError):
        return None
    return _normalise(data.get("language")) if isinstance(data, dict) else None


def requested_language() -> str | None:
    """An explicit `?lang=` on this request (to be remembered in the cookie)."""
    return _normalise(request.args.get("lang")) if has_request_context() else None


def select_locale() -> str:
    if not has_request_context():
        return "en"
    chosen = requested_language() or _normalise(request.cookies.get(COOKIE))
    if chosen:
        return chosen
    user = g.get("barong_web_user")
    if user is None and not request.path.startswith("/api/"):
        from flask_login import current_user

        user = current_user if getattr(current_user, "is_authenticated", False) else None
    stored = user_language(user) if user is not None else None
    if stored:
        return stored
    return request.accept_languages.best_match(LANGUAGES) or "en"


def remember_requested_language(response):
    """after_request: keep a `?lang=` choice in the cookie."""
    # every request passes here: no LocalProxy, and parse the query only when it may hold `lang`
    if b"lang" not in flaskctx.request().query_string:
        return response
    lang = requested_language()
    if lang and request.cookies.get(COOKIE) != lang:
        response.set_cookie(COOKIE, lang, max_age=COOKIE_MAX_AGE, samesite="Lax", httponly=True)
    return response
