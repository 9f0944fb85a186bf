"""Flask-Login over Barong's server-side session: pages and the JSON API share one
login (the `_barong_session` cookie), with the same agent/network binding and
sliding expiry as the authz check."""
from __future__ import annotations

from flask import g

from barong.services.accounts import sessions, users
from barong.services.infra.request_info import RequestInfo


def load_user_from_session(_request=None):
    if "barong_web_user" in g:
        return g.barong_web_user
    user = None
    s = sessions.from_cookie()
    if s is not None:
        info = RequestInfo.current()
        if sessions.is_valid(s, info):
            candidate = users.by_uid(s.uid)
            if candidate is not None and candidate.is_active_state:
                sessions.touch(s)
                user = candidate
    g.barong_web_user = user
    return user


def unauthorized():
    """Not signed in: browsers go to the login page (with `next`); HTMX requests get a
    401 carrying `HX-Redirect` so the whole page moves instead of a fragment swap."""
    from flask import flash, make_response, redirect, request, url_for
    from flask_babel import gettext as _

    from barong.web.support import is_htmx

    flash(_("Please sign in to continue."), "info")
    target = request.full_path if request.method == "GET" else request.path
    url = url_for("account.login", next=target.rstrip("?"))
    if is_htmx():
        response = make_response("", 401)
        response.headers["HX-Redirect"] = url
        return response
    return redirect(url)


def init_login_manager(login_manager) -> None:
    login_manager.request_loader(load_user_from_session)
    login_manager.login_view = "account.login"
    login_manager.unauthorized_handler(unauthorized)
