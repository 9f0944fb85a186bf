"""`/api/v2/barong/<area>/…` blueprints by audience, plus `/api/v2/auth/<path>`."""
from __future__ import annotations

from flask import Flask

from barong.errors import json_errors

PREFIX = "/api/v2/barong"


def register_api(app: Flask) -> None:
    from barong.api import converters, openapi

    converters.install(app)  # before any rule is added: no NUL / past-BIGINT path value matches
    from barong.api.v2 import admin, authz, identity, management, public, resource
    from barong.api.v2 import jwks  # noqa: F401  (GET public/jwks, before `public` is registered)
    from barong.extensions import csrf

    for module, area in ((identity, "identity"), (public, "public"), (resource, "resource"), (admin, "admin"),
                         (management, "management")):
        csrf.exempt(module.bp)  # the API's CSRF is the session's X-CSRF-Token (barong.authz)
        app.register_blueprint(module.bp, url_prefix=f"{PREFIX}/{area}")
    csrf.exempt(authz.bp)
    app.register_blueprint(authz.bp, url_prefix="/api/v2/auth")
    csrf.exempt(openapi.bp)
    app.register_blueprint(openapi.bp, url_prefix=PREFIX)

    @app.route("/api/", defaults={"path": ""}, methods=["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"])
    @app.route("/api/<path:path>", methods=["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"])
    def api_not_found(path):
        # a known path asked with another verb is 405, not 404
        from flask import request
        from werkzeug.exceptions import HTTPException

        adapter = app.url_map.bind_to_environ(request.environ)
        for method in ("GET", "POST", "PUT", "PATCH", "DELETE"):
            if method == request.method:
                continue
            try:
                endpoint, _ = adapter.match(method=method)
            except HTTPException:
                continue
            if endpoint != "api_not_found":
                allowed = sorted({m for m in ("GET", "POST", "PUT", "PATCH", "DELETE")
                                  if _matches(adapter, m)} | {"OPTIONS"})
                allowed += ["HEAD"] if "GET" in allowed else []
                return json_errors(["server.method_not_allowed"], 405, {"Allow": ", ".join(allowed)})
        return json_errors(["record.not_found"], 404)

    def _matches(adapter, method) -> bool:
        from werkzeug.exceptions import HTTPException

        try:
            return adapter.match(method=method)[0] != "api_not_found"
        except HTTPException:
            return False

    csrf.exempt(api_not_found)
