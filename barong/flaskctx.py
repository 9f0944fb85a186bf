"""The current app, request and `g`, read without werkzeug's LocalProxy.

Each `flask.request.x`, `flask.g.x` or `flask.current_app.x` resolves a LocalProxy
(about 1 µs here). The authorization check runs on every request an exchange serves
and resolved about twenty of them, so its hot path (barong.authz, client_ip,
request_info, process_cache, access_tokens) reads the context variables Flask keeps
them in instead: `flask.globals._cv_app` and `_cv_request`, stable since Flask 2.2
(Flask is pinned in requirements.txt; tests/test_flaskctx.py fails if they move).
Everything else keeps using the ordinary proxies.
"""
from __future__ import annotations

from flask.globals import _cv_app, _cv_request


def app():
    """The current Flask app, or None outside an app context."""
    ctx = _cv_app.get(None)
    return ctx.app if ctx is not None else None


def request():
    """The current request, or None outside a request context."""
    ctx = _cv_request.get(None)
    return ctx.request if ctx is not None else None


def g():
    """The current `g`, or None outside an app context."""
    ctx = _cv_app.get(None)
    return ctx.g if ctx is not None else None
