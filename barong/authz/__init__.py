"""Authorization: one pipeline, two entry points.

* `/api/v2/auth/<path>` (the gateway endpoint, barong/api/v2/authz.py);
* in-process, for `resource/` and `admin/` calls made directly (`api_auth`).

Both call `authenticate()` to find the caller (API key, session cookie or — in-process
only — a Bearer JWT minted by this server) and then the permission check.
"""
from __future__ import annotations

from dataclasses import dataclass

from flask import current_app, g, request

from barong.errors import BarongError
from barong.services import sessions, users
from barong.services.request_info import RequestInfo

STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE", "TRACE"}


@dataclass
class Caller:
    account: object  # User or ServiceAccount
    via: str  # "session", "api_key", "jwt"
    session: sessions.SessionData | None = None


def authenticate_cookie(method: str, info: RequestInfo) -> Caller:
    """Cookie flow (reference/authz.md §4): CSRF first, then session validity, then state."""
    s = sessions.from_cookie()
    if current_app.config["BARONG_CSRF_PROTECTION"] and method in STATE_CHANGING:
        token = request.headers.get("X-CSRF-Token")
        if not token:
            raise BarongError("authz.missing_csrf_token", 401)
        if s is None or not sessions.csrf_ok(s, token):
            raise BarongError("authz.csrf_token_mismatch", 401)
    if s is None:
        raise BarongError("authz.invalid_session", 401)
    user = users.by_uid(s.uid)
    if user is None:
        raise BarongError("authz.invalid_session", 401)
    if not sessions.is_valid(s, info):
        sessions.destroy(s, commit_now=True)
        raise BarongError("authz.client_session_mismatch", 401)
    sessions.touch(s)
    if not user.is_active_state:
        raise BarongError("authz.user_not_active", 401)
    return Caller(user, "session", s)


def authenticate(method: str | None = None) -> Caller:
    """Find the caller of the current request or raise the authz.* error."""
    method = method or request.method
    info = RequestInfo.current()
    return authenticate_cookie(method, info)


def authorize(caller: Caller, method: str, path: str) -> None:
    """RBAC permission check for `path` (no leading slash). Extended by the authz work."""
    return None
