"""Helpers shared by tests (import from here; fixtures live in conftest.py)."""
from __future__ import annotations

import email
from email import policy
from pathlib import Path

DEFAULT_PASSWORD = "Tecohvi0-Strong"
UA = "Mozilla/5.0 (X11; Linux x86_64) pytest"


def login_as(client, user, password=DEFAULT_PASSWORD, otp_code=None) -> str:
    """Open a session for `user` through the API; returns the CSRF token."""
    body = {"email": user.email, "password": password}
    if otp_code:
        body["otp_code"] = otp_code
    resp = client.post("/api/v2/barong/identity/sessions", json=body)
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()["csrf_token"]


def totp_now(user) -> str:
    import pyotp

    from barong.services.accounts import otp

    return pyotp.TOTP(otp.secret_for(user)).now()


def mails(app) -> list:
    """Parsed .eml files written so far (oldest first)."""
    folder = Path(app.config["BARONG_INSTANCE_PATH"]) / "mail"
    if not folder.exists():
        return []
    return [email.message_from_bytes(p.read_bytes(), policy=policy.default) for p in sorted(folder.glob("*.eml"))]


def token_from_mail(msg) -> str:
    import re

    body = msg.get_body(preferencelist=("plain",)).get_content()
    return re.search(r"[?&]token=([^&\s]+)", body).group(1)


def logout(client, **kwargs):
    """DELETE identity/sessions with the session's X-CSRF-Token (logout needs it, like every
    state-changing cookie call); `kwargs` go to the request (headers merged)."""
    from flask import current_app

    from barong.security.crypto import sha256_hex
    from barong.services.accounts import sessions

    headers = dict(kwargs.pop("headers", {}) or {})
    cookie = client.get_cookie(current_app.config["BARONG_SESSION_NAME"])
    s = sessions.store().get(sha256_hex(cookie.value)) if cookie else None
    if s is not None:
        headers.setdefault("X-CSRF-Token", s.csrf_token)
    return client.delete("/api/v2/barong/identity/sessions", headers=headers, **kwargs)
