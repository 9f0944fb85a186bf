"""`/api/v2/auth/<path>`: rules, the minted JWT, JWKS (reference/authz.md §1, §7)."""
from __future__ import annotations

import jwt
import pytest

from barong.security import access_tokens
from tests.helpers import login_as

from .support import AUTH, ME, auth


def _claims(resp, client):
    """Decode the returned JWT with the public key fetched from the JWKS endpoint."""
    token = resp.headers["Authorization"].removeprefix("Bearer ")
    jwks = client.get("/api/v2/barong/public/jwks").get_json()
    header = jwt.get_unverified_header(token)
    (jwk,) = [k for k in jwks["keys"] if k["kid"] == header["kid"]]
    key = jwt.PyJWK(jwk)
    return jwt.decode(token, key.key, algorithms=["RS256"], audience="peatio", issuer="barong")


def test_no_credentials_is_invalid_session(client):
    resp = auth(client, "GET", "api/v2/peatio/account/balances")
    assert resp.status_code == 401
    assert resp.get_json() == {"errors": ["authz.invalid_session"]}
    assert "Authorization" not in resp.headers


@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD"])
def test_session_any_verb_gets_a_jwt(client, make_user, method):
    user = make_user()
    csrf = login_as(client, user)
    resp = auth(client, method, "api/v2/barong/resource/not_in_the_rules_path", headers={"X-CSRF-Token": csrf})
    assert resp.status_code == 200
    assert resp.data == b""
    assert resp.headers["Authorization"].startswith("Bearer ")


def test_jwt_claims_verified_with_the_jwks_public_key(client, make_user, app):
    referrer = make_user()
    user = make_user(username="alice", referral=referrer)
    login_as(client, user)
    claims = _claims(auth(client, "GET", ME), client)
    assert claims["uid"] == user.uid and claims["email"] == user.email and claims["username"] == "alice"
    assert claims["role"] == "member" and claims["level"] == user.level and claims["state"] == "active"
    assert claims["referral_id"] == referrer.id  # the referrer's internal id, as Barong
    assert claims["sub"] == "session" and claims["iss"] == "barong"
    assert claims["aud"] == ["peatio", "barong"]
    assert len(claims["jti"]) == 20 and int(claims["jti"], 16) >= 0
    assert claims["exp"] - claims["iat"] == app.config["BARONG_JWT_EXPIRE_TIME"]


def test_well_known_jwks_is_the_same_key(client):
    a = client.get("/.well-known/jwks.json")
    b = client.get("/api/v2/barong/public/jwks")
    assert a.status_code == b.status_code == 200
    assert a.get_json() == b.get_json()
    (key,) = a.get_json()["keys"]
    assert key["kty"] == "RSA" and key["alg"] == "RS256" and key["use"] == "sig" and key["kid"]


def test_returned_jwt_works_on_resource_users_me(client, make_user, app):
    user = make_user()
    login_as(client, user)
    token = auth(client, "GET", ME).headers["Authorization"]
    other = app.test_client()  # no cookie: only the Bearer token
    resp = other.get("/" + ME, headers={"Authorization": token, "User-Agent": "another agent"})
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["uid"] == user.uid


def test_token_is_reused_until_claims_change(client, make_user):
    from barong.extensions import db

    user = make_user()
    login_as(client, user)
    first = auth(client, "GET", ME).headers["Authorization"]
    assert auth(client, "GET", ME).headers["Authorization"] == first
    user.level = 3
    db.session.commit()
    third = auth(client, "GET", ME).headers["Authorization"]
    assert third != first
    assert _claims(auth(client, "GET", ME), client)["level"] == 3


def test_token_reminted_shortly_before_expiry(client, make_user, clock, app):
    app.config["BARONG_SESSION_EXPIRE_TIME"] = 2 * app.config["BARONG_JWT_EXPIRE_TIME"]
    user = make_user()
    login_as(client, user)
    first = auth(client, "GET", ME).headers["Authorization"]
    clock.advance(app.config["BARONG_JWT_EXPIRE_TIME"] - access_tokens.REUSE_MARGIN - 5)
    assert auth(client, "GET", ME).headers["Authorization"] == first
    clock.advance(10)
    assert auth(client, "GET", ME).headers["Authorization"] != first


def test_block_list_refused_even_with_session(client, make_user):
    login_as(client, make_user())
    resp = auth(client, "GET", "api/v2/peatio/management/ping")
    assert resp.status_code == 401
    assert resp.get_json() == {"errors": ["authz.permission_denied"]}
    resp = client.put(AUTH + "api/v2/peatio/management/ping")
    assert resp.get_json() == {"errors": ["authz.permission_denied"]}


def test_pass_list_without_credentials(client):
    resp = client.put(AUTH + "api/v2/peatio/public/ping")
    assert resp.status_code == 200
    assert resp.data == b""
    assert "Authorization" not in resp.headers


def test_pass_list_is_a_plain_prefix(client):
    assert auth(client, "GET", "api/v2/barong/identityX/anything").status_code == 200


def test_rules_file_is_reread_when_it_changes(client, app, tmp_path, monkeypatch):
    import os

    from barong.authz import rules as rules_module

    monkeypatch.setattr(rules_module, "RECHECK", 0)  # look at the mtime on every request

    rules = tmp_path / "rules.yml"
    rules.write_text("rules:\n  pass: [api/v2/custom]\n  block: []\n")
    app.config["BARONG_AUTHZ_RULES_FILE"] = rules
    assert auth(client, "GET", "api/v2/custom/x").status_code == 200
    assert auth(client, "GET", "api/v2/peatio/management/x").status_code == 401  # not blocked: no session
    rules.write_text("rules:\n  pass: []\n  block: [api/v2/custom]\n")
    os.utime(rules, ns=(1, 1))  # a distinct mtime even within the same clock tick
    resp = auth(client, "GET", "api/v2/custom/x")
    assert resp.get_json() == {"errors": ["authz.permission_denied"]}


def test_empty_path_is_authorized_like_any_other(client):
    resp = client.get("/api/v2/auth/")
    assert resp.get_json() == {"errors": ["authz.invalid_session"]}
