"""`/api/v2/barong/<area>/…` blueprints by audience, plus `/api/v2/auth/<path>`."""
from __future__ import annotations

from flask import Flask

from barong import flaskctx
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
                return json_errors(["server.method_not_allowed"], 405, {"Allow": allow_header(request.environ)})
        return json_errors(["record.not_found"], 404)

    csrf.exempt(api_not_found)

    @app.after_request
    def _options_allow(response):
        # Flask's automatic OPTIONS answer lists the methods of every rule matching the path,
        # the catch-alls' included: list the operation's own (what the OpenAPI document says)
        request = flaskctx.request()  # every request passes here: no LocalProxy, no import
        if request.method == "OPTIONS" and "Allow" in response.headers and request.path.startswith("/api/"):
            response.headers["Allow"] = allow_header(request.environ)
        return response


_CATCH_ALLS = ("api_not_found", "management._unrouted")


def allow_header(environ) -> str:
    """`Allow` for the path of `environ`: the methods its own routes answer (not the
    catch-alls that turn unknown paths into JSON 404/405), plus HEAD with GET, and OPTIONS."""
    from flask import current_app
    from werkzeug.exceptions import HTTPException

    adapter = current_app.url_map.bind_to_environ(environ)
    matched = {}
    for method in ("GET", "POST", "PUT", "PATCH", "DELETE"):
        try:
            rule, _ = adapter.match(method=method, return_rule=True)
        except HTTPException:
            continue
        if rule.endpoint not in _CATCH_ALLS:
            matched[method] = rule
    # `/admin/users/role` (POST) is also `/admin/users/<uid>` (GET) with uid "role": the
    # path's own routes are the literal ones when there are any (as the document has it)
    literal = {m for m, rule in matched.items() if not rule.arguments}
    allowed = literal or set(matched)
    if "GET" in allowed:
        allowed.add("HEAD")
    return ", ".join(sorted(allowed | {"OPTIONS"}))
