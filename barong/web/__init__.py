"""HTML: the end-user site (web/account) and the operator console (web/console)."""
from __future__ import annotations

from flask import Flask, redirect, url_for


def register_web(app: Flask) -> None:
    from barong.web import home

    app.register_blueprint(home.bp)
