"""`GET /api/v2/barong/swagger` (and `/openapi.json`): built from the routes' own
parameter declarations (barong.api.params), so it always matches the server."""
from __future__ import annotations

import re

from flask import Blueprint, current_app, jsonify

import barong

bp = Blueprint("openapi", __name__)

_AREA_AUTH = {"resource": [{"session": []}, {"apiKey": []}, {"bearer": []}],
              "admin": [{"session": []}, {"apiKey": []}, {"bearer": []}],
              "management": [{"jws": []}]}


def _error_responses(decl, area: str) -> dict:
    """Error statuses an endpoint can answer: derived from its parameters and area, plus
    those it declares (`errors={403: "…"}` in @use_params / @document)."""
    errors: dict = {}
    if any(p.required or not p.allow_blank for p in decl.params):
        errors[400] = "required parameter missing or blank (`<scope>.missing_x` / `empty_x`)"
    if decl.params and area != "management":
        errors.setdefault(422, "invalid parameter value or validation error")
    if area in _AREA_AUTH:
        errors[401] = "not authenticated"
    errors.update(decl.extra.get("errors") or {})
    return errors


def build() -> dict:
    paths: dict = {}
    for rule in current_app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v2/barong/") or rule.endpoint.startswith("openapi."):
            continue
        view = current_app.view_functions[rule.endpoint]
        decl = getattr(view, "barong_declaration", None)
        if decl is None:
            continue
        path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule)
        area = path.split("/")[4]
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            op: dict = {"summary": decl.summary.split("\n")[0], "tags": [area],
                        "operationId": rule.endpoint.replace(".", "_") + "_" + method.lower(),
                        "responses": {str(decl.status): {"description": "success"},
                                      "default": {"description": "error",
                                                  "content": {"application/json": {"schema": {
                                                      "$ref": "#/components/schemas/Errors"}}}}}}
            params = [{"name": a, "in": "path", "required": True, "schema": {"type": "string"}}
                      for a in rule.arguments]
            body_props, required = {}, []
            for p in decl.params:
                if p.name in rule.arguments:
                    continue
                if method in ("GET", "DELETE") or p.location == "query":
                    params.append({"name": p.name, "in": "query", "required": p.required,
                                   "schema": p.openapi_schema(), "description": p.description})
                else:
                    body_props[p.name] = {**p.openapi_schema(), "description": p.description}
                    if p.required:
                        required.append(p.name)
            if params:
                op["parameters"] = params
            if body_props:
                schema = {"type": "object", "properties": body_props}
                if required:
                    schema["required"] = required
                has_file = any(p.type == "file" for p in decl.params)
                content_types = ["multipart/form-data"] if has_file else ["application/json",
                                                                          "application/x-www-form-urlencoded"]
                if area == "management":
                    content_types = ["application/json"]
                op["requestBody"] = {"content": {ct: {"schema": schema} for ct in content_types}}
            for code, text in sorted(_error_responses(decl, area).items()):
                op["responses"][str(code)] = {"description": text, "content": {"application/json": {
                    "schema": {"$ref": "#/components/schemas/Errors"}}}}
            if decl.paginated:
                op["responses"][str(decl.status)]["headers"] = {
                    h: {"schema": {"type": "integer"}} for h in ("Total", "Page", "Per-Page")}
            if area in _AREA_AUTH:
                op["security"] = _AREA_AUTH[area]
            paths.setdefault(path, {})[method.lower()] = op
    return {
        "openapi": "3.0.3",
        "info": {"title": "Barong", "version": barong.__version__,
                 "description": "Authentication, authorization and KYC server (Barong-compatible API)."},
        "paths": dict(sorted(paths.items())),
        "components": {
            "schemas": {"Errors": {"type": "object", "properties": {
                "errors": {"type": "array", "items": {"type": "string"}}}}},
            "securitySchemes": {
                "session": {"type": "apiKey", "in": "cookie", "name": current_app.config["BARONG_SESSION_NAME"]},
                "apiKey": {"type": "apiKey", "in": "header", "name": "X-Auth-Apikey"},
                "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
                "jws": {"type": "apiKey", "in": "header", "name": "Content-Type",
                        "description": "JWS JSON general serialization body"},
            },
        },
    }


@bp.get("/swagger")
@bp.get("/openapi.json")
def swagger():
    doc = current_app.extensions.get("barong_openapi")
    if doc is None:
        doc = current_app.extensions["barong_openapi"] = build()
    return jsonify(doc)
