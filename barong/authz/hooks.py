"""Restrictions on every request this server serves itself (identity and public API,
web pages, console), not only on the gateway's `/api/v2/auth/…` check.

Exempt: `/api/v2/auth/…` (it checks the path it is asked about), the JWKS documents
(public key material gateways must always be able to fetch), static files, and the
whitelink path (barong.services.access.restrictions.WHITELINK_PATH, inside `check`).
"""
from __future__ import annotations

from flask import Flask

from barong import flaskctx

#: endpoints whose requests are never refused by a restriction
EXEMPT_ENDPOINTS = frozenset({"static", "jwks_well_known", "public.jwks"})
#: web endpoints that count as "login" for blocklogin restrictions (POST only): the
#: account pages' login form and its 2FA step (account.login, account.login_submit, …)
LOGIN_ENDPOINT_PREFIX = "account.login"


def enforce_restrictions() -> None:
    req = flaskctx.request()  # every request passes here: no LocalProxy
    path, endpoint = req.path, req.endpoint
    if path.startswith("/api/v2/auth/") or path == "/api/v2/auth" or endpoint in EXEMPT_ENDPOINTS:
        return
    from barong.authz import check_restrictions

    login = req.method == "POST" and (endpoint or "").startswith(LOGIN_ENDPOINT_PREFIX)
    check_restrictions(path.lstrip("/"), login=login)
    flaskctx.g()._authz_restrictions_checked = True


def init_app(app: Flask) -> None:
    app.before_request(enforce_restrictions)
