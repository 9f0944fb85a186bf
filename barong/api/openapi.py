"""`GET /api/v2/barong/swagger` (and `/openapi.json`): built from the routes' own
parameter declarations (barong.api.params), so it always matches the server."""
from __future__ import annotations

import re

from flask import Blueprint, current_app, jsonify

import barong

bp = Blueprint("openapi", __name__)

#: security requirements: alternatives (a list of objects); the schemes inside one object go
#: together — the API key is its three X-Auth-* headers, the session is the cookie plus
#: X-CSRF-Token on state-changing calls (CONTRACT §4)
_API_KEY = {"apiKey": [], "apiKeyNonce": [], "apiKeySignature": []}
_READ_AUTH = [{"session": []}, _API_KEY, {"bearer": []}]
_WRITE_AUTH = [{"session": [], "csrf": []}, _API_KEY, {"bearer": []}]
_AUTH_AREAS = ("resource", "admin")
_ERRORS_REF = {"$ref": "#/components/schemas/Errors"}

#: the body of every management call: a JWS in JSON general serialization whose payload
#: (base64url JSON) carries iat/exp/jti and `data` — the operation's parameters
JWS_SCHEMA = {
    "type": "object", "required": ["payload", "signatures"],
    "properties": {
        "payload": {"type": "string", "minLength": 1, "description": "base64url JSON: {iat, exp, jti, data}"},
        "signatures": {"type": "array", "minItems": 1, "items": {
            "type": "object", "required": ["protected", "signature"],
            "properties": {"protected": {"type": "string", "minLength": 1},
                           "header": {"type": "object", "properties": {"kid": {"type": "string"}}},
                           "signature": {"type": "string", "minLength": 1}}}},
    },
}


def _error_responses(decl, area: str, method: str, has_path_args: bool, view, query_params=()) -> dict:
    """Error statuses an endpoint can answer: derived from its parameters, verb, area and
    guards, plus those it declares (`errors={403: "…"}` in @use_params / @document)."""
    errors: dict = {}
    if area == "management":
        errors[400] = "not a JSON body / query parameters / missing or blank parameter"
        errors[401] = "signature missing, invalid, expired or replayed (management.jwt.*)"
        errors[404] = "record.not_found and <x>.doesnt_exist"
        errors[422] = "invalid parameter value or validation error"
    else:
        if any(p.required or not p.allow_blank for p in decl.params) or (decl.params and method != "GET"):
            errors[400] = "required parameter missing or blank (`<scope>.missing_x` / `empty_x`), malformed JSON"
        if decl.params:
            errors[422] = "invalid parameter value or validation error"
        if area in _AUTH_AREAS:
            errors[401] = "not authenticated, CSRF token missing, or not permitted (authz.*, *.ability.not_permitted)"
            errors[404] = "record.not_found and <x>.doesnt_exist"
            # barong.services.accounts.required_actions: an operator made the user change the password / enrol 2FA
            errors[403] = "authz.required_action.change_password / enable_2fa: complete it first"
            if area == "admin":  # BARONG_CONSOLE_REQUIRE_2FA (barong.authz._operator_2fa)
                errors[403] += "; admin.2fa.required: the operator must enrol TOTP or a passkey first"
        elif has_path_args:
            errors[404] = "record.not_found"
    if method != "GET" and area in _AUTH_AREAS + ("management",):
        # writes go through labels/profiles: a concurrent change of the same label, an open profile
        errors[409] = "conflict: label.conflict (concurrent change), state.exists (open profile)"
    if any(p.get("in") == "query" for p in query_params):
        # gunicorn's request-line limit (barong/gunicorn_conf.py): a query too long for it is refused
        errors[414] = "request line too long (server.uri_too_long)"
    if getattr(view, "barong_rate_limited", False):
        errors[429] = "too many requests (Retry-After)"
    errors.update(decl.extra.get("errors") or {})
    return errors


def _path_param(rule, name: str) -> dict:
    converter = rule._converters.get(name)
    if converter is not None and getattr(converter, "num_convert", None) is int:
        schema = {"type": "integer", "format": "int64", "minimum": converter.min or 0,
                  "maximum": converter.max if converter.max is not None else 2 ** 63 - 1}
    else:
        schema = {"type": "string", "minLength": 1, "pattern": "^[^/]+$"}
    return {"name": name, "in": "path", "required": True, "schema": schema}


def _body_schema(params, required) -> dict:
    schema = {"type": "object", "properties": params}
    if required:
        schema["required"] = required
    return schema


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
            success = {"description": "success"}
            if decl.status != 204 and not getattr(view, "barong_no_content", False):
                produces = decl.extra.get("produces") or ("application/json",)  # a file download lists its types
                success["content"] = {media: {"schema": {} if media == "application/json" else
                                              {"type": "string", "format": "binary"}} for media in produces}
            op: dict = {"summary": decl.summary.split("\n")[0], "tags": [area],
                        "operationId": rule.endpoint.replace(".", "_") + "_" + method.lower(),
                        "responses": {str(decl.status): success}}
            params = [_path_param(rule, a) for a in sorted(rule.arguments)]
            body_props, required = {}, []
            for p in decl.params:
                if p.name in rule.arguments:
                    continue
                if area != "management" and (method in ("GET", "DELETE") or p.location == "query"):
                    params.append({"name": p.name, "in": "query", "required": p.required,
                                   "schema": p.openapi_schema(), "description": p.description})
                else:
                    body_props[p.name] = {**p.openapi_schema(), "description": p.description}
                    if p.required:
                        required.append(p.name)
            if params:
                op["parameters"] = params
            if area == "management":
                op["requestBody"] = {"required": True, "description": "JWS (JSON general serialization) signed "
                                     "by the keychain's keys; the payload's `data` holds the parameters "
                                     "(`x-barong-payload-data`)",
                                     "content": {"application/json": {"schema": JWS_SCHEMA}}}
                op["x-barong-payload-data"] = _body_schema(body_props, required)
                op["x-barong-management-scope"] = decl.extra.get("management_scope")
            elif body_props:
                has_file = any(p.type == "file" for p in decl.params)
                content_types = ["multipart/form-data"] if has_file else ["application/json",
                                                                          "application/x-www-form-urlencoded"]
                op["requestBody"] = {"content": {ct: {"schema": _body_schema(body_props, required)}
                                                 for ct in content_types}}
            for code, text in sorted(_error_responses(decl, area, method, bool(rule.arguments), view,
                                                      params).items()):
                op["responses"][str(code)] = {"description": text,
                                              "content": {"application/json": {"schema": _ERRORS_REF}}}
            if decl.paginated:
                op["responses"][str(decl.status)]["headers"] = {
                    h: {"schema": {"type": "integer"}} for h in ("Total", "Page", "Per-Page")}
            if area in _AUTH_AREAS:
                op["security"] = _READ_AUTH if method == "GET" else _WRITE_AUTH
            elif area == "management":
                op["security"] = []  # the signed body is the credential
            paths.setdefault(path, {})[method.lower()] = op
    return {
        "openapi": "3.0.3",
        "info": {"title": "Barong", "version": barong.__version__,
                 "description": "Authentication, authorization and KYC server (Barong-compatible API)."},
        "paths": dict(sorted(paths.items())),
        "components": {
            "schemas": {"Errors": {"type": "object", "required": ["errors"], "properties": {
                "errors": {"type": "array", "minItems": 1, "items": {"type": "string", "minLength": 1}}}},
                "JWS": JWS_SCHEMA},
            "securitySchemes": {
                "session": {"type": "apiKey", "in": "cookie", "name": current_app.config["BARONG_SESSION_NAME"],
                            "description": "session cookie set by identity/sessions (login) or identity/users"},
                "csrf": {"type": "apiKey", "in": "header", "name": "X-CSRF-Token",
                         "description": "the csrf_token returned at login; required with the cookie on "
                                        "state-changing calls"},
                "apiKey": {"type": "apiKey", "in": "header", "name": "X-Auth-Apikey", "description": "API key kid"},
                "apiKeyNonce": {"type": "apiKey", "in": "header", "name": "X-Auth-Nonce",
                                "description": "milliseconds since the epoch (within BARONG_APIKEY_NONCE_LIFETIME)"},
                "apiKeySignature": {"type": "apiKey", "in": "header", "name": "X-Auth-Signature",
                                    "description": "hex HMAC-SHA256(secret, nonce + kid)"},
                "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
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
