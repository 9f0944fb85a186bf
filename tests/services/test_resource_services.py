"""Service-level checks of the resource services (no HTTP client)."""
from __future__ import annotations

import json

import pyotp
import pytest

from barong.errors import BarongError, ValidationError
from barong.extensions import db
from barong.services.accounts import otp, phones, profiles
from barong.services.delivery import sms
from barong.services.infra.request_info import RequestInfo
from barong.services.verification import data_storage, uploads

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


@pytest.mark.parametrize("raw,digits,country", [
    ("+44 07418084106", "447418084106", "GB"), ("++447418084106", "447418084106", "GB"),
    ("12345678911", "12345678911", "US"), ("+380 (97) 123-23-22", "380971232322", "UA"),
])
def test_normalize(app, raw, digits, country):
    assert phones.normalize(raw) == (digits, country)


@pytest.mark.parametrize("raw", ["123", "12345", "", None, "abc"])
def test_normalize_invalid(app, raw):
    with pytest.raises(BarongError) as err:
        phones.normalize(raw)
    assert (err.value.status, err.value.codes) == (400, ["resource.phone.invalid_num"])


def test_sms_template(app):
    app.config["BARONG_SMS_CONTENT_TEMPLATE"] = "{{code}} - this is your code"
    assert sms.render("12345") == "12345 - this is your code"
    app.config["BARONG_SMS_CONTENT_TEMPLATE"] = None
    assert sms.render("1") == "Your verification code for Barong: 1"


def test_mock_provider_writes_file(app):
    sms.MockProvider().send_code("447418084106", "54321", "call")
    msg = sms.sent_messages(app)[-1]
    assert msg == {"to": "+447418084106", "channel": "call", "body": "Your verification code for Barong: 54321"}


def test_mock_code_checked(app):
    p = sms.MockProvider()
    assert p.new_code() == "12345"
    stored = sms.hash_code("12345")
    assert p.check_code("1", "12345", stored) and not p.check_code("1", "12346", stored)
    assert not p.check_code("1", "12345", None)


@pytest.mark.parametrize("item,code", [
    ("just a string", "upload.blank"), (("a.png", b""), "upload.min_size_error"),
    (("a.bmp", b"BM" + b"\x00" * 10), "upload.extension_whitelist_error"),
    (("a.png", b"%PDF-1.4"), "upload.content_type_whitelist_error"),
])
def test_upload_inspect_refuses(app, item, code):
    with pytest.raises(ValidationError) as err:
        uploads.inspect(item)
    assert err.value.codes == [code]


def test_upload_inspect_and_store(app):
    up = uploads.inspect(("scan.PNG", PNG))
    assert (up.ext, up.content_type) == ("png", "image/png")
    name = uploads.store(up)
    assert uploads.path_for(name).read_bytes() == PNG
    assert uploads.path_for("../../etc/passwd").parent == uploads.root()
    uploads.remove(name)
    assert not uploads.path_for(name).exists()


def test_otp_generate_enable_disable(app, make_user):
    user = make_user()
    info = RequestInfo(ip="127.0.0.1", user_agent="Mozilla/5.0 test")
    secret, url, png = otp.generate_secret(user, info)
    assert url.startswith("otpauth://totp/Barong:") and f"secret={secret}" in url and png.startswith(b"\x89PNG")
    codes = otp.enable(user, pyotp.TOTP(secret).now(), info)
    assert user.otp and len(codes) == 10 and otp.recovery_codes_left(user) == 10
    assert otp.verify(user, codes[0], allow_recovery=True)
    assert not otp.verify(user, codes[0], allow_recovery=True)
    assert not otp.verify(user, codes[1])  # recovery codes only where allowed
    assert otp.recovery_codes_left(user) == 9
    with pytest.raises(BarongError) as err:
        otp.generate_secret(user, info)
    assert err.value.codes == ["resource.otp.already_enabled"]
    otp.disable(user, codes[1], info)
    assert not user.otp and user.otp_secret_encrypted is None
    db.session.commit()


def test_profiles_validate():
    assert profiles.validate({"first_name": "Ann", "country": "UKR", "dob": "1990-01-01"}) == []
    assert profiles.validate({"country": "ZZ"}) == [profiles.COUNTRY_ERROR]
    assert profiles.validate({"dob": "not a date"}) == ["dob.invalid_format"]
    assert profiles.validate({"metadata": "{x}"}) == ["metadata.invalid_format"]


def test_profiles_admin_state(app, make_user):
    user = make_user()
    profile = profiles.create(user, {"first_name": "Ann"}, confirm=True)
    with pytest.raises(ValidationError):
        profiles.set_state(profile, "approved")
    profiles.set_state(profile, "verified")
    assert user.private_labels()["profile"] == "verified"
    other = profiles.create(user, {"first_name": "Bob"}, author="IDADMIN", state="rejected")
    assert other.author == "IDADMIN" and user.private_labels()["profile"] == "rejected"
    db.session.commit()


def test_data_storage_update(app, make_user):
    user = make_user()
    ds = data_storage.create(user, "personal", {"a": 1})
    data_storage.update(ds, '{"a": 2}')
    assert json.loads(ds.data) == {"a": 2}
    with pytest.raises(ValidationError):
        data_storage.update(ds, "nope")
    data_storage.delete(ds)
    db.session.commit()
    assert user.data_storages == []
