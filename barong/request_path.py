"""What every request pays before and after its view, kept to what that request needs
(issue 18; figures in docs/benchmarks.md, `bench/request_path.py`).

`install(app)` runs last in create_app, once every extension and hook is registered:

* **Flask cookie session**: the signing serializer (itsdangerous, ~25 µs to build) is built
  once per secret key instead of per request, and a request that carries no session
  cookie gets the empty session at once. The answer is unchanged: the same session class,
  so `Vary: Cookie` is still added when something reads it, and nothing is written for an
  empty, unmodified session.
* **Flask-Limiter's before_request check** is removed while the limiter has no default,
  application or blueprint limit (Barong's limits are all per-endpoint decorators,
  barong/services/access/rate_limits.py, checked by the decorator itself when the limited
  view runs): for every other request the check resolved an empty list of limits (about a
  fifth of a ping's time). Its after_request (rate-limit headers) and teardown run only
  for a request whose view checked a limit.
* **Flask-WTF's CSRF hook** looks at the method before the view's exemptions (a GET is
  never checked either way).
* **`Flask.ensure_sync`** — called for every before/after/teardown hook and the view on
  each request (about twenty times) and each time asking `inspect.iscoroutinefunction` —
  remembers its answer per registered function.
* **`Vary: Cookie`** for an empty session that was read (Flask-Login reads it on every
  response) is added without parsing and re-serialising a header set; **Flask-Login's
  remember-cookie hook** has nothing to do for an empty session (unless
  REMEMBER_COOKIE_REFRESH_EACH_REQUEST) but mark it read, as it did; **the ORM session's
  teardown** is skipped while no ORM session exists in this process (removing none did
  nothing). Issue 18's second round; figures in docs/benchmarks.md.
"""
from __future__ import annotations

import functools
import types

from flask import Flask
from flask.globals import _cv_request
from flask.sessions import SecureCookieSessionInterface


class LeanCookieSessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie session, with the serializer built once per key set and no
    work for a request without the cookie."""

    def __init__(self):
        self._serializers: dict = {}

    def get_signing_serializer(self, app: Flask):
        key = (app.secret_key, tuple(app.config.get("SECRET_KEY_FALLBACKS") or ()))
        try:
            return self._serializers[key]
        except KeyError:
            pass
        serializer = super().get_signing_serializer(app)
        if len(self._serializers) > 8:  # keys rotate rarely: never hold more than a few
            self._serializers.clear()
        self._serializers[key] = serializer
        return serializer

    def open_session(self, app: Flask, request):
        if app.secret_key and ("HTTP_COOKIE" not in request.environ
                               or not request.cookies.get(self.get_cookie_name(app))):
            return self.session_class()  # what Flask returns for an absent cookie
        return super().open_session(app, request)

    def save_session(self, app: Flask, session, response) -> None:
        if not session and not session.modified:  # nothing to write or delete: Flask returns too
            if session.accessed:
                vary_cookie(response)
            return
        super().save_session(app, session, response)


def vary_cookie(response) -> None:
    """`response.vary.add("Cookie")`, without parsing the absent header into a set (werkzeug
    raises and catches a KeyError for it) and dumping it back."""
    headers = response.headers
    for key, _value in headers:
        if key.lower() == "vary":
            response.vary.add("Cookie")
            return
    headers.add("Vary", "Cookie")


def _lean_remember_cookie(app: Flask) -> None:
    """Flask-Login's after_request `_update_remember_cookie`, for an empty session: it only
    reads `flask.session` (which marks it accessed: `Vary: Cookie`) and finds no `_remember`.
    With REMEMBER_COOKIE_REFRESH_EACH_REQUEST it writes one, so it runs then."""
    from barong.extensions import login_manager

    original = login_manager._update_remember_cookie

    @functools.wraps(original)
    def update_remember_cookie(response):
        ctx = _cv_request.get(None)
        session = getattr(ctx, "_session", None)
        if session is not None and not session and not app.config.get("REMEMBER_COOKIE_REFRESH_EACH_REQUEST"):
            session.accessed = True
            return response
        return original(response)

    app.after_request_funcs[None] = [update_remember_cookie if fn == original else fn
                                     for fn in app.after_request_funcs.get(None, [])]


def _lean_orm_teardown(app: Flask) -> None:
    """Flask-SQLAlchemy's teardown removes this context's ORM session; with none in the
    registry at all (ping, the gateway check: they never open one) that finds nothing."""
    from barong.extensions import db

    original = db._teardown_session
    registry = db.session.registry
    sessions = getattr(registry, "registry", None)  # ScopedRegistry: scope → Session
    if not isinstance(sessions, dict):
        return

    @functools.wraps(original)
    def teardown_session(exc):
        if registry.registry:
            original(exc)

    app.teardown_appcontext_funcs[:] = [teardown_session if fn == original else fn
                                        for fn in app.teardown_appcontext_funcs]


def _limiter_middleware_needed(limiter) -> bool:
    manager = limiter.limit_manager
    return bool(manager.default_limits or manager.application_limits or getattr(manager, "_blueprint_limits", None)
                or getattr(limiter, "_meta_limits", None))


def _only_after_a_limit_check(fn, passthrough: bool):
    """`fn` (the limiter's after_request / teardown hook) runs only for a request whose view
    checked a limit: the limiter keeps that request's state on the request context
    (`_limiter_request_context`, made by the check); without it the hook has nothing to do."""

    @functools.wraps(fn)
    def hook(arg):
        ctx = _cv_request.get(None)
        if ctx is not None and hasattr(ctx, "_limiter_request_context"):
            return fn(arg)
        return arg if passthrough else None

    return hook


def _drop_limiter_middleware(app: Flask) -> None:
    from barong.extensions import limiter

    if _limiter_middleware_needed(limiter):
        return
    check = limiter._check_request_limit
    app.before_request_funcs[None] = [fn for fn in app.before_request_funcs.get(None, []) if fn != check]
    inject = "_Limiter__inject_headers"
    app.after_request_funcs[None] = [
        _only_after_a_limit_check(fn, passthrough=True)
        if isinstance(fn, functools.partial) and getattr(fn.func, "__name__", "") == "__inject_headers"
        and fn.args and fn.args[0] is limiter and fn.func is getattr(type(limiter), inject, None) else fn
        for fn in app.after_request_funcs.get(None, [])]
    release = limiter._Limiter__release_context
    app.teardown_request_funcs[None] = [
        _only_after_a_limit_check(fn, passthrough=False) if fn == release else fn
        for fn in app.teardown_request_funcs.get(None, [])]


def _memoized_ensure_sync(app: Flask) -> None:
    original = app.ensure_sync
    known: dict = {}
    kinds = (types.FunctionType, types.MethodType, functools.partial)

    def ensure_sync(func):
        try:
            return known[func]
        except (KeyError, TypeError):
            pass
        result = original(func)
        if isinstance(func, kinds) and len(known) < 4096:
            known[func] = result
        return result

    app.ensure_sync = ensure_sync


def _csrf_only_for_checked_methods(app: Flask) -> None:
    """Flask-WTF's before_request looks the view's exemptions up before it looks at the
    method; for a GET (not in WTF_CSRF_METHODS) it then returns without doing anything.
    Look at the method first."""

    def wrap(fn):
        @functools.wraps(fn)
        def csrf_protect():
            if _cv_request.get().request.method not in app.config["WTF_CSRF_METHODS"]:
                return None
            return fn()

        return csrf_protect

    app.before_request_funcs[None] = [
        wrap(fn) if getattr(fn, "__qualname__", "") == "CSRFProtect.init_app.<locals>.csrf_protect" else fn
        for fn in app.before_request_funcs.get(None, [])]


def install(app: Flask) -> None:
    app.session_interface = LeanCookieSessionInterface()
    _drop_limiter_middleware(app)
    _csrf_only_for_checked_methods(app)
    _lean_remember_cookie(app)
    _lean_orm_teardown(app)
    _memoized_ensure_sync(app)
