"""resource/otp: TOTP 2FA (generate_qrcode, enable, verify, disable)."""
from __future__ import annotations

from flask import jsonify

from barong.api.auth import api_auth
from barong.api.params import Param, no_content, use_params
from barong.api.v2.resource import bp, me
from barong.services.access.rate_limits import limit
from barong.services.accounts import otp
from barong.services.infra.request_info import RequestInfo

SCOPE = "resource.otp"
CODE = Param("code", required=True, allow_blank=False, description="Code from Google Authenticator")


@bp.post("/otp/generate_qrcode")
@limit("otp")
@api_auth
@use_params(SCOPE, status=201, summary="Generate qr code for 2FA (a new secret every call)")
def otp_generate_qrcode(p):
    _secret, url, png = otp.generate_secret(me(), RequestInfo.current())
    return jsonify(otp.barcode_payload(url, png)), 201


@bp.post("/otp/enable")
@limit("otp")
@api_auth
@use_params(SCOPE, CODE, status=201,
            summary="Enable 2FA; returns ten one-time recovery codes (shown only here)")
def otp_enable(p):
    codes = otp.enable(me(), p["code"], RequestInfo.current())
    return jsonify(recovery_codes=codes), 201


@bp.post("/otp/verify")
@limit("otp")
@api_auth
@use_params(SCOPE, CODE, status=201, summary="Verify 2FA code")
@no_content
def otp_verify(p):
    otp.check_code(me(), p["code"], RequestInfo.current())
    return "", 201


@bp.post("/otp/disable")
@limit("otp")
@api_auth
@use_params(SCOPE, Param("code", required=True, allow_blank=False,
                         description="Code from Google Authenticator, or a recovery code"),
            status=201, summary="Disable 2FA")
@no_content
def otp_disable(p):
    otp.disable(me(), p["code"], RequestInfo.current())
    return "", 201


@bp.post("/otp/recovery_codes")
@limit("otp")
@api_auth
@use_params(SCOPE, Param("code", description="a current TOTP code (not a recovery code)"),
            Param("webauthn_assertion", "any",
                  description="instead of code: a passkey assertion for identity/sessions/reauth/options"),
            status=201, summary="Replace the recovery codes with ten new ones (the old ones stop working)",
            errors={400: "not_enabled (no TOTP, no passkey)", 422: "missing_code, invalid",
                    429: "too_many_requests"})
def otp_recovery_codes(p):
    from barong.services.accounts import second_factor

    codes = second_factor.regenerate_recovery_codes(me(), RequestInfo.current(), otp_code=p.get("code"),
                                                    webauthn_assertion=p.get("webauthn_assertion"))
    return jsonify(recovery_codes=codes), 201
