"""resource/webauthn (beyond the original): the user's passkeys and security keys — list,
register (options, then the browser's attestation), remove. Adding or removing one needs
the account password or a current TOTP code."""
from __future__ import annotations

from flask import jsonify

from barong.api.auth import api_auth
from barong.api.params import Param, document, use_params
from barong.api.v2.resource import bp, me
from barong.services.access.rate_limits import limit
from barong.services.accounts import second_factor, webauthn
from barong.services.infra.request_info import RequestInfo

SCOPE = "resource.webauthn"
PASSWORD = Param("password", description="the account password (or otp_code)")
OTP_CODE = Param("otp_code", description="a current TOTP code, instead of the password (TOTP on)")
CONFIRM_ERRORS = "missing_confirmation / invalid_confirmation (password or otp_code)"


@bp.get("/webauthn/credentials")
@api_auth
@document(summary="List the current user's passkeys and security keys (name, created, last used)")
def webauthn_index():
    return jsonify([webauthn.entity(c) for c in webauthn.credentials_of(me())])


@bp.post("/webauthn/credentials/options")
@limit("otp")
@api_auth
@use_params(SCOPE, status=201,
            summary="Challenge for a new passkey: PublicKeyCredentialCreationOptions (`publicKey`), valid 5 minutes")
def webauthn_options(p):
    return jsonify(publicKey=webauthn.registration_options(me())), 201


@bp.post("/webauthn/credentials")
@limit("otp")
@api_auth
@use_params(SCOPE, Param("name", required=True, allow_blank=False, max_length=64,
                         description="your name for it (\"YubiKey\", \"Laptop\")"),
            Param("credential", "any", required=True,
                  description="PublicKeyCredential from navigator.credentials.create() (JSON object or its text)"),
            PASSWORD, OTP_CODE, status=201,
            summary="Register a passkey; the first second factor of the account also returns ten recovery codes",
            errors={422: f"{CONFIRM_ERRORS}, invalid_name, invalid_credential (challenge unknown, expired or used; "
                         "origin or RP id; attestation), credential_taken, limit_reached (10)",
                    429: "too_many_requests, resource.otp.too_many_requests"})
def webauthn_create(p):
    cred, codes = second_factor.enrol_passkey(me(), p["credential"], p["name"], RequestInfo.current(),
                                              password=p.get("password"), otp_code=p.get("otp_code"))
    body = webauthn.entity(cred)
    if codes:
        body["recovery_codes"] = codes
    return jsonify(body), 201


@bp.delete("/webauthn/credentials/<int:credential_id>")
@limit("otp")
@api_auth
@use_params(SCOPE, PASSWORD, OTP_CODE, status=204, summary="Remove one of the current user's passkeys",
            errors={404: "resource.webauthn.not_found", 422: CONFIRM_ERRORS,
                    429: "too_many_requests, resource.otp.too_many_requests"})
def webauthn_destroy(p, credential_id):
    second_factor.remove_passkey(me(), credential_id, RequestInfo.current(), password=p.get("password"),
                                 otp_code=p.get("otp_code"))
    return "", 204
