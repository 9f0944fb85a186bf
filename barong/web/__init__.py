"""HTML: the end-user site (web/account) and the operator console (web/console)."""
from __future__ import annotations

from flask import Flask, abort

from barong import flaskctx


def register_console(app: Flask) -> None:
    from barong.web import console

    console.register(app)


def register_web(app: Flask) -> None:
    from barong.web import account, home, support

    app.before_request(_refuse_nul_bytes)
    support.init_app(app)
    app.register_blueprint(home.bp)
    app.register_blueprint(account.bp)
    register_console(app)  # the operator console, /admin (barong/web/console)


def _refuse_nul_bytes():
    """The site's forms and filters reach the database as typed: a NUL byte in a query or
    form value (PostgreSQL refuses it in text: a 500) is a 400 page instead. The API refuses
    it per parameter, with the parameter's own code (barong/api/params.py)."""
    request = flaskctx.request()  # every request passes here: no LocalProxy, no import
    if request.path.startswith("/api/"):
        return None
    if any("\x00" in key or "\x00" in value for key, value in request.values.items(multi=True)):
        abort(400)
    return None
