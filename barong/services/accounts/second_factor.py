"""The second factor, whichever the user has: a TOTP app (`users.otp`, the original's
flag, unchanged: API keys still need it) and/or passkeys (barong.services.accounts.webauthn).

* `login_step` — the login's 2FA step (identity.login): which factor was shown, the
  session's `amr`;
* `passwordless_login` — a passkey alone (BARONG_WEBAUTHN_PASSWORDLESS);
* `reauth` — re-verify a second factor on the current session: refreshes its
  `auth_time` (the gateway JWT's step-up claims), identity/sessions/reauth;
* `confirm` — "is it really you" before a passkey is added or removed (password or a
  second factor);
* `enrol_passkey` / `remove_passkey` — the passkey actions with their side effects
  (recovery codes at the first second factor; other sessions signed out);
* `regenerate_recovery_codes` — new recovery codes on the user's demand, old ones dead;
* `reset` — an operator's 2FA reset: TOTP, recovery codes and every passkey removed;
* `enrolled` — has a second factor (operators must, BARONG_CONSOLE_REQUIRE_2FA).
"""
from __future__ import annotations

import time

from flask import current_app

from barong.errors import BarongError
from barong.extensions import db
from barong.models import User
from barong.security import passwords
from barong.services.accounts import otp, webauthn
from barong.services.infra.request_info import RequestInfo
from barong.services.infra.unit_of_work import durable


def enrolled(user) -> bool:
    """TOTP on, or at least one passkey."""
    return bool(user.otp) or webauthn.has_credentials(user)


# ---- login ------------------------------------------------------------------------------------

def login_step(user: User, otp_code: str | None, webauthn_assertion, info: RequestInfo,
               on_failure) -> tuple[str, tuple[str, ...]]:
    """The second step of a login whose password was right. Returns (activity action, amr).

    No second factor: ("login", ("pwd",)). TOTP on: a TOTP or recovery code (`otp_code`) or
    a passkey assertion. Passkeys only: an assertion, or a recovery code. Refusals:
    401 identity.session.missing_otp (TOTP on, nothing sent — the original's answer),
    401 identity.session.missing_webauthn (passkeys only, nothing sent), 403
    identity.session.invalid_otp, 403 identity.session.invalid_webauthn /
    webauthn_cloned; `on_failure(reason)` is called first for the invalid ones (the
    caller records the failure and counts it for the lockout)."""
    has_keys = webauthn.has_credentials(user)
    if not (user.otp or has_keys):
        return "login", ("pwd",)
    if webauthn_assertion not in (None, "", {}):
        if not has_keys:
            on_failure("The passkey is not registered")
            raise BarongError("identity.session.invalid_webauthn", 403)
        try:
            webauthn.verify_assertion(webauthn_assertion, "login", user, info)
        except webauthn.CeremonyError as err:
            on_failure(f"The passkey was refused: {err.reason}")
            raise
        return "login::webauthn", ("pwd", "webauthn")
    code = (otp_code or "").strip()
    if not code:
        if user.otp:
            raise BarongError("identity.session.missing_otp", 401)
        raise BarongError("identity.session.missing_webauthn", 401)
    ok = otp.verify(user, code, allow_recovery=True) if user.otp else otp.use_recovery_code(user, code)
    if not ok:
        on_failure("The code is invalid")
        raise BarongError("identity.session.invalid_otp", 403)
    return "login::2fa", ("pwd", "otp")


def passwordless_login(assertion, info: RequestInfo):
    """Sign in with a passkey alone (BARONG_WEBAUTHN_PASSWORDLESS; the authenticator must
    verify the user — PIN or biometrics). Returns (user, session).

    Raises 404 identity.session.passwordless_disabled when the flag is off,
    401 identity.session.missing_webauthn without an assertion, 403 invalid_webauthn /
    webauthn_cloned, 401 locked / banned / deleted / not_active as a password login."""
    from barong.services.accounts import identity, sessions
    from barong.services.audit import activities
    from barong.services.delivery import events

    if not current_app.config["BARONG_WEBAUTHN_PASSWORDLESS"]:
        raise BarongError("identity.session.passwordless_disabled", 404)
    if assertion in (None, "", {}):
        raise BarongError("identity.session.missing_webauthn", 401)
    cred = webauthn.verify_assertion(assertion, "passwordless", None, info)
    user = webauthn.credential_user(cred)
    if user is None:
        raise BarongError("identity.session.invalid_webauthn", 403)
    if identity.is_locked(user.email):
        durable(identity._login_failed, user.id, "login::webauthn", "Account temporarily locked", info)
        raise BarongError("identity.session.locked", 401)
    for state, reason in (("banned", "Your account is banned"), ("deleted", "Your account is deleted")):
        if user.state == state:
            durable(identity._login_failed, user.id, "login::webauthn", reason, info)
            raise BarongError(f"identity.session.{state}", 401)
    if user.state not in ("active", "pending"):
        durable(identity._login_failed, user.id, "login::webauthn", "Your account is not active", info)
        raise BarongError("identity.session.not_active", 401)
    from barong.services.accounts import cooldown, networks

    networks.check_login(user, info)  # new-network approval holds for a passkey alone too
    cooldown.expire_due(user)
    activities.record(user, "session", "login::webauthn", "succeed", info)
    session = sessions.open_session(user, info, amr=("webauthn",))
    events.emit("system.session.create",
                {"user": events.user_summary(user), "user_ip": info.ip, "user_agent": info.user_agent})
    return user, session


# ---- step-up ----------------------------------------------------------------------------------

def reauth(user: User, session, info: RequestInfo, otp_code: str | None = None, webauthn_assertion=None):
    """Re-verify a second factor on the current session; its `auth_time` becomes now and
    the factor joins its `amr` (the next gateway JWT carries both).

    Raises 422 identity.session.2fa_not_enabled (no second factor to show),
    401 identity.session.missing_otp / missing_webauthn, 403 invalid_otp /
    invalid_webauthn / webauthn_cloned, 429 resource.otp.too_many_requests (wrong codes
    for the account, as the OTP-guarded actions). Records session / "reauth"."""
    from barong.services.accounts import sessions
    from barong.services.audit import activities

    if not enrolled(user):
        raise BarongError("identity.session.2fa_not_enabled", 422)

    def failed(reason: str) -> None:
        durable(_reauth_failed, user.id, reason, info)

    if webauthn_assertion not in (None, "", {}):
        try:
            webauthn.verify_assertion(webauthn_assertion, "reauth", user, info)
        except webauthn.CeremonyError as err:
            failed(f"The passkey was refused: {err.reason}")
            raise
        factor = "webauthn"
    elif (otp_code or "").strip():
        if not user.otp:
            raise BarongError("identity.session.missing_webauthn", 401)
        if not otp.verify_guarded(user, otp_code):
            failed("The code is invalid")
            raise BarongError("identity.session.invalid_otp", 403)
        factor = "otp"
    else:
        raise BarongError("identity.session.missing_otp" if user.otp else "identity.session.missing_webauthn", 401)
    amr = tuple(dict.fromkeys([*(session.amr.split(",") if session.amr else ["pwd"]), factor]))
    sessions.refresh_authentication(session, amr)
    activities.record(user, "session", "reauth", "succeed", info, data={"amr": ",".join(amr)})
    return session


def _reauth_failed(user_id: int, reason: str, info: RequestInfo) -> None:
    from barong.services.audit import activities

    user = db.session.get(User, user_id)
    if user is not None:
        activities.record(user, "session", "reauth", "failed", info, data={"reason": reason})


# ---- confirmations and enrolment ----------------------------------------------------------------

def confirm(user: User, password: str | None, otp_code: str | None, scope: str = "resource.webauthn") -> None:
    """The user proves it is them before a passkey is added or removed: the account password,
    or (when TOTP is on) a current TOTP code. Raises 422 `<scope>.missing_confirmation`
    / `<scope>.invalid_confirmation` (wrong codes are counted as for the OTP-guarded actions)."""
    password, otp_code = password or "", (otp_code or "").strip()
    if not password and not otp_code:
        raise BarongError(f"{scope}.missing_confirmation", 422, field="password")
    if password:
        if not passwords.verify(user.password_digest, password):
            raise BarongError(f"{scope}.invalid_confirmation", 422, field="password")
        return
    if not user.otp or not otp.verify_guarded(user, otp_code):
        raise BarongError(f"{scope}.invalid_confirmation", 422, field="otp_code")


def enrol_passkey(user: User, credential, name: str | None, info: RequestInfo, *, password: str | None = None,
                  otp_code: str | None = None):
    """Confirm, verify and store a new passkey. Returns (credential, recovery codes or None):
    a user's first second factor gets ten recovery codes (as TOTP enable does) and every
    other session of the user is signed out (the current one, `info.session_id`, kept)."""
    from barong.services.accounts import required_actions, sessions

    confirm(user, password, otp_code)
    first = not enrolled(user)
    cred = webauthn.register(user, credential, name, info)
    codes = None
    if first:
        codes = otp.regenerate_recovery_codes(user)
        required_actions.completed(user, "enable_2fa")
        sessions.invalidate_all(user.uid, keep=info.session_id)
    return cred, codes


def remove_passkey(user: User, credential_pk: int, info: RequestInfo, *, password: str | None = None,
                   otp_code: str | None = None) -> None:
    """Confirm and delete one of the user's passkeys. The last second factor gone (no TOTP,
    no other passkey), the recovery codes go too. An operator who must use 2FA
    (BARONG_CONSOLE_REQUIRE_2FA) is then sent to enrol again by the console."""
    cred = webauthn.find(user, credential_pk)
    confirm(user, password, otp_code)
    webauthn.remove(user, cred, info)
    if not enrolled(user):
        user.otp_recovery_codes = None
        db.session.flush()


def reset(user: User) -> int:
    """An operator's "reset 2FA": every second factor goes — TOTP off (API keys deactivated,
    the private `otp` label deleted), the TOTP secret, the recovery codes and every passkey
    — so the next login asks for the password only and the user enrols again. Returns the
    number of passkeys removed (for the operator's audit row). Sessions are left alone."""
    from barong.services.accounts import labels, users

    users.set_otp(user, False)
    label = labels.find(user, "otp", "private")
    if label is not None:
        labels.delete(label)
    removed = webauthn.remove_all(user)
    user.otp_secret_encrypted = None
    user.otp_recovery_codes = None
    user.otp_last_step = None
    db.session.flush()
    return removed


def regenerate_recovery_codes(user: User, info: RequestInfo, *, otp_code: str | None = None,
                              webauthn_assertion=None) -> list[str]:
    """Ten new recovery codes; the old ones stop working. Needs a current second factor:
    a TOTP code (not a recovery code) or a passkey assertion (`reauth` options).

    Raises 400 resource.otp.not_enabled (no second factor), 422 resource.otp.missing_code,
    422 resource.otp.invalid (wrong code or assertion; failed activity), 429
    resource.otp.too_many_requests. Records otp / "regenerate recovery codes"."""
    from barong.services.audit import activities

    action = "regenerate recovery codes"
    if not enrolled(user):
        raise BarongError("resource.otp.not_enabled", 400)
    if webauthn_assertion not in (None, "", {}):
        try:
            webauthn.verify_assertion(webauthn_assertion, "reauth", user, info, code="resource.otp.invalid")
        except webauthn.CeremonyError as err:
            raise otp._refuse(user, action, "resource.otp.invalid", 422, err.reason, info) from None
    elif (otp_code or "").strip():
        if not user.otp or not otp.verify_guarded(user, otp_code):
            raise otp._refuse(user, action, "resource.otp.invalid", 422, "OTP code is invalid", info)
    else:
        raise BarongError("resource.otp.missing_code", 422, field="code")
    codes = otp.regenerate_recovery_codes(user)
    activities.record(user, "otp", action, "succeed", info)
    return codes


def auth_time_of(session) -> int:
    return int(session.auth_time or session.created_at or time.time())
