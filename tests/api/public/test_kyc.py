"""POST public/kyc: refused with the local provider; with kycaid only a callback signed
with the API token (x-data-integrity) is accepted and queued."""
from __future__ import annotations

import json

import pytest

from barong.extensions import db
from barong.models import OutboxEvent, Profile
from barong.services.verification.kyc import signature

URL = "/api/v2/barong/public/kyc"
TOKEN = "kycaid-api-token"


def queued():
    return [json.loads(e.payload)["record"] for e in db.session.query(OutboxEvent).filter_by(name="system.kyc.callback")]


def test_local_provider_refuses(client):
    resp = client.post(URL, json={"applicant_id": "x", "verification_id": "y"})
    assert resp.status_code == 422 and resp.get_json() == {"errors": ["public.kyc.provider_disabled"]}
    assert queued() == []


@pytest.fixture
def kycaid(app):
    app.config.update(BARONG_KYC_PROVIDER="kycaid", BARONG_KYCAID_AUTHORIZATION_TOKEN=TOKEN)


def post_signed(client, payload, token=TOKEN, header=True):
    body = json.dumps(payload).encode()
    headers = {"x-data-integrity": signature(body, token)} if header else {}
    return client.post(URL, data=body, content_type="application/json", headers=headers)


def test_signed_callback_is_queued_for_the_profile_owner(client, make_user, kycaid):
    user = make_user()
    db.session.add(Profile(user_id=user.id, applicant_id="app-1"))
    db.session.commit()
    payload = {"type": "VERIFICATION_COMPLETED", "applicant_id": "app-1", "verification_id": "ver-1",
               "status": "completed", "verified": True}
    resp = post_signed(client, payload)
    assert resp.status_code == 201 and resp.data == b""
    [record] = queued()
    assert record["verification_id"] == "ver-1" and record["verified"] is True
    assert record["user"]["uid"] == user.uid


@pytest.mark.parametrize("case", ["no header", "wrong token", "tampered"])
def test_unverified_callback_is_refused(client, make_user, kycaid, case):
    payload = {"applicant_id": "app-1", "verification_id": "ver-1", "verified": True}
    if case == "no header":
        resp = post_signed(client, payload, header=False)
    elif case == "wrong token":
        resp = post_signed(client, payload, token="other")
    else:
        body = json.dumps(payload).encode()
        resp = client.post(URL, data=body.replace(b"true", b"false"), content_type="application/json",
                           headers={"x-data-integrity": signature(body, TOKEN)})
    assert resp.status_code == 422 and resp.get_json() == {"errors": ["public.kyc.unverified_request"]}
    assert queued() == []


def test_no_token_configured_refuses_everything(client, app):
    app.config.update(BARONG_KYC_PROVIDER="kycaid", BARONG_KYCAID_AUTHORIZATION_TOKEN=None)
    resp = post_signed(client, {"applicant_id": "a"})
    assert resp.status_code == 422 and resp.get_json() == {"errors": ["public.kyc.unverified_request"]}


def test_signed_but_without_applicant(client, kycaid):
    resp = post_signed(client, {"type": "PING"})
    assert resp.status_code == 422 and resp.get_json() == {"errors": ["public.kyc.missing_applicant_id"]}
