"""Credentials headers an attacker sends (issue 13, item 12): a NUL byte in the API key id
(PostgreSQL refuses it in the lookup), a non-ASCII signature or KYC integrity header
(hmac.compare_digest raises TypeError on non-ASCII str) — a 4xx with the flow's own code,
never a 500. Run also with TEST_DATABASE_URL (PostgreSQL)."""
from __future__ import annotations

import time

import pytest

from tests.authz.support import ME, auth, signed


@pytest.mark.parametrize("path", ["/api/v2/auth/" + ME, "/" + ME])
def test_nul_in_the_api_key_id_is_an_unknown_key(client, path):
    headers = {"X-Auth-Apikey": "ab\x00cd", "X-Auth-Nonce": str(int(time.time() * 1000)), "X-Auth-Signature": "x"}
    resp = client.get(path, headers=headers)
    assert resp.status_code == 401 and resp.get_json() == {"errors": ["authz.unexistent_apikey"]}


@pytest.mark.parametrize("bad", ["é" * 64, "ü", "\u20ac" * 3])
def test_non_ascii_signature_is_an_invalid_signature(client, make_user, make_api_key, bad):
    key, secret = make_api_key(make_user(otp=True))
    headers = signed(key.kid, secret)
    headers["X-Auth-Signature"] = bad
    resp = auth(client, "GET", ME, headers=headers)
    assert resp.status_code == 401 and resp.get_json() == {"errors": ["authz.invalid_signature"]}


def test_non_ascii_kyc_integrity_header_is_unverified(client, app):
    app.config.update(BARONG_KYC_PROVIDER="kycaid", BARONG_KYCAID_AUTHORIZATION_TOKEN="tok")
    resp = client.post("/api/v2/barong/public/kyc", data=b"{}", content_type="application/json",
                       headers={"x-data-integrity": "é"})
    assert resp.status_code == 422 and resp.get_json() == {"errors": ["public.kyc.unverified_request"]}
