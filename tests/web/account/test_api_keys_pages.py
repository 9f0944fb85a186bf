"""API keys page: 2FA gate, secret shown once, disable/enable/delete."""
from __future__ import annotations

import re

from barong.extensions import db
from barong.models import APIKey
from barong.security.crypto import decrypt
from tests.helpers import login_as
from tests.web.account.conftest import HX
from tests.web.account.pages import field_error, html, with_nonce


def test_keys_need_2fa(app, client, signed_in):
    user = signed_in()
    page = html(client.get("/accounts/api-keys"))
    assert "API keys need two-factor authentication" in page and 'id="api-key-form"' not in page
    from flask_login import login_user

    from barong.web import form_nonce

    with app.test_request_context():  # the page shows no form: a nonce issued for this user
        login_user(user)
        nonce = form_nonce.issue("api_key")
    resp = client.post("/accounts/api-keys", data={"algorithm": "HS256", "totp_code": "123456", "form_nonce": nonce})
    assert resp.status_code == 422 and "Turn on two-factor authentication first" in html(resp)
    assert db.session.query(APIKey).count() == 0


def test_create_shows_the_secret_once(client, make_user, totp):
    user = make_user(otp=True)
    login_as(client, user, otp_code=totp(user))
    wrong = client.post("/accounts/api-keys", headers=HX, data=with_nonce(
        client, "/accounts/api-keys", {"algorithm": "HS256", "totp_code": "000000"}))
    assert wrong.status_code == 422 and "not valid" in field_error(wrong, "totp_code")
    assert db.session.query(APIKey).count() == 0
    resp = client.post("/accounts/api-keys", data=with_nonce(client, "/accounts/api-keys", {
        "algorithm": "HS256", "scope": "trade, read", "totp_code": totp(user)}), headers=HX)
    assert resp.status_code == 200 and "no-store" in resp.headers["Cache-Control"]
    body = html(resp)
    secret = re.search(r'id="new-key-secret">([0-9a-f]{32})<', body).group(1)
    key = db.session.query(APIKey).one()
    assert decrypt(key.secret_encrypted) == secret and key.scope == ["trade", "read"]
    listing = html(client.get("/accounts/api-keys"))
    assert key.kid in listing and secret not in listing


def test_disable_enable_delete_with_a_code(client, make_user, totp):
    user = make_user(otp=True)
    login_as(client, user, otp_code=totp(user))
    client.post("/accounts/api-keys", data=with_nonce(client, "/accounts/api-keys",
                                                      {"algorithm": "HS256", "totp_code": totp(user)}))
    key = db.session.query(APIKey).one()
    field = f"k{key.kid}-totp_code"
    no_code = client.post(f"/accounts/api-keys/{key.kid}/disable", data={field: "000000"})
    assert no_code.status_code == 422 and "not valid" in field_error(no_code, field)
    assert client.post(f"/accounts/api-keys/{key.kid}/disable", data={field: totp(user)}).status_code == 303
    db.session.expire_all()
    assert db.session.get(APIKey, key.id).state == "inactive"
    assert client.post(f"/accounts/api-keys/{key.kid}/enable", data={field: totp(user)}).status_code == 303
    db.session.expire_all()
    assert db.session.get(APIKey, key.id).state == "active"
    resp = client.post(f"/accounts/api-keys/{key.kid}/delete", data={field: totp(user)}, headers=HX)
    assert resp.status_code == 200 and "You have no API keys yet." in html(resp)
    assert db.session.query(APIKey).count() == 0


def test_someone_elses_key_is_not_found(client, make_user, totp):
    from barong.services.accounts import api_keys
    from barong.services.infra import unit_of_work

    owner = make_user(otp=True)
    key, _ = api_keys.create(owner, "HS256", require_otp=False)
    unit_of_work.commit()
    me = make_user(otp=True)
    login_as(client, me, otp_code=totp(me))
    resp = client.post(f"/accounts/api-keys/{key.kid}/delete", data={f"k{key.kid}-totp_code": totp(me)})
    assert resp.status_code == 404
    assert db.session.get(APIKey, key.id) is not None
