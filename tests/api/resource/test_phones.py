"""resource/phones: add, resend, verify; mock and Twilio (local fake server) providers."""
from __future__ import annotations

import base64

from barong.extensions import db
from barong.models import Phone, User
from barong.services.accounts import phones
from barong.services.delivery import sms
from tests.api.resource.conftest import errors

NUMBER = "+44 07418084106"
DIGITS = "447418084106"


def _verified_elsewhere(make_user, digits=DIGITS):
    other = make_user()
    phones.create(other, digits, verified=True)
    db.session.commit()
    return other


def test_add_phone(api, app):
    resp = api.post("phones", json={"phone_number": NUMBER})
    assert resp.status_code == 201
    assert resp.get_json() == {"message": "Code was sent successfully via sms"}
    phone = db.session.query(Phone).filter_by(user_id=api.user.id).one()
    assert phone.number == DIGITS and phone.country == "GB" and phone.validated_at is None
    assert DIGITS not in phone.number_encrypted
    assert phone.code and phone.code != "12345"  # stored hashed
    last = sms.sent_messages(app)[-1]
    assert last["to"] == f"+{DIGITS}" and last["body"] == "Your verification code for Barong: 12345"


def test_add_phone_call_channel(api):
    resp = api.post("phones", json={"phone_number": "+12345678911", "channel": "call"})
    assert resp.status_code == 201 and resp.get_json()["message"] == "Code was sent successfully via call"
    assert db.session.query(Phone).filter_by(user_id=api.user.id).one().country == "US"
    resp = api.post("phones", json={"phone_number": "+380971232322", "channel": "pigeon"})
    assert resp.status_code == 422 and errors(resp) == ["resource.phone.invalid_channel"]


def test_add_phone_errors(api, make_user):
    resp = api.post("phones", json={})
    assert resp.status_code == 400
    assert errors(resp) == ["resource.phone.missing_phone_number", "resource.phone.empty_phone_number"]
    resp = api.post("phones", json={"phone_number": None})
    assert resp.status_code == 400 and errors(resp) == ["resource.phone.empty_phone_number"]
    resp = api.post("phones", json={"phone_number": "123"})
    assert resp.status_code == 400 and errors(resp) == ["resource.phone.invalid_num"]
    _verified_elsewhere(make_user)
    for number in (DIGITS, f"++{DIGITS}", NUMBER):
        resp = api.post("phones", json={"phone_number": number})
        assert resp.status_code == 400 and errors(resp) == ["resource.phone.number_exist"]
    assert db.session.query(Phone).filter_by(user_id=api.user.id).count() == 0


def test_add_same_phone_twice(api):
    assert api.post("phones", json={"phone_number": "+380971232322"}).status_code == 201
    resp = api.post("phones", json={"phone_number": "380971232322"})
    assert resp.status_code == 400 and errors(resp) == ["resource.phone.exists"]
    assert db.session.query(Phone).filter_by(user_id=api.user.id).count() == 1


def test_list_phones_masked(api, app):
    api.post("phones", json={"phone_number": "+380971232322"})
    api.post("phones", json={"phone_number": "+79225551234"})
    items = api.get("phones").get_json()
    assert [p["number"] for p in items] == ["380*****2322", "7******1234"]
    assert items[0]["country"] == "UA" and items[0]["validated_at"] is None
    app.config["BARONG_API_DATA_MASKING"] = False
    assert api.get("phones").get_json()[0]["number"] == "380971232322"


def test_send_code(api, app):
    api.post("phones", json={"phone_number": NUMBER})
    resp = api.post("phones/send_code", json={"phone_number": DIGITS})
    assert resp.status_code == 201 and resp.get_json()["message"] == "Code was sent successfully via sms"
    assert len(sms.sent_messages(app)) == 2
    resp = api.post("phones/send_code", json={"phone_number": "+380971232322"})
    assert resp.status_code == 404 and errors(resp) == ["resource.phone.doesnt_exist"]


def test_blank_or_bad_channel(api, app):
    """A blank channel is sms on both endpoints that send a code; an unknown one is refused by both."""
    for path in ("phones", "phones/send_code"):
        resp = api.post(path, json={"phone_number": NUMBER, "channel": ""})
        assert resp.status_code == 201 and resp.get_json()["message"] == "Code was sent successfully via sms"
        assert sms.sent_messages(app)[-1]["channel"] == "sms"
    resp = api.post("phones/send_code", json={"phone_number": NUMBER, "channel": "pigeon"})
    assert resp.status_code == 422 and errors(resp) == ["resource.phone.invalid_channel"]
    assert len(sms.sent_messages(app)) == 2


def test_verify(api):
    api.post("phones", json={"phone_number": NUMBER})
    resp = api.post("phones/verify", json={"phone_number": NUMBER, "verification_code": "54321"})
    assert resp.status_code == 404 and errors(resp) == ["resource.phone.verification_invalid"]
    assert api.reload().level == 1 and "phone" not in api.user.private_labels()
    resp = api.post("phones/verify", json={"phone_number": NUMBER, "verification_code": "12345"})
    assert resp.status_code == 201
    body = resp.get_json()
    assert body["level"] == 2 and body["phones"][0]["validated_at"]
    user = api.reload()
    assert user.private_labels()["phone"] == "verified"
    phone = db.session.query(Phone).filter_by(user_id=user.id).one()
    assert phone.validated_at is not None
    resp = api.post("phones/verify", json={"phone_number": DIGITS, "verification_code": "12345"})
    assert resp.status_code == 400 and errors(resp) == ["resource.phone.number_exist"]


def test_verify_errors(api, make_user):
    resp = api.post("phones/verify", json={"phone_number": "", "verification_code": ""})
    assert resp.status_code == 400
    assert errors(resp) == ["resource.phone.empty_phone_number", "resource.phone.empty_verification_code"]
    resp = api.post("phones/verify", json={"phone_number": "123", "verification_code": "12345"})
    assert resp.status_code == 400 and errors(resp) == ["resource.phone.invalid_num"]
    other = make_user()
    phones.create(other, "380971232322")
    db.session.commit()
    resp = api.post("phones/verify", json={"phone_number": "380971232322", "verification_code": "12345"})
    assert resp.status_code == 404 and errors(resp) == ["resource.phone.doesnt_exist"]
    _verified_elsewhere(make_user)
    resp = api.post("phones/verify", json={"phone_number": NUMBER, "verification_code": "12345"})
    assert resp.status_code == 400 and errors(resp) == ["resource.phone.number_exist"]


def test_random_mock_code(api, app):
    app.config["BARONG_MOCK_SMS_CODE"] = None
    api.post("phones", json={"phone_number": NUMBER})
    body = sms.sent_messages(app)[-1]["body"]
    code = body.rsplit(" ", 1)[1]
    assert len(code) == 5 and code.isdigit()
    assert api.post("phones/verify", json={"phone_number": NUMBER, "verification_code": code}).status_code == 201


def test_twilio_messages_api(api, twilio):
    resp = api.post("phones", json={"phone_number": NUMBER})
    assert resp.status_code == 201
    req = twilio.requests[-1]
    assert req["path"] == "/2010-04-01/Accounts/AC123/Messages.json"
    assert req["form"]["To"] == f"+{DIGITS}" and req["form"]["From"] == "+15005550006"
    assert req["auth"] == "Basic " + base64.b64encode(b"AC123:secret-token").decode()
    code = req["form"]["Body"].rsplit(" ", 1)[1]
    assert len(code) == 5
    resp = api.post("phones/verify", json={"phone_number": NUMBER, "verification_code": code})
    assert resp.status_code == 201


def test_twilio_errors_roll_back(api, twilio):
    for twilio_code, barong_code in ((21614, "resource.phone.num_not_valid"),
                                     (21612, "resource.phone.num_not_reachable"),
                                     (21618, "resource.phone.sms_content_invalid"),
                                     (21610, "resource.phone.unsubscribed_recipient"),
                                     (20003, "resource.phone.twilio_unexpected")):
        twilio.answer = lambda path, form, c=twilio_code: (400, {"code": c, "message": "nope", "status": 400})
        resp = api.post("phones", json={"phone_number": NUMBER})
        assert resp.status_code == 422 and errors(resp) == [barong_code]
    assert db.session.query(Phone).filter_by(user_id=api.user.id).count() == 0


def test_twilio_unreachable(api, app, twilio):
    app.config["BARONG_TWILIO_API_URL"] = "http://127.0.0.1:9"
    resp = api.post("phones", json={"phone_number": NUMBER})
    assert resp.status_code == 422 and errors(resp) == ["resource.phone.twilio_unexpected"]


def test_twilio_verify_service(api, app, twilio):
    app.config["BARONG_TWILIO_SERVICE_SID"] = "VA999"
    twilio.answer = lambda path, form: (201, {"status": "approved" if form.get("Code") == "777777" else "pending"})
    assert api.post("phones", json={"phone_number": NUMBER, "channel": "call"}).status_code == 201
    req = twilio.requests[-1]
    assert req["path"] == "/v2/Services/VA999/Verifications" and req["form"]["Channel"] == "call"
    resp = api.post("phones/verify", json={"phone_number": NUMBER, "verification_code": "111111"})
    assert resp.status_code == 404 and errors(resp) == ["resource.phone.verification_invalid"]
    resp = api.post("phones/verify", json={"phone_number": NUMBER, "verification_code": "777777"})
    assert resp.status_code == 201
    assert twilio.requests[-1]["path"] == "/v2/Services/VA999/VerificationCheck"
    assert isinstance(api.reload(), User) and api.user.level == 2


def test_wrong_codes_limited_per_phone(api, app):
    from barong.services.access import rate_limits

    api.post("phones", json={"phone_number": NUMBER})
    app.config["BARONG_RATELIMIT_ENABLED"] = True
    try:
        for _ in range(5):
            rate_limits.reset()
            resp = api.post("phones/verify", json={"phone_number": NUMBER, "verification_code": "00000"})
            assert resp.status_code == 404
        rate_limits.reset()
        resp = api.post("phones/verify", json={"phone_number": NUMBER, "verification_code": "12345"})
        assert resp.status_code == 429 and errors(resp) == ["resource.phone.too_many_requests"]
        rate_limits.reset()
        assert api.post("phones/send_code", json={"phone_number": NUMBER}).status_code == 201
        rate_limits.reset()
        resp = api.post("phones/verify", json={"phone_number": NUMBER, "verification_code": "12345"})
        assert resp.status_code == 201
    finally:
        app.config["BARONG_RATELIMIT_ENABLED"] = False
        rate_limits.reset()
