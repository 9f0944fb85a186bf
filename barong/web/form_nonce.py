"""One-time form nonces: a form whose replay would store something twice (a document or
proof-of-address upload, an API key, a phone, a profile) carries a hidden `form_nonce`,
rendered fresh every time the form is; the view consumes it before acting, and a second
submission carrying the same nonce (a double click without JavaScript, the browser's
"resend", a replayed request) is refused and stores nothing.

The nonce is signed with the app's secret (itsdangerous) and names the form and the
signed-in user, so only a nonce this server rendered for this user and this form counts
(and only for MAX_AGE); consuming it is `kv.add` — Redis `SET NX` or the `kv_entries`
primary key — atomic however many requests race. In the database store the mark joins
the request's transaction: a submission refused for another reason (a bad field) leaves
the nonce usable, and the re-rendered form carries a new one anyway.
"""
from __future__ import annotations

import secrets

from flask import current_app
from flask_login import current_user
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from markupsafe import Markup
from wtforms import HiddenField
from wtforms.widgets import HiddenInput

from barong.errors import BarongError
from barong.services.infra import kv

FIELD = "form_nonce"
#: seconds a rendered form stays sendable (a form left open longer asks to be sent again)
MAX_AGE = 24 * 3600
_SALT = "barong.form-nonce"


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt=_SALT)


def _holder() -> str:
    return current_user.uid if getattr(current_user, "is_authenticated", False) else ""


def issue(purpose: str) -> str:
    """A new nonce for the form `purpose`, bound to the signed-in user."""
    return _serializer().dumps({"f": purpose, "u": _holder(), "n": secrets.token_urlsafe(16)})


def consume(purpose: str, token: str | None) -> None:
    """Use the nonce once. Raises BarongError form.expired (422: missing, forged, another
    form's or user's, older than MAX_AGE) or form.replayed (409: already used)."""
    try:
        claims = _serializer().loads(token or "", max_age=MAX_AGE)
    except (SignatureExpired, BadSignature):
        raise BarongError("form.expired", 422) from None
    if not isinstance(claims, dict) or claims.get("f") != purpose or claims.get("u") != _holder():
        raise BarongError("form.expired", 422)
    if not kv.add(f"form_nonce:{claims.get('n')}", purpose, MAX_AGE):
        raise BarongError("form.replayed", 409)


class _FreshNonce(HiddenInput):
    def __call__(self, field, **kwargs):
        kwargs["value"] = issue(field.purpose)  # never the submitted one: it may be used up
        return Markup(super().__call__(field, **kwargs))


class NonceField(HiddenField):
    """`form_nonce = NonceField("documents")`: rendered by `form.hidden_tag()` with a fresh
    nonce; the view calls `consume_for(form)` before acting."""

    widget = _FreshNonce()

    def __init__(self, purpose: str, **kwargs):
        super().__init__(**kwargs)
        self.purpose = purpose


def consume_for(form) -> None:
    """consume() the nonce the form was sent with (see NonceField)."""
    field = form[FIELD]
    consume(field.purpose, field.data)
