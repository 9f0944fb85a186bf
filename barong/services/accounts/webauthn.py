"""Passkeys and security keys (WebAuthn, with py_webauthn).

Ceremonies, each in two calls:

* **registration** (a signed-in user, confirming with the password or a second factor):
  `registration_options(user)` → the browser's `navigator.credentials.create()` →
  `register(user, credential, name, …)` stores the credential's public key;
* **authentication** (`authentication_options(purpose, …)` → `navigator.credentials.get()`
  → `verify_assertion(credential, purpose, user)`): the second factor at login
  (`login`), a passkey alone when `BARONG_WEBAUTHN_PASSWORDLESS` (`passwordless`), or a
  re-verification of the current session (`reauth`, barong.services.accounts.second_factor).

Every challenge is 32 random bytes remembered in kv for CHALLENGE_TTL seconds with its
purpose and user, and is single use: the first assertion or attestation that names it
takes the mark `webauthn_used:<hash>` with `kv.add` (set-if-absent: Redis SET NX or the
kv row's primary key), so of two requests racing with one challenge only one goes on.
Sign counters: an authenticator that counts must show a larger counter each time; a
counter that did not grow is refused (`…webauthn_cloned`, an activity is recorded) — the
credential's private key may have been copied. The counter is written with a
compare-and-set UPDATE so two parallel uses cannot both store theirs.

The relying party is BARONG_DOMAIN's host (`BARONG_WEBAUTHN_RP_ID` overrides it) and the
origin BARONG_DOMAIN's scheme://host[:port] (`BARONG_WEBAUTHN_ORIGIN`).
"""
from __future__ import annotations

import base64
import hmac
import json
import secrets
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import update as sa_update

from barong.errors import BarongError
from barong.extensions import db
from barong.models import User, WebAuthnCredential, utcnow
from barong.security.crypto import sha256_hex
from barong.services.infra import kv
from barong.services.infra.request_info import RequestInfo
from barong.services.infra.unit_of_work import durable

CHALLENGE_TTL = 300
TIMEOUT_MS = 120_000
#: most credentials one user may register
MAX_CREDENTIALS = 10
NAME_MAX = 64
PURPOSES = ("register", "login", "passwordless", "reauth")


class CeremonyError(BarongError):
    """An attestation or assertion that does not verify. `reason` is for the activity log only."""

    def __init__(self, code: str, status: int, reason: str):
        super().__init__(code, status)
        self.reason = reason


# ---- relying party ----------------------------------------------------------------------------

def rp_id() -> str:
    explicit = current_app.config.get("BARONG_WEBAUTHN_RP_ID")
    return explicit or (urlsplit(current_app.config["BARONG_DOMAIN"]).hostname or "localhost")


def origin() -> str:
    explicit = current_app.config.get("BARONG_WEBAUTHN_ORIGIN")
    if explicit:
        return explicit.rstrip("/")
    parts = urlsplit(current_app.config["BARONG_DOMAIN"])
    return f"{parts.scheme}://{parts.netloc}"


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64url(text: str) -> bytes:
    text = str(text)
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


# ---- queries ----------------------------------------------------------------------------------

def credentials_of(user) -> list[WebAuthnCredential]:
    return (db.session.query(WebAuthnCredential).filter_by(user_id=user.id)
            .order_by(WebAuthnCredential.id).all())


def has_credentials(user) -> bool:
    return db.session.query(WebAuthnCredential.id).filter_by(user_id=user.id).first() is not None


def find(user, credential_pk: int) -> WebAuthnCredential:
    cred = db.session.get(WebAuthnCredential, credential_pk) if 0 < credential_pk < 2 ** 63 else None
    if cred is None or cred.user_id != user.id:
        raise BarongError("resource.webauthn.not_found", 404)
    return cred


def entity(cred: WebAuthnCredential) -> dict:
    from barong.models import iso

    return {"id": cred.id, "name": cred.name, "credential_id": cred.credential_id,
            "transports": json.loads(cred.transports or "[]"), "backed_up": cred.backed_up,
            "created_at": iso(cred.created_at), "last_used_at": iso(cred.last_used_at)}


# ---- challenges -------------------------------------------------------------------------------

def _challenge_key(challenge: bytes) -> str:
    return f"webauthn_challenge:{sha256_hex(_b64url(challenge))}"


def _issue_challenge(purpose: str, uid: str | None) -> bytes:
    challenge = secrets.token_bytes(32)
    kv.set(_challenge_key(challenge), json.dumps({"purpose": purpose, "uid": uid or ""}), CHALLENGE_TTL)
    return challenge


def _parse(credential, code: str) -> dict:
    """The browser's PublicKeyCredential as a dict (a JSON object or its JSON text)."""
    if isinstance(credential, str):
        try:
            credential = json.loads(credential)
        except ValueError:
            raise CeremonyError(code, _status(code), "credential is not JSON") from None
    if not isinstance(credential, dict) or not isinstance(credential.get("response"), dict):
        raise CeremonyError(code, _status(code), "credential is not a PublicKeyCredential")
    return credential


def _status(code: str) -> int:
    return 403 if code.startswith("identity.") else 422


def _client_challenge(credential: dict, code: str) -> bytes:
    try:
        client_data = json.loads(_unb64url(credential["response"]["clientDataJSON"]))
        return _unb64url(client_data["challenge"])
    except (KeyError, TypeError, ValueError):
        raise CeremonyError(code, _status(code), "clientDataJSON is malformed") from None


def _take_challenge(challenge: bytes, purpose: str, uid: str | None, code: str) -> None:
    """Accept `challenge` once, for this purpose (and user); else the ceremony's refusal."""
    raw = kv.get(_challenge_key(challenge))
    try:
        issued = json.loads(raw) if raw else None
    except ValueError:
        issued = None
    if issued is None or issued.get("purpose") != purpose:
        raise CeremonyError(code, _status(code), "unknown or expired challenge")
    if uid is not None and not hmac.compare_digest(str(issued.get("uid") or ""), uid):
        raise CeremonyError(code, _status(code), "challenge issued for another user")
    if not kv.add(f"webauthn_used:{sha256_hex(_b64url(challenge))}", "used", CHALLENGE_TTL):
        raise CeremonyError(code, _status(code), "challenge already used")


# ---- registration -----------------------------------------------------------------------------

def registration_options(user) -> dict:
    """PublicKeyCredentialCreationOptions (JSON) for a new credential of `user`."""
    from webauthn import generate_registration_options, options_to_json
    from webauthn.helpers.structs import (
        AuthenticatorSelectionCriteria,
        PublicKeyCredentialDescriptor,
        ResidentKeyRequirement,
        UserVerificationRequirement,
    )

    resident = (ResidentKeyRequirement.REQUIRED if current_app.config["BARONG_WEBAUTHN_PASSWORDLESS"]
                else ResidentKeyRequirement.PREFERRED)
    options = generate_registration_options(
        rp_id=rp_id(), rp_name=current_app.config["BARONG_WEBAUTHN_RP_NAME"], user_name=user.email,
        user_id=user.uid.encode(), user_display_name=user.email, challenge=_issue_challenge("register", user.uid),
        timeout=TIMEOUT_MS,
        authenticator_selection=AuthenticatorSelectionCriteria(resident_key=resident,
                                                               user_verification=UserVerificationRequirement.PREFERRED),
        exclude_credentials=[PublicKeyCredentialDescriptor(id=_unb64url(c.credential_id))
                             for c in credentials_of(user)])
    return json.loads(options_to_json(options))


def clean_name(name: str | None) -> str:
    name = " ".join(str(name or "").split())
    if not name or len(name) > NAME_MAX:
        raise BarongError("resource.webauthn.invalid_name", 422)
    return name


def register(user, credential, name: str | None, info: RequestInfo | None = None) -> WebAuthnCredential:
    """Verify the attestation of `navigator.credentials.create()` and store the credential.

    The caller has confirmed the user (password or second factor, `second_factor.confirm`).
    Raises 422 resource.webauthn.invalid_name / limit_reached / invalid_credential (bad or
    reused challenge, wrong origin or RP, attestation that does not verify) /
    credential_taken. Records activity webauthn / "add passkey". The user's first second
    factor also gets recovery codes (returned by `second_factor.enrol_passkey`)."""
    from webauthn import verify_registration_response
    from webauthn.helpers.exceptions import WebAuthnException

    from barong.services.audit import activities
    from barong.services.infra.unit_of_work import add_unique

    info = info or RequestInfo.current()
    code = "resource.webauthn.invalid_credential"
    name = clean_name(name)
    if db.session.query(WebAuthnCredential.id).filter_by(user_id=user.id).count() >= MAX_CREDENTIALS:
        raise BarongError("resource.webauthn.limit_reached", 422)
    data = _parse(credential, code)
    challenge = _client_challenge(data, code)
    try:
        _take_challenge(challenge, "register", user.uid, code)
        verified = verify_registration_response(credential=data, expected_challenge=challenge,
                                                expected_rp_id=rp_id(), expected_origin=origin())
    except (WebAuthnException, ValueError, KeyError, TypeError) as err:
        durable(_failed, user.id, "add passkey", str(err)[:200], info)
        raise CeremonyError(code, 422, str(err)[:200]) from None
    except CeremonyError as err:
        durable(_failed, user.id, "add passkey", err.reason, info)
        raise
    transports = data.get("response", {}).get("transports")
    cred = WebAuthnCredential(
        user_id=user.id, credential_id=_b64url(verified.credential_id), public_key=verified.credential_public_key,
        sign_count=verified.sign_count, name=name, aaguid=str(verified.aaguid or "")[:36] or None,
        transports=json.dumps([str(t)[:16] for t in transports][:8]) if isinstance(transports, list) else None,
        backed_up=bool(getattr(verified, "credential_backed_up", False)))
    taken = {n: (lambda: BarongError("resource.webauthn.credential_taken", 422))
             for n in ("uq_webauthn_credentials_credential_id", "webauthn_credentials.credential_id")}
    add_unique(cred, taken)
    activities.record(user, "otp", "add passkey", "succeed", info, data={"name": name})
    return cred


def _failed(user_id: int, action: str, reason: str, info: RequestInfo) -> None:
    from barong.services.audit import activities

    user = db.session.get(User, user_id)
    if user is not None:
        activities.record(user, "otp", action, "failed", info, data={"reason": reason})


def remove(user, cred: WebAuthnCredential, info: RequestInfo | None = None) -> None:
    """Delete a credential (the caller confirmed the user). Records "remove passkey"."""
    from barong.services.audit import activities

    info = info or RequestInfo.current()
    name = cred.name
    db.session.delete(cred)
    db.session.flush()
    activities.record(user, "otp", "remove passkey", "succeed", info, data={"name": name})


def remove_all(user) -> int:
    """Delete every credential of `user` (an operator's 2FA reset, `second_factor.reset`);
    the number removed. No user activity: the operator's audit row names the count."""
    from sqlalchemy import delete as sa_delete

    result = db.session.execute(sa_delete(WebAuthnCredential).where(WebAuthnCredential.user_id == user.id)
                                .execution_options(synchronize_session=False))
    db.session.flush()
    return result.rowcount or 0


# ---- authentication ---------------------------------------------------------------------------

def _decoy_ids(email: str) -> list[str]:
    """Stable made-up credential ids for an address without passkeys (or without an account):
    the options look alike whoever asks, so they do not tell which addresses have passkeys."""
    secret = (current_app.config.get("SECRET_KEY") or "barong").encode()
    return [_b64url(hmac.digest(secret, b"webauthn-decoy:" + kv.email_key(email).encode(), "sha256"))]


def authentication_options(purpose: str, user=None, email: str | None = None) -> dict:
    """PublicKeyCredentialRequestOptions (JSON): `login` (for `email`; the challenge is
    bound to its user), `passwordless` (discoverable credentials, no user yet), `reauth`
    (the signed-in `user`)."""
    from webauthn import generate_authentication_options, options_to_json
    from webauthn.helpers.structs import PublicKeyCredentialDescriptor, UserVerificationRequirement

    if purpose == "login" and user is None and email:
        from barong.services.accounts import users

        user = users.by_email(email)
    if purpose == "passwordless":
        ids, uid = [], None
    else:
        ids = [c.credential_id for c in credentials_of(user)] if user is not None else []
        uid = user.uid if user is not None else "-"
        if not ids and purpose == "login":
            ids = _decoy_ids(email or "")
    uv = (UserVerificationRequirement.REQUIRED if purpose == "passwordless"
          else UserVerificationRequirement.PREFERRED)
    options = generate_authentication_options(
        rp_id=rp_id(), challenge=_issue_challenge(purpose, uid), timeout=TIMEOUT_MS,
        allow_credentials=[PublicKeyCredentialDescriptor(id=_unb64url(i)) for i in ids], user_verification=uv)
    return json.loads(options_to_json(options))


def _sign_count_of(data: dict) -> int | None:
    try:
        auth_data = _unb64url(data["response"]["authenticatorData"])
    except (KeyError, TypeError, ValueError):
        return None
    return int.from_bytes(auth_data[33:37], "big") if len(auth_data) >= 37 else None


def verify_assertion(credential, purpose: str, user=None, info: RequestInfo | None = None,
                     code: str = "identity.session.invalid_webauthn") -> WebAuthnCredential:
    """Verify `navigator.credentials.get()`'s result for `purpose` (and `user`, except
    passwordless, where the credential names its user). Returns the credential (sign
    counter and last use updated). Raises CeremonyError(`code`, 403) — wrong, reused or
    expired challenge, a credential that is not the user's, a bad signature, a counter
    that did not grow (activity "passkey counter did not increase")."""
    from webauthn import verify_authentication_response
    from webauthn.helpers.exceptions import WebAuthnException

    info = info or RequestInfo.current()
    status = _status(code)
    data = _parse(credential, code)
    challenge = _client_challenge(data, code)
    _take_challenge(challenge, purpose, None if purpose == "passwordless" else user.uid, code)
    cred_id = data.get("id") if isinstance(data.get("id"), str) else ""
    cred = db.session.query(WebAuthnCredential).filter_by(credential_id=cred_id[:1400]).first() if cred_id else None
    if cred is None or (user is not None and cred.user_id != user.id):
        raise CeremonyError(code, status, "credential not registered for this user")
    handle = data["response"].get("userHandle")
    owner = user or db.session.get(User, cred.user_id)
    if handle:
        try:
            named = _unb64url(handle).decode()
        except (ValueError, UnicodeDecodeError):
            named = ""
        if not hmac.compare_digest(named.encode(), owner.uid.encode()):
            raise CeremonyError(code, status, "user handle does not match")
    new_count = _sign_count_of(data)
    if new_count is not None and (new_count > 0 or cred.sign_count > 0) and new_count <= cred.sign_count:
        durable(_failed, owner.id, "passkey counter did not increase",
                f"{cred.name}: {new_count} after {cred.sign_count}", info)
        raise CeremonyError(code.replace("invalid_webauthn", "webauthn_cloned") if "invalid_webauthn" in code
                            else code, status, "sign counter did not increase")
    try:
        verified = verify_authentication_response(
            credential=data, expected_challenge=challenge, expected_rp_id=rp_id(), expected_origin=origin(),
            credential_public_key=cred.public_key, credential_current_sign_count=cred.sign_count,
            require_user_verification=purpose == "passwordless")
    except (WebAuthnException, ValueError, KeyError, TypeError) as err:
        raise CeremonyError(code, status, str(err)[:200]) from None
    result = db.session.execute(
        sa_update(WebAuthnCredential)
        .where(WebAuthnCredential.id == cred.id, WebAuthnCredential.sign_count == cred.sign_count)
        .values(sign_count=verified.new_sign_count, last_used_at=utcnow())
        .execution_options(synchronize_session=False))
    if result.rowcount != 1:  # a parallel use stored its counter first
        raise CeremonyError(code, status, "sign counter changed meanwhile")
    db.session.expire(cred)
    return cred


def credential_user(cred: WebAuthnCredential) -> User | None:
    return db.session.get(User, cred.user_id)
