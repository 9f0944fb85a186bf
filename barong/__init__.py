"""Barong (Python): authentication, authorization and KYC server."""
from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path

from flask import Flask

from barong import config as config_module

__version__ = "3.0.0"


def create_app(config: dict | None = None) -> Flask:
    app = Flask(
        __name__,
        template_folder=str(config_module.ROOT / "templates"),
        static_folder=str(config_module.ROOT / "static"),
        instance_path=str(config_module.INSTANCE),
    )
    app.config.update(config if config is not None else config_module.from_env())
    configure_app(app)
    register_extensions(app)
    register_blueprints(app)
    register_error_handlers(app)
    register_request_hooks(app)
    register_cli(app)
    from barong import request_path

    request_path.install(app)  # last: the generic per-request path does only what a request needs
    return app


def _secret_key(instance: Path) -> str:
    path = instance / "secret_key"
    if path.exists():
        return path.read_text().strip()
    instance.mkdir(parents=True, exist_ok=True)
    value = secrets.token_hex(32)
    with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as fh:
        fh.write(value)
    return value


def configure_app(app: Flask) -> None:
    instance = Path(app.config["BARONG_INSTANCE_PATH"])
    instance.mkdir(parents=True, exist_ok=True)
    if not app.config.get("SECRET_KEY"):
        try:
            app.config["SECRET_KEY"] = _secret_key(instance)
        except FileExistsError:  # another worker wrote it first
            app.config["SECRET_KEY"] = (instance / "secret_key").read_text().strip()
    # Multipart bodies may carry several files; the per-file limit is checked by the upload service.
    app.config["MAX_CONTENT_LENGTH"] = app.config["BARONG_UPLOAD_MAX_SIZE"] * 5 + 1024 * 1024
    # Always initialised; BARONG_RATELIMIT_ENABLED is read per request (services/access/rate_limits.py).
    app.config["RATELIMIT_ENABLED"] = True
    app.config["RATELIMIT_STORAGE_URI"] = app.config.get("BARONG_REDIS_URL") or "memory://"
    from barong.services.infra import redis_client

    redis_client.init_app(app)  # timeouts + circuit breaker on every Redis client; an outage answers 503
    app.config["RATELIMIT_HEADERS_ENABLED"] = True
    if not app.debug and not app.testing:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        from barong import access_log

        access_log.install()  # no token, digest or secret query value in any log line (CONTRACT §4)
    from barong.security.jwt_keys import load_keypair
    from barong.settings import load_barong_settings

    app.extensions["barong_keypair"] = load_keypair(app.config.get("JWT_PRIVATE_KEY_PATH"), instance)
    app.extensions["barong_settings"] = load_barong_settings(app.config["BARONG_CONFIG"])
    from barong.services.access import management_keychain

    management_keychain.init_app(app)  # a malformed BARONG_MANAGEMENT_API_CONFIG stops start-up


def register_extensions(app: Flask) -> None:
    from barong.extensions import babel, csrf, db, limiter, login_manager, migrate

    db.init_app(app)
    migrate.init_app(app, db, directory=str(config_module.ROOT / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    from barong.web.auth import init_login_manager

    init_login_manager(login_manager)
    from barong.web.i18n import select_locale

    babel.init_app(app, locale_selector=select_locale)
    from barong.services.accounts import sessions

    sessions.init_app(app)
    from barong.services.verification import kyc_review  # noqa: F401 — receives signals.kyc_waiting_changed


def register_blueprints(app: Flask) -> None:
    from barong.api.v2 import register_api
    from barong.web import register_web

    register_api(app)
    register_web(app)
    from barong.web import security_headers

    security_headers.init_app(app)  # CSP, nosniff, frame/referrer policy, no-store, HSTS


def register_error_handlers(app: Flask) -> None:
    from barong.errors import register_error_handlers as register

    register(app)


def register_request_hooks(app: Flask) -> None:
    from barong import flaskctx
    from barong.services.infra import unit_of_work

    def _fresh_g():
        # Per-request caches live on `g` (session, client IP, caller). A request reuses an app
        # context that is already pushed (the test suite keeps one open per test), so start
        # every request with an empty `g`; in production each request has its own anyway
        # (every request passes here: no LocalProxy).
        state = flaskctx.g().__dict__
        if state:
            state.clear()

    app.before_request_funcs.setdefault(None, []).insert(0, _fresh_g)
    unit_of_work.init_app(app)
    __import__("barong.authz.hooks", fromlist=["init_app"]).init_app(app)  # restrictions on every request
    __import__("barong.web.required_actions", fromlist=["init_app"]).init_app(app)  # operator-required actions


def register_cli(app: Flask) -> None:
    from barong.cli import register_commands

    register_commands(app)
