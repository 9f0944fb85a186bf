"""Captcha policies none / recaptcha / geetest against a local fake provider
(reference/identity-public.md §Captcha)."""
from __future__ import annotations

import hashlib
import json

import pytest

from barong.extensions import db
from barong.models import User
from barong.settings import settings
from tests.helpers import DEFAULT_PASSWORD

from .support import API, counts

ENDPOINTS = {
    "user_create": ("/users", lambda u: {"email": "cap@example.com", "password": DEFAULT_PASSWORD}),
    "session_create": ("/sessions", lambda u: {"email": u.email, "password": DEFAULT_PASSWORD}),
    "password_reset": ("/users/password/generate_code", lambda u: {"email": u.email}),
    "email_confirmation": ("/users/email/generate_code", lambda u: {"email": u.email}),
}
PATHS = list(ENDPOINTS)


def call(client, name, user, **extra):
    path, body = ENDPOINTS[name]
    return client.post(API + path, json={**body(user), **extra})


@pytest.fixture
def user(make_user):
    return make_user(state="pending")


@pytest.fixture
def protect(app, monkeypatch):
    def _protect(names):
        monkeypatch.setattr(settings(), "captcha_protected_endpoints", list(names))
    return _protect


class TestRecaptcha:
    @pytest.mark.parametrize("name", PATHS)
    def test_valid_response_passes(self, client, recaptcha, user, name):
        resp = call(client, name, user, captcha_response="good")
        assert resp.status_code == 201, resp.get_json()
        method, path, form = recaptcha.requests[-1]
        assert (method, path, form) == ("POST", "/siteverify", {"secret": "secret-key", "response": "good"})

    @pytest.mark.parametrize("name", PATHS)
    def test_missing_response_400(self, client, recaptcha, user, name):
        before = counts()
        resp = call(client, name, user)
        assert resp.status_code == 400 and resp.get_json() == {"errors": ["identity.captcha.required"]}
        assert counts() == before and recaptcha.requests == []

    @pytest.mark.parametrize("name", PATHS)
    def test_refused_response_422(self, client, recaptcha, user, name):
        before = counts()
        resp = call(client, name, user, captcha_response="bad")
        assert resp.status_code == 422 and resp.get_json() == {"errors": ["identity.captcha.verification_failed"]}
        assert counts() == before

    def test_captcha_checked_before_credentials(self, client, recaptcha, user):
        resp = client.post(f"{API}/sessions", json={"email": user.email, "password": "wrong", "captcha_response": "bad"})
        assert resp.status_code == 422 and resp.get_json() == {"errors": ["identity.captcha.verification_failed"]}

    def test_provider_down_is_verification_failed(self, client, recaptcha, user):
        recaptcha.answer = lambda path, form: (500, "oops")
        resp = call(client, "session_create", user, captcha_response="good")
        assert resp.status_code == 422 and resp.get_json() == {"errors": ["identity.captcha.verification_failed"]}

    def test_provider_garbage_is_verification_failed(self, client, recaptcha, user):
        recaptcha.answer = lambda path, form: (200, "not json")
        resp = call(client, "session_create", user, captcha_response="good")
        assert resp.status_code == 422

    def test_object_response_is_invalid_format(self, client, recaptcha, user):
        resp = call(client, "session_create", user, captcha_response={"a": "b"})
        assert resp.status_code == 422 and resp.get_json() == {"errors": ["identity.session.invalid_captcha_format"]}

    @pytest.mark.parametrize("name", PATHS)
    def test_unprotected_endpoint_needs_no_captcha(self, client, recaptcha, user, protect, name):
        protect([n for n in PATHS if n != name])
        assert call(client, name, user).status_code == 201
        assert recaptcha.requests == []

    def test_empty_protected_list(self, client, recaptcha, user, protect):
        protect([])
        assert call(client, "user_create", user).status_code == 201


def test_policy_none_ignores_captcha(client, user):
    assert call(client, "session_create", user).status_code == 201
    assert call(client, "user_create", user, captcha_response="anything").status_code == 201


class TestGeetest:
    KEY = "geetest-private-key"

    @pytest.fixture
    def geetest(self, app, fake_provider):
        fake_provider.answer = lambda path, form: (
            (200, hashlib.md5(form["seccode"].encode()).hexdigest()) if path == "/validate.php"
            else (200, "remote-challenge"))
        app.config.update(BARONG_CAPTCHA="geetest", BARONG_GEETEST_ID="gt-id", BARONG_GEETEST_KEY=self.KEY,
                          BARONG_GEETEST_URL=fake_provider.url + "/validate.php",
                          BARONG_GEETEST_REGISTER_URL=fake_provider.url + "/register.php")
        return fake_provider

    def answer(self, challenge="chal-1"):
        return {"geetest_challenge": challenge,
                "geetest_validate": hashlib.md5(f"{self.KEY}geetest{challenge}".encode()).hexdigest(),
                "geetest_seccode": "seccode-1"}

    @pytest.mark.parametrize("name", PATHS)
    def test_valid_object_passes(self, client, geetest, user, name):
        assert call(client, name, user, captcha_response=self.answer()).status_code == 201
        assert geetest.requests[-1] == ("POST", "/validate.php", {"seccode": "seccode-1"})

    def test_valid_json_string_passes(self, client, geetest, user):
        resp = call(client, "user_create", user, captcha_response=json.dumps(self.answer()))
        assert resp.status_code == 201

    def test_wrong_validate_hash_422_without_remote_call(self, client, geetest, user):
        bad = {**self.answer(), "geetest_validate": "0" * 32}
        resp = call(client, "user_create", user, captcha_response=bad)
        assert resp.status_code == 422 and resp.get_json() == {"errors": ["identity.captcha.verification_failed"]}
        assert geetest.requests == []
        assert db.session.query(User).filter_by(email="cap@example.com").count() == 0

    def test_remote_refusal_422(self, client, geetest, user):
        geetest.answer = lambda path, form: (200, "false")
        resp = call(client, "user_create", user, captcha_response=self.answer())
        assert resp.status_code == 422 and resp.get_json() == {"errors": ["identity.captcha.verification_failed"]}

    def test_missing_response_400(self, client, geetest, user):
        resp = call(client, "user_create", user)
        assert resp.status_code == 400 and resp.get_json() == {"errors": ["identity.captcha.required"]}

    @pytest.mark.parametrize("response", [{"geetest_challenge": "x"}, "not-json", {"geetest_challenge": 1,
                                                                                    "geetest_validate": 2,
                                                                                    "geetest_seccode": 3}])
    def test_incomplete_object_400(self, client, geetest, user, response):
        resp = call(client, "user_create", user, captcha_response=response)
        assert resp.status_code == 400 and resp.get_json() == {"errors": ["identity.captcha.mandatory_fields"]}

    def test_register_geetest(self, client, geetest):
        resp = client.get(f"{API}/users/register_geetest")
        assert resp.status_code == 200
        expected = hashlib.md5(f"remote-challenge{self.KEY}".encode()).hexdigest()
        assert resp.get_json() == {"gt": "gt-id", "challenge": expected}
        assert geetest.requests[-1][:2] == ("GET", "/register.php")

    def test_register_geetest_provider_down(self, client, geetest):
        geetest.answer = lambda path, form: (500, "")
        assert client.get(f"{API}/users/register_geetest").get_json() == {"gt": "gt-id", "challenge": ""}
