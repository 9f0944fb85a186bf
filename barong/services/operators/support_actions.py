"""A support desk's actions on one user, shared by the console user page and the admin
JSON API: the user's sessions (list, revoke one, revoke all), the password-reset and
confirmation mails, and *required actions* — a password change and/or 2FA enrolment the
user must complete before anything else (barong.services.accounts.required_actions enforces them).

Every function takes the operator (`actor`) and checks the ability first (401
`admin.ability.not_permitted`), then Barong's guards (`admin_users.guard`: a superadmin is
touched only by a superadmin; an operator does not act on their own account here), then
writes one admin activity (`admin_activities.audit`). Services flush; the request commits.

Abilities (barong.services.access.abilities defaults): `read Session` lists, `destroy Session`
revokes; the mails need `update User` (as unlock); required actions `update RequiredAction`;
disabling a user's API key `update APIKey`, removing it `destroy APIKey`.
"""
from __future__ import annotations

from datetime import datetime, timezone

from barong.errors import BarongError
from barong.models import User
from barong.security.crypto import sha256_hex
from barong.services.access import abilities
from barong.services.accounts import api_keys, identity, required_actions, sessions
from barong.services.audit import admin_activities
from barong.services.infra.request_info import RequestInfo
from barong.services.operators import admin_users


def public_id(s: sessions.SessionData) -> str:
    """A session's name outside the store: a hash of the store id (the site's sessions page
    uses the same one), never the cookie nor the id itself."""
    return sha256_hex(s.id)[:20]


def _ts(value: float) -> str:
    return datetime.fromtimestamp(value, timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def session_entity(s: sessions.SessionData) -> dict:
    from barong.services.infra import geoip

    return {"id": public_id(s), "user_agent": s.user_agent, "user_ip": s.user_ip,
            "user_ip_country": geoip.country_name(s.user_ip), "created_at": _ts(s.created_at),
            "last_seen_at": _ts(s.last_seen_at), "expire_time": _ts(s.expire_time)}


# ---- sessions -----------------------------------------------------------------------------------

def list_sessions(user: User, *, actor) -> list[sessions.SessionData]:
    """The user's live sessions, most recently seen first. Raises 401 admin.ability.not_permitted."""
    abilities.authorize(actor, "read", "Session")
    return sorted(sessions.list_for_user(user.uid), key=lambda s: -s.last_seen_at)


def revoke_session(user: User, session_id: str, *, actor, audit: bool = True) -> sessions.SessionData:
    """End one session of `user` (`session_id` = public_id). Raises 401
    admin.ability.not_permitted; 422 admin.user.superadmin_change / update_himself; 404
    admin.session.doesnt_exist (unknown, expired, or another user's)."""
    abilities.authorize(actor, "destroy", "Session")
    admin_users.guard(actor, user)
    found = next((s for s in sessions.list_for_user(user.uid) if public_id(s) == (session_id or "")), None)
    if found is None:
        raise BarongError("admin.session.doesnt_exist", 404)
    sessions.destroy(found)
    admin_activities.audit(actor, "sessions", "revoke session", target_uid=user.uid,
                           data={"session": public_id(found), "user_ip": found.user_ip,
                                 "user_agent": found.user_agent}, audit=audit)
    return found


def revoke_all_sessions(user: User, *, actor, audit: bool = True) -> int:
    """End every session of `user`; the number ended. Raises 401 admin.ability.not_permitted;
    422 admin.user.superadmin_change / update_himself."""
    abilities.authorize(actor, "destroy", "Session")
    admin_users.guard(actor, user)
    n = sessions.invalidate_all(user.uid)
    admin_activities.audit(actor, "sessions", "revoke all sessions", target_uid=user.uid, data={"count": n},
                           audit=audit)
    return n


# ---- mails --------------------------------------------------------------------------------------

def send_password_reset(user: User, *, actor, info: RequestInfo | None = None, audit: bool = True) -> None:
    """Mail the user a password-reset link (the same mail as "forgot password"). Raises 401
    admin.ability.not_permitted; 422 admin.user.superadmin_change / update_himself,
    admin.user.not_active (banned or deleted: the reset would not let them in)."""
    abilities.authorize(actor, "update", "User")
    admin_users.guard(actor, user)
    if user.state in ("banned", "deleted"):
        raise BarongError("admin.user.not_active", 422)
    identity.request_password_reset(user.email, info or RequestInfo.current())
    admin_activities.audit(actor, "users", "send password reset", target_uid=user.uid, audit=audit)


def resend_confirmation(user: User, *, actor, audit: bool = True) -> None:
    """Mail the user a new confirmation link. Raises 401 admin.ability.not_permitted; 422
    admin.user.superadmin_change / update_himself, admin.user.already_confirmed (the
    private `email` label is `verified`)."""
    abilities.authorize(actor, "update", "User")
    admin_users.guard(actor, user)
    if user.private_labels().get("email") == "verified":
        raise BarongError("admin.user.already_confirmed", 422)
    identity.send_confirmation(user)
    admin_activities.audit(actor, "users", "resend confirmation", target_uid=user.uid, audit=audit)


# ---- required actions ---------------------------------------------------------------------------

def require(user: User, actions: list[str], *, actor, audit: bool = True) -> list[str]:
    """Make the user complete `actions` (any of required_actions.ACTIONS) at the next request;
    the user's pending actions after the change. Raises 401 admin.ability.not_permitted; 422
    admin.user.superadmin_change / update_himself, admin.required_action.invalid (unknown or
    none), admin.required_action.enable_2fa_done (2FA is already on)."""
    abilities.authorize(actor, "update", "RequiredAction")
    admin_users.guard(actor, user)
    wanted = [a for a in dict.fromkeys(actions or [])]
    if not wanted or any(a not in required_actions.ACTIONS for a in wanted):
        raise BarongError("admin.required_action.invalid", 422, field="action")
    if "enable_2fa" in wanted and user.otp:
        raise BarongError("admin.required_action.enable_2fa_done", 422, field="action")
    pending = required_actions.add(user, wanted)
    admin_activities.audit(actor, "users", "require action", target_uid=user.uid,
                           data={"actions": wanted, "pending": pending}, audit=audit)
    return pending


def unrequire(user: User, action: str | None, *, actor, audit: bool = True) -> list[str]:
    """Drop one pending action (or all: `action` None); the pending actions left. Raises 401
    admin.ability.not_permitted; 422 admin.user.superadmin_change / update_himself,
    admin.required_action.invalid; 404 admin.required_action.doesnt_exist (not pending)."""
    abilities.authorize(actor, "update", "RequiredAction")
    admin_users.guard(actor, user)
    if action is not None and action not in required_actions.ACTIONS:
        raise BarongError("admin.required_action.invalid", 422, field="action")
    pending = required_actions.pending(user.uid)
    if not pending or (action is not None and action not in pending):
        raise BarongError("admin.required_action.doesnt_exist", 404)
    left = required_actions.remove(user, [action] if action else list(pending))
    admin_activities.audit(actor, "users", "clear required action", target_uid=user.uid,
                           data={"action": action or "all", "pending": left}, audit=audit)
    return left


# ---- API keys -----------------------------------------------------------------------------------

def _user_key(user: User, kid: str | None):
    try:
        return api_keys.find_for(user, (kid or "").strip())
    except BarongError:
        raise BarongError("admin.apikey.doesnt_exist", 404) from None


def _key_data(key) -> dict:
    return {"kid": key.kid, "algorithm": key.algorithm, "scope": list(key.scope or []), "state": key.state}


def disable_api_key(user: User, kid: str | None, *, actor, audit: bool = True):
    """Turn one API key of `user` off (state `inactive`; the gateway refuses it from the next
    request; the user may turn it on again with their 2FA code). Raises 401
    admin.ability.not_permitted; 422 admin.user.superadmin_change / update_himself,
    admin.apikey.not_active (already off); 404 admin.apikey.doesnt_exist."""
    abilities.authorize(actor, "update", "APIKey")
    admin_users.guard(actor, user)
    key = _user_key(user, kid)
    if key.state != "active":
        raise BarongError("admin.apikey.not_active", 422)
    api_keys.update(key, state="inactive")
    admin_activities.audit(actor, "api_keys", "disable api key", target_uid=user.uid, data=_key_data(key),
                           audit=audit)
    return key


def delete_api_key(user: User, kid: str | None, *, actor, audit: bool = True) -> None:
    """Remove one API key of `user` for good (its secret is gone; the gateway refuses it from
    the next request). Raises 401 admin.ability.not_permitted; 422 admin.user.superadmin_change
    / update_himself; 404 admin.apikey.doesnt_exist."""
    abilities.authorize(actor, "destroy", "APIKey")
    admin_users.guard(actor, user)
    key = _user_key(user, kid)
    data = _key_data(key)
    api_keys.delete(key)
    admin_activities.audit(actor, "api_keys", "delete api key", target_uid=user.uid, data=data, audit=audit)
