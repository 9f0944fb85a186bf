"""ping / time / version / configs / password/validate under identity/ and public/, and public/kyc."""
from __future__ import annotations

import re
import time
from datetime import datetime

import pytest

from barong.security import password_strength

AREAS = [("identity", "identity.general"), ("public", "public.general")]


@pytest.mark.parametrize("area,_", AREAS)
def test_ping(client, area, _):
    resp = client.get(f"/api/v2/barong/{area}/ping")
    assert resp.status_code == 200 and resp.get_json() == {"ping": "pong"}


@pytest.mark.parametrize("area,_", AREAS)
def test_time(client, area, _):
    before = int(time.time())
    resp = client.get(f"/api/v2/barong/{area}/time")
    assert resp.status_code == 200
    assert before <= resp.get_json()["time"] <= int(time.time())
    assert isinstance(resp.get_json()["time"], int)


@pytest.mark.parametrize("area,_", AREAS)
def test_version(client, area, _):
    body = client.get(f"/api/v2/barong/{area}/version").get_json()
    assert set(body) == {"git_tag", "git_sha", "build_date", "version"}
    assert all(isinstance(v, str) and v for v in body.values())
    datetime.fromisoformat(body["build_date"])  # RFC 3339


@pytest.mark.parametrize("area,_", AREAS)
def test_configs_default(client, app, area, _):
    resp = client.get(f"/api/v2/barong/{area}/configs")
    assert resp.status_code == 200
    body = resp.get_json()
    assert body == {"session_expire_time": 1800, "captcha_type": "none", "phone_verification_type": "mock",
                    "password_min_entropy": 14, "password_regexp": body["password_regexp"]}
    pattern = re.compile(body["password_regexp"])
    assert "(?" not in body["password_regexp"].replace("(?=", "")  # no inline flags: usable as a JS RegExp
    assert pattern.search("Iequ4geiEWQw") and not pattern.search("password")


def test_configs_recaptcha_shows_site_key(client, app):
    app.config.update(BARONG_CAPTCHA="recaptcha", BARONG_RECAPTCHA_SITE_KEY="site-key-1",
                      BARONG_SESSION_EXPIRE_TIME=600)
    body = client.get("/api/v2/barong/identity/configs").get_json()
    assert (body["captcha_type"], body["captcha_id"], body["session_expire_time"]) == ("recaptcha", "site-key-1", 600)


def test_configs_geetest_has_no_captcha_id(client, app):
    app.config.update(BARONG_CAPTCHA="geetest", BARONG_GEETEST_ID="gt-id")
    body = client.get("/api/v2/barong/public/configs").get_json()
    assert body["captcha_type"] == "geetest" and "captcha_id" not in body


@pytest.mark.parametrize("area,scope", AREAS)
@pytest.mark.parametrize("password", ["Iequ4geiEWQw", "password", "a", "x" * 200])
def test_password_validate_reports_entropy(client, area, scope, password):
    resp = client.post(f"/api/v2/barong/{area}/password/validate", json={"password": password})
    assert resp.status_code == 201
    entropy = resp.get_json()["entropy"]
    assert isinstance(entropy, (int, float)) and entropy == password_strength.entropy(password)


def test_weak_password_has_lower_entropy(client):
    strong = client.post("/api/v2/barong/identity/password/validate", json={"password": "Iequ4geiEWQw"}).get_json()
    weak = client.post("/api/v2/barong/identity/password/validate", json={"password": "password"}).get_json()
    assert weak["entropy"] < 14 <= strong["entropy"]


@pytest.mark.parametrize("area,scope", AREAS)
def test_password_validate_missing_400(client, area, scope):
    resp = client.post(f"/api/v2/barong/{area}/password/validate", json={})
    assert resp.status_code == 400 and resp.get_json() == {"errors": [f"{scope}.missing_password"]}


def test_password_validate_form_and_query(client):
    assert client.post("/api/v2/barong/public/password/validate", data={"password": "abc"}).status_code == 201
    assert client.post("/api/v2/barong/public/password/validate?password=abc").status_code == 201


def test_register_geetest_without_geetest(client):
    resp = client.get("/api/v2/barong/identity/users/register_geetest")
    assert resp.status_code == 200 and resp.get_json() == {"gt": "", "challenge": ""}
