"""`@api_auth`: the guard of resource/ and admin/ endpoints (CONTRACT §5, in-process).

Runs barong.authz.in_process(): restrictions, then the caller by API-key headers,
`Authorization: Bearer <JWT>` minted by this server, or the session cookie (CSRF on
state-changing verbs), then permissions for `request.path` — the same decision the
gateway gets from `/api/v2/auth/<path>`.
"""
from __future__ import annotations

import functools

from flask import g

from barong import authz


def api_auth(view):
    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        caller = authz.in_process()
        g.caller = caller
        g.current_user = caller.account
        return view(*args, **kwargs)

    wrapper.barong_auth = True
    return wrapper


def current_user():
    return g.current_user
