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


def api_auth(view=None, *, load_entity: bool = True):
    """`@api_auth`, or `@api_auth(load_entity=False)` for a view that can often answer from
    the cached account alone (users/me): the ORM row is then loaded by `current_user()`
    when the view asks for it."""
    if view is None:
        return functools.partial(api_auth, load_entity=load_entity)

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        caller = authz.in_process(load_entity=load_entity)
        g.caller = caller
        g.current_user = caller.account
        return view(*args, **kwargs)

    wrapper.barong_auth = True
    return wrapper


def current_user():
    """The caller's ORM User / ServiceAccount (loaded now when the guard left it unloaded)."""
    account = g.current_user
    if isinstance(account, authz.Account):
        from barong.errors import BarongError

        entity = account.entity()
        if entity is None:  # deleted between the two reads
            raise BarongError("authz.invalid_session", 401)
        g.current_user = g.caller.account = account = entity
    return account
