"""`@api_auth`: the guard of resource/ and admin/ endpoints (CONTRACT §5, in-process)."""
from __future__ import annotations

import functools

from flask import g, request

from barong import authz


def api_auth(view):
    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        caller = authz.authenticate()
        authz.authorize(caller, request.method, request.path.lstrip("/"))
        g.caller = caller
        g.current_user = caller.account
        return view(*args, **kwargs)

    wrapper.barong_auth = True
    return wrapper


def current_user():
    return g.current_user
