"""`/api/v2/barong/identity/…`: signup, login/logout, email confirmation, password reset."""
from __future__ import annotations

from flask import Blueprint, jsonify, request

from barong.api import entities
from barong.api.params import Param, no_content, use_params
from barong.api.v2 import general
from barong.services.access import captcha
from barong.services.access.rate_limits import limit
from barong.services.accounts import identity, sessions
from barong.services.infra.request_info import RequestInfo

bp = Blueprint("identity", __name__)
general.register(bp, "identity.general")

CAPTCHA = Param("captcha_response", "any", description="captcha answer (string, or geetest object)")


def _session_body(user, session):
    return jsonify(entities.user_full(user, csrf_token=session.csrf_token)), 201


@bp.post("/sessions")
@limit("login")
@use_params("identity.session", Param("email", required=True), Param("password", required=True), CAPTCHA,
            Param("otp_code", description="TOTP code (or a recovery code) when 2FA is enabled"),
            Param("webauthn_assertion", "any",
                  description="instead of otp_code: the passkey's PublicKeyCredential from navigator.credentials.get()"
                              " (JSON object or its text) for the options of identity/sessions/webauthn/options"),
            status=201, summary="Start a new session",
            errors={401: "invalid_params / banned / deleted / not_active / missing_otp / locked / missing_webauthn"
                         " (passkeys only, no TOTP: send webauthn_assertion or a recovery code)",
                    403: "invalid_otp / invalid_webauthn / webauthn_cloned (sign counter did not grow) / new_network (a network the user never approved: approval mailed)",
                    422: "captcha verification_failed", 429: "too_many_requests"})
def sessions_create(p):
    captcha.check("session_create", p.get("captcha_response"), scope="identity.session")
    identity.check_login_captcha(RequestInfo.current().ip, p.get("captcha_response"))
    user, session = identity.login(p["email"] or "", p["password"] or "", RequestInfo.current(), p.get("otp_code"),
                                   webauthn_assertion=p.get("webauthn_assertion"))
    return _session_body(user, session)


@bp.post("/sessions/network/approve")
@limit("login")
@use_params("identity.session", Param("token", required=True, allow_blank=False,
                                      description="the approve link's token (new-network mail)"),
            summary="Approve the network a refused login came from (the new-network mail's link)",
            errors={422: "invalid_network_token (unknown, expired or used; each mail's links work once)",
                    429: "too_many_requests"})
def sessions_network_approve(p):
    from barong.services.accounts import networks

    _user, network = networks.approve(p["token"], RequestInfo.current())
    return jsonify({"network": network, "approved": True})


@bp.post("/sessions/network/deny")
@limit("login")
@use_params("identity.session", Param("token", required=True, allow_blank=False,
                                      description="the \"this wasn't me\" link's token (new-network mail)"),
            summary="\"This wasn't me\": lock the account and end its sessions (the new-network mail's link)",
            errors={422: "invalid_network_token (unknown, expired or used; each mail's links work once)",
                    429: "too_many_requests"})
def sessions_network_deny(p):
    from barong.services.accounts import networks

    networks.deny(p["token"], RequestInfo.current())
    return jsonify({"locked": True})


@bp.delete("/sessions")
@use_params("identity.session", status=204, summary="Destroy the current session",
            errors={401: "authz.missing_csrf_token / csrf_token_mismatch (X-CSRF-Token required)",
                    404: "identity.session.not_found"})
def sessions_destroy(p):
    identity.logout(sessions.from_cookie(), RequestInfo.current(), request.headers.get("X-CSRF-Token"))
    return "", 204


@bp.post("/users")
@limit("signup")
@use_params("identity.user", Param("email", required=True, allow_blank=False),
            Param("password", required=True, allow_blank=False), Param("username"), Param("refid"),
            Param("data", description="JSON string"), CAPTCHA, status=201, summary="Creates new user",
            errors={422: "model errors (email.taken, password.weak, …), referral errors, captcha",
                    429: "too_many_requests"})
def users_create(p):
    captcha.check("user_create", p.get("captcha_response"), scope="identity.user")
    user, session = identity.signup(p["email"], p["password"], RequestInfo.current(), username=p.get("username"),
                                    refid=p.get("refid"), data=p.get("data"))
    return _session_body(user, session)


@bp.get("/users/register_geetest")
@use_params("identity.user", summary="Register Geetest captcha")
def users_register_geetest(p):
    return jsonify(captcha.register_geetest())


@bp.post("/users/access")
@use_params("identity.user", Param("whitelink_token", required=True, allow_blank=False), status=201,
            summary="Whitelist the caller's IP with a whitelink token")
@no_content
def users_access(p):
    from barong.services.access import restrictions

    restrictions.grant_whitelink_access(p["whitelink_token"], RequestInfo.current())
    return "", 201


@bp.post("/users/email/generate_code")
@limit("email", per_account=True)
@use_params("identity.user", Param("email", required=True, allow_blank=False), CAPTCHA, status=201,
            summary="Send confirmations email", errors={429: "too_many_requests"})
@no_content
def email_generate_code(p):
    captcha.check("email_confirmation", p.get("captcha_response"), scope="identity.user")
    identity.resend_confirmation(p["email"])
    return "", 201


@bp.post("/users/email/confirm_code")
@limit("email")
@use_params("identity.user", Param("token", required=True, allow_blank=False), status=201,
            summary="Confirms an account",
            errors={422: "jwt.decode_and_verify.*, active_or_doesnt_exist, utilized_token", 429: "too_many_requests"})
def email_confirm_code(p):
    user, session = identity.confirm_email(p["token"], RequestInfo.current())
    return _session_body(user, session)


@bp.post("/users/password/generate_code")
@limit("reset", per_account=True)
@use_params("identity.user", Param("email", required=True, allow_blank=False, missing="identity.user.missing_email"),
            CAPTCHA, status=201, summary="Send password reset email", errors={429: "too_many_requests"})
@no_content
def password_generate_code(p):
    captcha.check("password_reset", p.get("captcha_response"), scope="identity.user")
    identity.request_password_reset(p["email"], RequestInfo.current())
    return "", 201


@bp.post("/users/password/confirm_code")
@limit("reset")
@use_params("identity.user",
            Param("reset_password_token", required=True, allow_blank=False,
                  missing="identity.user.missing_pass_token"),
            Param("password", required=True, allow_blank=False, missing="identity.user.missing_password"),
            Param("confirm_password", required=True, allow_blank=False,
                  missing="identity.user.missing_confirm_password"),
            status=201, summary="Sets new account password",
            errors={422: "passwords_doesnt_match, jwt.decode_and_verify.*, utilized_token, password.*",
                    429: "too_many_requests"})
@no_content
def password_confirm_code(p):
    identity.reset_password(p["reset_password_token"], p["password"], p["confirm_password"], RequestInfo.current())
    return "", 201


from barong.api.v2 import identity_webauthn  # noqa: E402,F401  (passkey ceremonies and reauth attach to bp)
