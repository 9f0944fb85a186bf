"""Bad input on the identity/public API: malformed bodies, wrong types, oversized strings,
unknown paths and methods — always a JSON 4xx with a code, and nothing written (CONTRACT §7)."""
from __future__ import annotations

import pytest

from barong.extensions import db
from barong.models import User
from barong.services.accounts import identity
from tests.helpers import DEFAULT_PASSWORD

from .support import API, counts


@pytest.fixture
def someone(make_user):
    return make_user()


def assert_json_error(resp, status, codes=None):
    assert resp.status_code == status, resp.data[:300]
    assert resp.mimetype == "application/json"
    body = resp.get_json()
    assert isinstance(body["errors"], list) and body["errors"]
    assert all(isinstance(c, str) and "Traceback" not in c for c in body["errors"])
    if codes is not None:
        assert body["errors"] == codes


@pytest.mark.parametrize("path", ["/users", "/sessions", "/users/password/generate_code",
                                  "/users/email/confirm_code", "/users/password/confirm_code"])
@pytest.mark.parametrize("raw", ['{"email": ', "[1, 2", "{'single': 'quotes'}", "\xff\xfe"])
def test_malformed_json_is_400_json(client, someone, path, raw):
    before = counts()
    resp = client.post(API + path, data=raw.encode("latin-1"), content_type="application/json")
    assert_json_error(resp, 400, ["server.invalid_json"])
    assert counts() == before


@pytest.mark.parametrize("raw", ["[]", '"a string"', "42"])
def test_json_that_is_not_an_object_is_400(client, raw):
    resp = client.post(f"{API}/users", data=raw, content_type="application/json")
    assert_json_error(resp, 400)


def test_empty_json_body_is_missing_params(client):
    resp = client.post(f"{API}/sessions", data="", content_type="application/json")
    assert_json_error(resp, 400, ["identity.session.missing_email", "identity.session.missing_password"])


@pytest.mark.parametrize("field,value,code", [
    ("email", ["a@b.io"], "identity.user.invalid_email"),
    ("email", {"x": 1}, "identity.user.invalid_email"),
    ("password", {"x": 1}, "identity.user.invalid_password"),
    ("password", [DEFAULT_PASSWORD], "identity.user.invalid_password"),
    ("username", ["bob"], "identity.user.invalid_username"),
    ("refid", {"uid": "ID0"}, "identity.user.invalid_refid"),
])
def test_wrong_types_on_signup_422(client, someone, field, value, code):
    body = {"email": "typed@example.com", "password": DEFAULT_PASSWORD, field: value}
    before = counts()
    resp = client.post(f"{API}/users", json=body)
    assert_json_error(resp, 422, [code])
    assert counts() == before


@pytest.mark.parametrize("value", [123, 12.5, True])
def test_scalar_email_is_coerced_then_invalid(client, someone, value):
    resp = client.post(f"{API}/users", json={"email": value, "password": DEFAULT_PASSWORD})
    assert_json_error(resp, 422, ["email.invalid"])


def test_null_values_are_blank(client):
    resp = client.post(f"{API}/users", json={"email": None, "password": None})
    assert_json_error(resp, 400, ["identity.user.empty_email", "identity.user.empty_password"])


def test_wrong_types_on_login(client, someone):
    resp = client.post(f"{API}/sessions", json={"email": [someone.email], "password": DEFAULT_PASSWORD})
    assert_json_error(resp, 422, ["identity.session.invalid_email"])


class TestOversized:
    def test_email_over_255_chars(self, client, someone):
        before = counts()
        resp = client.post(f"{API}/users", json={"email": "a" * 250 + "@example.com", "password": DEFAULT_PASSWORD})
        assert_json_error(resp, 422, ["email.invalid"])
        assert counts() == before

    def test_parameter_over_the_string_cap(self, client, someone):
        resp = client.post(f"{API}/users", json={"email": "x@example.com", "password": "Aa1" + "b" * 20_000})
        assert_json_error(resp, 422, ["identity.user.invalid_password"])

    def test_long_password_fails_requirements_quickly(self, client, someone):
        resp = client.post(f"{API}/users", json={"email": "x@example.com", "password": "Aa1-" + "qZ" * 2000})
        assert_json_error(resp, 422, ["password.requirements"])

    def test_long_login_values(self, client, someone):
        resp = client.post(f"{API}/sessions", json={"email": "e" * 9000, "password": "p" * 9000})
        assert_json_error(resp, 401, ["identity.session.invalid_params"])

    def test_long_token(self, client):
        resp = client.post(f"{API}/users/email/confirm_code", json={"token": "a.b." + "c" * 9000})
        assert_json_error(resp, 422)

    def test_body_over_the_request_limit_is_413_json(self, client, app):
        app.config["MAX_CONTENT_LENGTH"] = 1024
        resp = client.post(f"{API}/users", data="x" * 4096, content_type="application/json")
        assert_json_error(resp, 413, ["server.payload_too_large"])

    def test_long_user_agent_is_truncated_not_fatal(self, client, someone):
        resp = client.post(f"{API}/sessions", json={"email": someone.email, "password": DEFAULT_PASSWORD},
                           headers={"User-Agent": "U" * 5000})
        assert resp.status_code == 201


@pytest.mark.parametrize("method,path", [
    ("get", "/api/v2/barong/nope"), ("post", "/api/v2/barong/identity/nope"), ("get", "/api/v2/nothing"),
    ("delete", "/api/v2/barong/public/kyc/extra"), ("get", "/api/"),
])
def test_unknown_api_path_404_json(client, method, path):
    assert_json_error(getattr(client, method)(path), 404, ["record.not_found"])


@pytest.mark.parametrize("method,path", [("get", f"{API}/sessions"), ("put", f"{API}/users"),
                                         ("get", f"{API}/users/password/confirm_code"),
                                         ("post", "/api/v2/barong/public/ping")])
def test_wrong_method_405_json(client, method, path):
    assert_json_error(getattr(client, method)(path), 405, ["server.method_not_allowed"])


def test_params_in_query_string_and_form(client, someone):
    resp = client.post(f"{API}/sessions?email={someone.email}&password={DEFAULT_PASSWORD}")
    assert resp.status_code == 201
    client.delete(f"{API}/sessions")
    resp = client.post(f"{API}/sessions", data={"email": someone.email, "password": DEFAULT_PASSWORD})
    assert resp.status_code == 201


def test_unexpected_failure_is_500_json_and_rolls_back(client, someone, monkeypatch):
    """A bug half-way through signup: no stack trace, no user row, no session."""
    real = identity.sessions.open_session

    def explode(user, info):
        real(user, info)
        raise RuntimeError("boom")

    monkeypatch.setattr(identity.sessions, "open_session", explode)
    before = counts()
    resp = client.post(f"{API}/users", json={"email": "half@example.com", "password": DEFAULT_PASSWORD})
    assert_json_error(resp, 500, ["server.internal_error"])
    assert b"boom" not in resp.data
    assert counts() == before
    assert db.session.query(User).filter_by(email_lower="half@example.com").count() == 0


def test_signup_with_weak_password_leaves_nothing(client, someone, mailbox):
    before, mails = counts(), len(mailbox())
    resp = client.post(f"{API}/users", json={"email": "weak@example.com", "password": "password"})
    assert_json_error(resp, 422, ["password.requirements"])
    assert counts() == before and len(mailbox()) == mails
    assert "Set-Cookie" not in resp.headers
