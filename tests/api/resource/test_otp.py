"""resource/otp: QR code, enable (recovery codes, other sessions revoked), verify, disable."""
from __future__ import annotations

import base64
import json
from urllib.parse import parse_qs, urlparse

import pyotp

from barong.extensions import db
from barong.models import Activity, APIKey
from barong.security.crypto import decrypt
from barong.services.accounts import api_keys, sessions
from tests.api.resource.conftest import R, errors
from tests.helpers import DEFAULT_PASSWORD, UA, login_as


def _otp_activities(user, action, result):
    return db.session.query(Activity).filter_by(user_id=user.id, topic="otp", action=action, result=result).count()


def _qr(api):
    resp = api.post("otp/generate_qrcode")
    assert resp.status_code == 201, resp.get_json()
    data = resp.get_json()["data"]
    secret = parse_qs(urlparse(data["url"]).query)["secret"][0]
    return data, secret


def test_generate_qrcode(api):
    data, secret = _qr(api)
    assert base64.b64decode(data["barcode"]).startswith(b"\x89PNG\r\n\x1a\n")
    url = urlparse(data["url"])
    assert url.scheme == "otpauth" and url.netloc == "totp"
    assert url.path in (f"/Barong:{api.user.email}", f"/Barong:{api.user.email}".replace("@", "%40"))
    query = parse_qs(url.query)
    assert query["issuer"] == ["Barong"] and query["digits"] == ["6"] and query["period"] == ["30"]
    user = api.reload()
    assert user.otp_secret_encrypted.startswith("v1:") and secret not in user.otp_secret_encrypted
    assert decrypt(user.otp_secret_encrypted) == secret
    assert _otp_activities(user, "request QR code for 2FA", "succeed") == 1
    _data2, secret2 = _qr(api)
    assert secret2 != secret  # a new secret every call


def test_generate_qrcode_when_enabled(otp_api):
    resp = otp_api.post("otp/generate_qrcode")
    assert resp.status_code == 400 and errors(resp) == ["resource.otp.already_enabled"]
    assert _otp_activities(otp_api.reload(), "request QR code for 2FA", "failed") == 1


def test_enable_with_real_code(api, app):
    other = app.test_client()
    other.environ_base["HTTP_USER_AGENT"] = UA
    login_as(other, api.user)
    _data, secret = _qr(api)
    resp = api.post("otp/enable", json={"code": pyotp.TOTP(secret).now()})
    assert resp.status_code == 201
    codes = resp.get_json()["recovery_codes"]
    assert len(codes) == 10 and len(set(codes)) == 10
    user = api.reload()
    assert user.otp is True and user.private_labels()["otp"] == "enabled"
    stored = json.loads(user.otp_recovery_codes)
    assert len(stored) == 10 and not any(c in user.otp_recovery_codes for c in codes)
    assert _otp_activities(user, "enable 2FA", "succeed") == 1
    assert len(sessions.list_for_user(user.uid)) == 1  # the other session is revoked
    assert api.get("users/me").status_code == 200
    assert other.get(f"{R}/users/me").status_code == 401


def test_enable_code_is_single_use(api):
    _data, secret = _qr(api)
    code = pyotp.TOTP(secret).now()
    assert api.post("otp/enable", json={"code": code}).status_code == 201
    resp = api.post("otp/verify", json={"code": code})
    assert resp.status_code == 422 and errors(resp) == ["resource.otp.invalid"]


def test_enable_refusals(api):
    resp = api.post("otp/enable", json={"code": "123456"})  # no secret yet
    assert resp.status_code == 422 and errors(resp) == ["resource.otp.invalid"]
    _data, secret = _qr(api)
    resp = api.post("otp/enable", json={"code": "000000"})
    assert resp.status_code == 422 and errors(resp) == ["resource.otp.invalid"]
    resp = api.post("otp/enable", json={})
    assert resp.status_code == 400 and errors(resp) == ["resource.otp.missing_code", "resource.otp.empty_code"]
    resp = api.post("otp/enable", json={"code": ""})
    assert resp.status_code == 400 and errors(resp) == ["resource.otp.empty_code"]
    user = api.reload()
    assert user.otp is False and "otp" not in user.private_labels() and user.otp_recovery_codes is None
    assert _otp_activities(user, "enable 2FA", "failed") == 2


def test_enable_when_enabled(otp_api):
    resp = otp_api.post("otp/enable", json={"code": otp_api.totp()})
    assert resp.status_code == 400 and errors(resp) == ["resource.otp.already_enabled"]


def test_verify(otp_api):
    resp = otp_api.post("otp/verify", json={"code": otp_api.totp()})
    assert resp.status_code == 201 and resp.data == b""
    resp = otp_api.post("otp/verify", json={"code": "000000"})
    assert resp.status_code == 422 and errors(resp) == ["resource.otp.invalid"]
    assert _otp_activities(otp_api.reload(), "verify 2FA code", "failed") == 1


def test_verify_without_2fa(api):
    resp = api.post("otp/verify", json={"code": "123456"})
    assert resp.status_code == 400 and errors(resp) == ["resource.otp.already_enabled"]  # sic, Barong's code


def test_disable(otp_api):
    api = otp_api
    from barong.services.accounts import labels

    labels.add(api.user, "otp", "enabled", scope="private")
    key, _ = api_keys.create(api.user, "HS256", "trade", require_otp=False)
    db.session.commit()
    resp = api.post("otp/disable", json={"code": "000000"})
    assert resp.status_code == 422 and errors(resp) == ["resource.otp.invalid"]
    assert api.reload().otp is True
    resp = api.post("otp/disable", json={"code": api.totp()})
    assert resp.status_code == 201
    user = api.reload()
    assert user.otp is False and "otp" not in user.private_labels() and user.otp_secret_encrypted is None
    assert db.session.get(APIKey, key.id).state == "inactive"
    assert _otp_activities(user, "disable 2FA", "succeed") == 1
    assert _otp_activities(user, "disable 2FA", "failed") == 1


def test_disable_when_off(api):
    resp = api.post("otp/disable", json={"code": "123456"})
    assert resp.status_code == 400 and errors(resp) == ["resource.otp.not_enabled"]


def test_recovery_code_login_once(api, app):
    _data, secret = _qr(api)
    codes = api.post("otp/enable", json={"code": pyotp.TOTP(secret).now()}).get_json()["recovery_codes"]
    fresh = app.test_client()
    fresh.environ_base["HTTP_USER_AGENT"] = UA
    body = {"email": api.user.email, "password": DEFAULT_PASSWORD, "otp_code": codes[0]}
    assert fresh.post("/api/v2/barong/identity/sessions", json=body).status_code == 201
    again = app.test_client()
    again.environ_base["HTTP_USER_AGENT"] = UA
    assert again.post("/api/v2/barong/identity/sessions", json=body).status_code == 403
    assert len(json.loads(api.reload().otp_recovery_codes)) == 9


def test_disable_with_recovery_code(api):
    _data, secret = _qr(api)
    codes = api.post("otp/enable", json={"code": pyotp.TOTP(secret).now()}).get_json()["recovery_codes"]
    resp = api.post("otp/disable", json={"code": codes[3].upper()})
    assert resp.status_code == 201
    assert api.reload().otp is False


def test_failed_attempts_rate_limited(api, app):
    from barong.services.access import rate_limits

    app.config["BARONG_RATELIMIT_ENABLED"] = True
    rate_limits.reset()
    try:
        statuses = [api.post("otp/verify", json={"code": "000000"}).status_code for _ in range(12)]
    finally:
        app.config["BARONG_RATELIMIT_ENABLED"] = False
        rate_limits.reset()
    assert statuses[-1] == 429 and 429 not in statuses[:10]


def test_wrong_codes_limited_per_account(otp_api, app):
    """Five wrong codes lock the OTP-guarded actions of the account, whatever the IP."""
    from barong.services.access import rate_limits

    app.config["BARONG_RATELIMIT_ENABLED"] = True
    rate_limits.reset()
    try:
        for _ in range(5):
            assert otp_api.post("otp/verify", json={"code": "000000"}).status_code == 422
            rate_limits.reset()  # not the per-IP limit
        resp = otp_api.post("otp/verify", json={"code": otp_api.totp()})
        assert resp.status_code == 429 and errors(resp) == ["resource.otp.too_many_requests"]
        resp = otp_api.post("api_keys", json={"algorithm": "HS256", "totp_code": otp_api.totp()})
        assert resp.status_code == 429
    finally:
        app.config["BARONG_RATELIMIT_ENABLED"] = False
        rate_limits.reset()
    assert otp_api.post("otp/verify", json={"code": otp_api.totp()}).status_code == 201
