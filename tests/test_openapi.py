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
    assert login == {"email": True, "password": True, "captcha_response": False, "otp_code": False}
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
