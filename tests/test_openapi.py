"""The OpenAPI document is generated from the endpoints' own declarations (barong.api.params):
every declared /api/v2/barong route appears with its parameters and success status."""
from __future__ import annotations

import re

import pytest

from barong.api.openapi import build

#: identity/public endpoints of the seed (user-admin-api-v2.5.21) with the seed's success status
SEED = {
    ("post", "/api/v2/barong/identity/sessions"): 201,
    ("delete", "/api/v2/barong/identity/sessions"): 204,
    ("post", "/api/v2/barong/identity/users"): 201,
    ("post", "/api/v2/barong/identity/users/access"): 201,
    ("get", "/api/v2/barong/identity/users/register_geetest"): 200,
    ("post", "/api/v2/barong/identity/users/email/generate_code"): 201,
    ("post", "/api/v2/barong/identity/users/email/confirm_code"): 201,
    ("post", "/api/v2/barong/identity/users/password/generate_code"): 201,
    ("post", "/api/v2/barong/identity/users/password/confirm_code"): 201,
    ("get", "/api/v2/barong/identity/configs"): 200,
    ("get", "/api/v2/barong/identity/version"): 200,
    ("get", "/api/v2/barong/identity/time"): 200,
    ("get", "/api/v2/barong/identity/ping"): 200,
    ("post", "/api/v2/barong/identity/password/validate"): 201,
    ("get", "/api/v2/barong/public/configs"): 200,
    ("get", "/api/v2/barong/public/version"): 200,
    ("get", "/api/v2/barong/public/time"): 200,
    ("get", "/api/v2/barong/public/ping"): 200,
    ("post", "/api/v2/barong/public/password/validate"): 201,
    ("post", "/api/v2/barong/public/kyc"): 201,
}


@pytest.fixture
def doc(client):
    resp = client.get("/api/v2/barong/swagger")
    assert resp.status_code == 200 and resp.mimetype == "application/json"
    return resp.get_json()


def _params(op) -> dict:
    names = {p["name"]: p.get("required", False) for p in op.get("parameters", [])}
    bodies = [content["schema"] for content in op.get("requestBody", {}).get("content", {}).values()]
    if "x-barong-payload-data" in op:  # management: the parameters are the JWS payload's `data`
        bodies = [op["x-barong-payload-data"]]
    for schema in bodies:
        for name in schema.get("properties", {}):
            names[name] = name in schema.get("required", [])
    return names


def test_openapi_json_is_the_same_document(client, doc):
    assert client.get("/api/v2/barong/openapi.json").get_json() == doc
    assert doc["openapi"].startswith("3.") and doc["info"]["title"] == "Barong"


def test_every_declared_route_is_documented(app, doc):
    checked = 0
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v2/barong/") or rule.endpoint.startswith("openapi."):
            continue
        decl = getattr(app.view_functions[rule.endpoint], "barong_declaration", None)
        if decl is None:
            continue
        path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            op = doc["paths"][path][method.lower()]
            assert str(decl.status) in op["responses"], (method, path)
            documented = _params(op)
            for p in decl.params:
                assert p.name in documented, (method, path, p.name)
                assert documented[p.name] == p.required, (method, path, p.name)
            checked += 1
    assert checked >= len(SEED)


@pytest.mark.parametrize("method,path", sorted(SEED))
def test_seed_identity_and_public_endpoints(doc, method, path):
    op = doc["paths"][path][method]
    assert str(SEED[(method, path)]) in op["responses"]
    assert op["summary"]


def test_identity_params_and_requiredness(doc):
    login = _params(doc["paths"]["/api/v2/barong/identity/sessions"]["post"])
    assert login == {"email": True, "password": True, "captcha_response": False, "otp_code": False,
                     "webauthn_assertion": False}  # passkeys (issue 15): added, optional
    signup = _params(doc["paths"]["/api/v2/barong/identity/users"]["post"])
    assert {"email": True, "password": True, "refid": False, "data": False}.items() <= signup.items()
    reset = _params(doc["paths"]["/api/v2/barong/identity/users/password/confirm_code"]["post"])
    assert reset == {"reset_password_token": True, "password": True, "confirm_password": True}


def test_every_identity_and_public_route_is_declared(app):
    undeclared = [r.rule for r in app.url_map.iter_rules()
                  if r.rule.startswith(("/api/v2/barong/identity", "/api/v2/barong/public"))
                  and not hasattr(app.view_functions[r.endpoint], "barong_declaration")]
    assert undeclared == []


def test_document_follows_a_new_declaration(app):
    """One source of truth: declaring a param changes the document (built fresh here)."""
    from barong.api.params import Param

    view = app.view_functions["identity.sessions_create"]
    view.barong_declaration.params.append(Param("probe_param", int, description="temporary"))
    try:
        op = build()["paths"]["/api/v2/barong/identity/sessions"]["post"]
        schema = op["requestBody"]["content"]["application/json"]["schema"]
        assert schema["properties"]["probe_param"]["type"] == "integer"
    finally:
        view.barong_declaration.params.pop()


def test_error_statuses_are_documented(doc):
    login = doc["paths"]["/api/v2/barong/identity/sessions"]
    assert {"201", "400", "401", "403", "422", "429"} <= set(login["post"]["responses"])
    assert {"204", "404"} <= set(login["delete"]["responses"])
    assert login["post"]["responses"]["400"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Errors"}
    ping = doc["paths"]["/api/v2/barong/public/ping"]["get"]["responses"]
    assert "400" not in ping and "422" not in ping


# ---- issue 13, item 13: the document describes what the server does ----------------------

def test_api_key_scheme_is_the_three_headers_together(doc):
    schemes = doc["components"]["securitySchemes"]
    assert {schemes[n]["name"] for n in ("apiKey", "apiKeyNonce", "apiKeySignature")} == {
        "X-Auth-Apikey", "X-Auth-Nonce", "X-Auth-Signature"}
    assert all(schemes[n] == {**schemes[n], "type": "apiKey", "in": "header"}
               for n in ("apiKey", "apiKeyNonce", "apiKeySignature"))
    me = doc["paths"]["/api/v2/barong/resource/users/me"]["get"]
    assert {"apiKey": [], "apiKeyNonce": [], "apiKeySignature": []} in me["security"]  # ONE requirement


def test_cookie_scheme_needs_the_csrf_header_on_writes(doc):
    schemes = doc["components"]["securitySchemes"]
    assert schemes["session"]["in"] == "cookie" and schemes["csrf"] == {**schemes["csrf"], "in": "header",
                                                                         "name": "X-CSRF-Token"}
    write = doc["paths"]["/api/v2/barong/resource/api_keys"]["post"]["security"]
    read = doc["paths"]["/api/v2/barong/resource/api_keys"]["get"]["security"]
    assert {"session": [], "csrf": []} in write and {"session": []} in read


def test_blank_refused_params_have_min_length(doc):
    resend = doc["paths"]["/api/v2/barong/identity/users/email/generate_code"]["post"]
    schema = resend["requestBody"]["content"]["application/json"]["schema"]
    assert schema["properties"]["email"]["minLength"] == 1 and schema["properties"]["email"]["maxLength"] == 10_000
    login = doc["paths"]["/api/v2/barong/identity/sessions"]["post"]["requestBody"]["content"]
    assert "minLength" not in login["application/json"]["schema"]["properties"]["otp_code"]  # blank allowed


def test_integer_params_carry_the_columns_range(doc):
    params = {p["name"]: p["schema"] for p in doc["paths"]["/api/v2/barong/admin/restrictions"]["delete"]["parameters"]}
    assert params["id"]["minimum"] == -2 ** 31 and params["id"]["maximum"] == 2 ** 31 - 1
    upload = doc["paths"]["/api/v2/barong/resource/documents/{document_id}/upload"]["get"]
    assert upload["parameters"][0]["schema"]["maximum"] == 2 ** 63 - 1


def test_management_bodies_are_jws(doc):
    op = doc["paths"]["/api/v2/barong/management/users"]["post"]
    schema = op["requestBody"]["content"]["application/json"]["schema"]
    assert set(schema["required"]) == {"payload", "signatures"}
    assert schema["properties"]["signatures"]["items"]["required"] == ["protected", "signature"]
    assert op["security"] == [] and "jws" not in doc["components"]["securitySchemes"]
    assert {"400", "401", "422", "201"} <= set(op["responses"])


def test_every_operation_lists_real_statuses_not_default(doc):
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            codes = set(op["responses"])
            assert "default" not in codes, (method, path)
            assert any(c.startswith("2") for c in codes), (method, path, codes)
            if "/resource/" in path or "/admin/" in path or "/management/" in path or op.get("parameters") \
                    or op.get("requestBody"):
                assert any(c.startswith("4") for c in codes), (method, path, codes)
            for code, response in op["responses"].items():
                if code.startswith("4"):
                    assert response["content"]["application/json"]["schema"] == {
                        "$ref": "#/components/schemas/Errors"}
    errors = doc["components"]["schemas"]["Errors"]
    assert errors["required"] == ["errors"] and errors["properties"]["errors"]["minItems"] == 1


def test_no_content_successes_are_documented_and_sent_without_a_body_type(doc, client, make_user, mailbox):
    op = doc["paths"]["/api/v2/barong/identity/users/email/generate_code"]["post"]
    assert "content" not in op["responses"]["201"]
    resp = client.post("/api/v2/barong/identity/users/email/generate_code", json={"email": "x@example.com"})
    assert resp.status_code == 201 and resp.data == b"" and "Content-Type" not in resp.headers


@pytest.mark.parametrize("method,path,allowed", [
    ("put", "/api/v2/barong/identity/sessions", {"POST", "DELETE"}),
    ("patch", "/api/v2/barong/resource/users/me", {"GET", "DELETE"}),
    ("post", "/api/v2/barong/public/ping", {"GET"}),
])
def test_405_lists_the_allowed_methods(client, method, path, allowed):
    resp = getattr(client, method)(path)
    assert resp.status_code == 405 and resp.get_json() == {"errors": ["server.method_not_allowed"]}
    assert allowed <= {m.strip() for m in resp.headers["Allow"].split(",")}


def test_rate_limited_operations_list_429(doc):
    assert "429" in doc["paths"]["/api/v2/barong/resource/otp/enable"]["post"]["responses"]
    assert "429" not in doc["paths"]["/api/v2/barong/resource/api_keys"]["get"]["responses"]


@pytest.mark.parametrize("method,path,allowed", [
    ("OPTIONS", "/api/v2/barong/identity/sessions", "DELETE, OPTIONS, POST"),
    ("TRACE", "/api/v2/barong/identity/sessions", "DELETE, OPTIONS, POST"),
    ("OPTIONS", "/api/v2/barong/management/users", "OPTIONS, POST"),
    ("PATCH", "/api/v2/barong/management/users", "OPTIONS, POST"),
    ("GET", "/api/v2/barong/management/nothing", "POST, PUT"),
])
def test_allow_lists_the_operations_own_methods_not_the_catch_alls(client, method, path, allowed):
    resp = client.open(path, method=method)
    assert resp.headers["Allow"] == allowed
    assert resp.status_code == (200 if method == "OPTIONS" else 405)


def test_allow_of_a_literal_path_ignores_a_parametrised_route_that_also_matches(client):
    """POST admin/users/role is also GET admin/users/<uid> with uid=role: Allow is the literal path's."""
    resp = client.open("/api/v2/barong/admin/users/role", method="OPTIONS")
    assert resp.headers["Allow"] == "OPTIONS, POST"
