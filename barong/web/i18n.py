"""Locale selection: the signed-in user's `data.language`, else the browser's (en/ru)."""
from __future__ import annotations

from flask import g, request

LANGUAGES = ("en", "ru")


def select_locale() -> str:
    user = g.get("current_user")
    if user is not None and getattr(user, "language", None):
        lang = user.language.lower()
        if lang in LANGUAGES:
            return lang
    chosen = request.cookies.get("lang")
    if chosen in LANGUAGES:
        return chosen
    return request.accept_languages.best_match(LANGUAGES) or "en"
