"""Operators must use 2FA (BARONG_CONSOLE_REQUIRE_2FA; off in the test config, on here):
console pages send an operator without TOTP or a passkey to the 2FA page, admin API calls
answer 403 admin.2fa.required — in-process and through the gateway check — until enrolled."""
from __future__ import annotations

import pyotp
import pytest

from barong.config import from_env
from barong.extensions import db
from barong.services.accounts import otp as otp_service
from tests.helpers import DEFAULT_PASSWORD, UA, login_as
from tests.soft_authenticator import SoftAuthenticator

A = "/api/v2/barong/admin"


@pytest.fixture
def required(app):
    app.config["BARONG_CONSOLE_REQUIRE_2FA"] = True


def test_on_by_default_outside_the_test_config():
    assert from_env({})["BARONG_CONSOLE_REQUIRE_2FA"] is True
    assert from_env({"BARONG_CONSOLE_REQUIRE_2FA": "false"})["BARONG_CONSOLE_REQUIRE_2FA"] is False


def test_operator_without_2fa_is_refused_until_a_passkey(app, client, make_user, required):
    admin = make_user(role="superadmin")
    csrf = login_as(client, admin)
    resp = client.get(f"{A}/users")
    assert resp.status_code == 403 and resp.get_json() == {"errors": ["admin.2fa.required"]}
    gw = client.get("/api/v2/auth/api/v2/barong/admin/users")
    assert gw.status_code == 403 and gw.get_json() == {"errors": ["admin.2fa.required"]}
    page = client.get("/admin/users")
    assert page.status_code == 302 and page.headers["Location"].endswith("/accounts/security/2fa")
    htmx = client.get("/admin/users", headers={"HX-Request": "true"})
    assert htmx.headers.get("HX-Redirect", "").endswith("/accounts/security/2fa")
    # the site's own pages stay open (to enrol)
    assert client.get("/accounts/security/2fa").status_code == 200
    authn = SoftAuthenticator(app.config["BARONG_DOMAIN"])
    opts = client.post("/api/v2/barong/resource/webauthn/credentials/options", headers={"X-CSRF-Token": csrf})
    resp = client.post("/api/v2/barong/resource/webauthn/credentials", headers={"X-CSRF-Token": csrf},
                       json={"name": "Key", "credential": authn.create(opts.get_json()), "password": DEFAULT_PASSWORD})
    assert resp.status_code == 201
    assert client.get(f"{A}/users").status_code == 200
    assert client.get("/admin/users").status_code == 200


def test_operator_with_totp_passes_members_keep_their_answer(app, client, make_user, required):
    admin = make_user(role="admin")
    secret = otp_service.generate_secret(admin)[0]
    otp_service.enable(admin, pyotp.TOTP(secret).now())
    db.session.commit()
    admin.otp_last_step = None
    db.session.commit()
    login_as(client, admin, otp_code=pyotp.TOTP(secret).now())
    assert client.get(f"{A}/users").status_code == 200
    member = make_user()
    other = app.test_client()
    other.environ_base["HTTP_USER_AGENT"] = UA
    login_as(other, member)
    resp = other.get(f"{A}/users")
    assert resp.status_code == 401 and resp.get_json() == {"errors": ["authz.invalid_permission"]}
    assert other.get("/admin/").status_code == 403  # not an operator: the console's own refusal
    # a member's site pages are not touched
    assert other.get("/accounts/").status_code == 200


def test_off_keeps_the_original_behaviour(app, client, make_user):
    admin = make_user(role="superadmin")
    login_as(client, admin)
    assert client.get(f"{A}/users").status_code == 200
    assert client.get("/admin/users").status_code == 200
