"""identity/sessions: passkey ceremonies (beyond the original) and the step-up re-verification.

* `POST identity/sessions/webauthn/options` — a challenge for a login (`email`: the second
  factor of `POST identity/sessions`), or without `email`, when
  BARONG_WEBAUTHN_PASSWORDLESS, for `POST identity/sessions/webauthn` (a passkey alone);
* `POST identity/sessions/reauth/options` and `POST identity/sessions/reauth` — re-verify a
  second factor on the current session (cookie + X-CSRF-Token): its `auth_time` becomes now,
  so the next gateway JWT says the user just proved it (step-up before a withdrawal).
"""
from __future__ import annotations

from flask import current_app, jsonify

from barong import authz
from barong.api.params import Param, use_params
from barong.api.v2.identity import _session_body, bp
from barong.errors import BarongError
from barong.services.access.rate_limits import limit
from barong.services.accounts import second_factor, webauthn
from barong.services.infra.request_info import RequestInfo

ASSERTION = Param("webauthn_assertion", "any",
                  description="PublicKeyCredential from navigator.credentials.get() (JSON object or its text)")


@bp.post("/sessions/webauthn/options")
@limit("login")
@use_params("identity.session", Param("email", description="the account's email: options for its passkeys "
                                                           "(omit for a passwordless login)"),
            status=201, summary="Passkey challenge for a login: PublicKeyCredentialRequestOptions (`publicKey`)",
            errors={422: "missing_email (passwordless login is off)", 429: "too_many_requests"})
def sessions_webauthn_options(p):
    """The same shape whatever the address: an unknown one, or one without passkeys, gets
    made-up credential ids (no enumeration). Single use, valid 5 minutes."""
    email = (p.get("email") or "").strip()
    if email:
        return jsonify(publicKey=webauthn.authentication_options("login", email=email)), 201
    if not current_app.config["BARONG_WEBAUTHN_PASSWORDLESS"]:
        raise BarongError("identity.session.missing_email", 422)
    return jsonify(publicKey=webauthn.authentication_options("passwordless")), 201


@bp.post("/sessions/webauthn")
@limit("login")
@use_params("identity.session", Param("webauthn_assertion", "any", required=True,
                                      description="PublicKeyCredential from navigator.credentials.get() for "
                                                  "options asked without an email"),
            status=201, summary="Start a session with a passkey alone (BARONG_WEBAUTHN_PASSWORDLESS)",
            errors={401: "missing_webauthn / locked / banned / deleted / not_active",
                    403: "invalid_webauthn / webauthn_cloned", 404: "passwordless_disabled",
                    429: "too_many_requests"})
def sessions_webauthn(p):
    user, session = second_factor.passwordless_login(p.get("webauthn_assertion"), RequestInfo.current())
    return _session_body(user, session)


def _current():
    """The cookie's session and its user (CSRF checked: these are state-changing calls)."""
    caller = authz.authenticate_cookie("POST", RequestInfo.current())
    user = caller.account.entity()
    if user is None:
        raise BarongError("authz.invalid_session", 401)
    return user, caller.session


@bp.post("/sessions/reauth/options")
@limit("otp")
@use_params("identity.session", status=201,
            summary="Passkey challenge to re-verify the current session (cookie + X-CSRF-Token)",
            errors={401: "authz.invalid_session / missing_csrf_token / csrf_token_mismatch", 429: "too_many_requests"})
def sessions_reauth_options(p):
    user, _session = _current()
    return jsonify(publicKey=webauthn.authentication_options("reauth", user=user)), 201


@bp.post("/sessions/reauth")
@limit("otp")
@use_params("identity.session", Param("otp_code", description="a current TOTP code"), ASSERTION, status=201,
            summary="Re-verify a second factor on the current session: auth_time = now (step-up claims)",
            errors={401: "authz.invalid_session / missing_csrf_token / csrf_token_mismatch, missing_otp / "
                         "missing_webauthn",
                    403: "invalid_otp / invalid_webauthn / webauthn_cloned",
                    422: "2fa_not_enabled (no second factor to re-verify)",
                    429: "too_many_requests, resource.otp.too_many_requests"})
def sessions_reauth(p):
    """Answers `{"auth_time": <unix seconds>, "amr": [...]}`: what the next JWT of
    `/api/v2/auth` carries for this session."""
    user, session = _current()
    session = second_factor.reauth(user, session, RequestInfo.current(), otp_code=p.get("otp_code"),
                                   webauthn_assertion=p.get("webauthn_assertion"))
    return jsonify(auth_time=int(session.auth_time), amr=session.amr.split(",")), 201
