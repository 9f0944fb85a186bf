"""HTML: the end-user site (web/account) and the operator console (web/console)."""
from __future__ import annotations

from flask import Flask


def register_console(app: Flask) -> None:
    from barong.web import console

    console.register(app)


def register_web(app: Flask) -> None:
    from barong.web import account, home, support

    support.init_app(app)
    app.register_blueprint(home.bp)
    app.register_blueprint(account.bp)
    register_console(app)  # the operator console, /admin (barong/web/console)
