"""Read-only "view as user" (barong.services.operators.view_as): the site's account pages,
rendered for the viewed user inside the operator's own request.

How it stays read-only:

* The login never changes. `POST /admin/users/<uid>/view-as` opens a view for the
  operator's session (a kv mark, 15 minutes); `GET /admin/users/<uid>/view-as/<screen>`
  then runs the site's own GET view of that screen (so the page is exactly the user's:
  same view, same templates, the user's data) with Flask-Login's user set to the viewed
  user for that call only, and puts the operator back before anything else runs. No
  session is created, read for writing or touched for the user.
* Only the screens in SCREENS are shown, only by GET. Any other method on a view-as URL
  is a 403 (recorded as a denied admin activity); whatever the account view flushed is
  rolled back before the page's audit row is written.
* In the rendered page every `url_for` of the site goes to the view-as URLs (the screens
  to their view-as twin; forms and buttons to a view-as URL that refuses them), the page
  body sits in a disabled `<fieldset>` with `hx-disable` (no control can be used, htmx
  sends nothing) and a banner names the user, says it is read-only and offers the way out.
* Every page shown is one admin activity (`users` · `view as user`, data.page); starting
  and leaving are audited too. The view ends when left, or by itself after 15 minutes.
* Personal data is masked by the viewer's rights (`view_as.masked_fields`: `page["masked_fields"]`,
  the parts still masked after any partial reveal, and `page["masked"]`, any of them; read by
  barong.api.entities and the profile form), never by BARONG_API_DATA_MASKING.
"""
from __future__ import annotations

from contextlib import contextmanager

from flask import (
    abort,
    current_app,
    flash,
    g,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _

from barong.errors import BarongError
from barong.extensions import db
from barong.services.accounts import required_actions, sessions
from barong.services.infra.unit_of_work import durable
from barong.services.operators import admin_users, view_as
from barong.web.console import bp
from barong.web.console.helpers import (
    actor,
    console_requires,
    forbidden,
    is_htmx,
    refused,
)

#: screen (URL segment) → the site's endpoint that renders it
SCREENS = {
    "overview": "account.home",
    "profile": "account.profile",
    "phone": "account.phones_page",
    "documents": "account.documents_page",
    "address": "account.address",
    "2fa": "account.otp_page",
    "passkeys": "account.passkeys_page",
    "password": "account.password_change",
    "api-keys": "account.api_keys_page",
    "sessions": "account.sessions_page",
    "activity": "account.activity",
}
SCREEN_OF = {endpoint: screen for screen, endpoint in SCREENS.items()}
READ_METHODS = ("GET", "HEAD")


def _session_id() -> str | None:
    sessions.from_cookie()
    return g.get("barong_session_id")


def _user_page(uid: str) -> str:
    return url_for("console.users_show", uid=uid)


def _go(url: str):
    if is_htmx():
        resp = make_response("", 204)
        resp.headers["HX-Redirect"] = url
        return resp
    return redirect(url, code=303)


# ---- the page's links and the banner ------------------------------------------------------------

def view_as_url_for(endpoint: str, **values) -> str:
    """`url_for` inside a viewed page: the site's screens → their view-as URL; any other
    site endpoint (form actions, sign-out, pages outside the view) → a view-as URL that
    refuses writes (403) and is no page (404); everything else (static, the language
    switch, the console) unchanged."""
    uid = g.view_as_page["uid"]
    if endpoint.startswith("."):
        endpoint = "account" + endpoint
    screen = SCREEN_OF.get(endpoint)
    if screen is not None:
        return url_for("console.users_view_as_screen", uid=uid, screen=screen, **values)
    if endpoint.startswith("account."):
        return url_for("console.users_view_as_screen", uid=uid, screen=endpoint.split(".", 1)[1])
    return url_for(endpoint, **values)


@bp.app_context_processor
def _view_as_context():
    """In a viewed page: what the site's own pages get — the account blueprint's context
    processors, which Flask runs only for requests of that blueprint (this one is the
    console's) — plus the view's banner data and its `url_for`."""
    page = g.get("view_as_page")
    if page is None:
        return {"view_as": None}
    ctx: dict = {}
    for processor in current_app.template_context_processors.get("account", ()):
        ctx.update(processor())
    ctx.update({"view_as": page, "url_for": view_as_url_for, "active_nav": page["endpoint"]})
    return ctx


@contextmanager
def _rendering_for(user, page: dict):
    """Flask-Login's user is `user` inside the block only (the site's view and its
    templates read `current_user`); the operator is put back however the block ends."""
    from flask_babel import get_locale

    get_locale()  # the operator's language, fixed before the user is swapped in
    had, saved = "_login_user" in g, g.get("_login_user")
    g._login_user, g.view_as_page = user, page
    try:
        yield
    finally:
        g.pop("view_as_page", None)
        if had:
            g._login_user = saved
        else:
            g.pop("_login_user", None)


# ---- routes ------------------------------------------------------------------------------------

@bp.post("/users/<uid>/view-as")
@console_requires("users.read", "users.view_as")
def users_view_as_start(uid):
    user = admin_users.get(uid)
    try:
        view_as.start(actor(), user, _session_id() or "")
    except BarongError as err:
        return refused(err)
    return _go(url_for("console.users_view_as_screen", uid=user.uid, screen="overview"))


@bp.get("/users/<uid>/view-as")
@console_requires("users.read", "users.view_as")
def users_view_as_home(uid):
    return redirect(url_for("console.users_view_as_screen", uid=uid, screen="overview"))


def _refuse_write(uid: str, screen: str):
    user = admin_users.get(uid)
    durable(_record_refused, actor().id, user.id, screen, request.method)
    resp = make_response(render_template("console/view_as/refused.html", user=user), 403)
    return resp


def _record_refused(actor_id: int, user_id: int, screen: str, method: str) -> None:
    from barong.models import User

    operator, user = db.session.get(User, actor_id), db.session.get(User, user_id)
    if operator is not None and user is not None:
        view_as.record_refused(operator, user, screen, method)


@bp.route("/users/<uid>/view-as/<screen>", methods=["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"])
@console_requires("users.read", "users.view_as")
def users_view_as_screen(uid, screen):
    if request.method not in READ_METHODS:
        return _refuse_write(uid, screen)
    user = admin_users.get(uid)
    endpoint = SCREENS.get(screen)
    if endpoint is None or endpoint not in current_app.view_functions:
        abort(404)
    if request.headers.get("HX-Request"):  # never a bare fragment: the whole page, with its banner
        resp = make_response("", 204)
        resp.headers["HX-Redirect"] = request.full_path.rstrip("?")
        return resp
    view = view_as.current(_session_id())
    if view is None or view.uid != user.uid:
        flash(_("The read-only view of %(email)s has ended. Start it again from the user page.",
                email=user.email), "info")
        return redirect(_user_page(user.uid))
    try:
        view_as.authorize(actor(), user)  # the role may have changed since the start
    except BarongError:
        return forbidden()
    page = {"uid": user.uid, "email": user.email, "screen": screen, "endpoint": endpoint,
            "ends_at": view.ends_at, "minutes_left": max(1, round(view.seconds_left / 60)),
            "pending": list(required_actions.pending(user.uid))}
    operator = actor()
    # the viewer's rights, not the API's masking flag; a partial reveal unmasks only its parts
    page["masked_fields"] = view_as.masked_fields(operator, user)
    page["masked"] = bool(page["masked_fields"])
    with _rendering_for(user, page):
        response = current_app.view_functions[endpoint]()
    response = current_app.make_response(response)
    # nothing the account view may have flushed is kept: only the audit row below is written
    db.session.rollback()
    if response.status_code != 200:
        abort(404)
    view_as.record_page(operator, user, screen)
    return response


@bp.post("/view-as/leave")
@console_requires()
def view_as_leave():
    ended = view_as.leave(actor(), _session_id())
    uid = ended.uid if ended else (request.form.get("uid") or "")
    if ended is not None:
        flash(_("You left the read-only view."), "success")
    try:
        return _go(_user_page(admin_users.get(uid).uid) if uid else url_for("console.users_index"))
    except BarongError:
        return _go(url_for("console.users_index"))
