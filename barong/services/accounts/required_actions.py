"""Required actions: what an operator made a user do before anything else — change the
password (`change_password`) and/or enrol 2FA (`enable_2fa`). Keycloak's "required
user actions".

Stored per user in the kv store (`required_actions:<uid>`, comma-separated, kept ten
years): no schema change, and not in `users.data`, which the user may overwrite
(`PUT resource/users/me`). With `BARONG_REDIS_URL` the marks live in Redis (run it with
`noeviction`, as for sessions).

Enforced

* in the API (barong.authz, gateway and in-process, every user caller): 403 with the
  codes `authz.required_action.change_password` / `authz.required_action.enable_2fa`
  for every path except those that complete the action (`ALLOWED_PATHS`) and
  `GET resource/users/me` — the login itself succeeds, so the user can act;
* on the site (barong.web.required_actions): every account page redirects to the
  password or 2FA page until done.

Cleared by the services that complete them (`completed`): account.change_password and
identity.reset_password (a new password), otp.enable. The warm authz path reads a
per-process cache (the accounts channel: a change here invalidates it on every worker).
"""
from __future__ import annotations

from barong.authz.process_cache import ACCOUNTS, ProcessCache
from barong.errors import BarongError
from barong.services.infra import kv

ACTIONS = ("change_password", "enable_2fa")
TTL = 10 * 365 * 24 * 3600
_API = "api/v2/barong/resource/"
#: paths (no leading slash) a user with pending actions may still call, by action
ALLOWED_PATHS = {
    "change_password": (_API + "users/password",),
    "enable_2fa": (_API + "otp/generate_qrcode", _API + "otp/enable", _API + "webauthn/credentials"),
}
#: always reachable: who am I (the client learns what to do from the refusal codes)
ALWAYS_ALLOWED = (_API + "users/me",)

_cache = ProcessCache("required_actions", ttl=2.0, channel=ACCOUNTS, max_entries=50000)


def _key(uid: str) -> str:
    return f"required_actions:{uid}"


def _read(uid: str) -> tuple[str, ...]:
    raw = kv.get(_key(uid)) or ""
    return tuple(a for a in raw.split(",") if a in ACTIONS)


def pending(uid: str) -> tuple[str, ...]:
    """The user's pending actions, in ACTIONS order (cached per process, see module doc)."""
    return _cache.get(uid, lambda: _read(uid))


def _write(uid: str, actions) -> tuple[str, ...]:
    ordered = tuple(a for a in ACTIONS if a in set(actions))
    if ordered:
        kv.set(_key(uid), ",".join(ordered), TTL)
    else:
        kv.delete(_key(uid))
    from barong.authz import account_cache

    account_cache.invalidate()  # the accounts channel: every worker re-reads
    return ordered


def add(user, actions) -> list[str]:
    return list(_write(user.uid, set(_read(user.uid)) | set(actions)))


def remove(user, actions) -> list[str]:
    return list(_write(user.uid, set(_read(user.uid)) - set(actions)))


def completed(user, action: str) -> None:
    """The user did `action` (called by the completing services); a no-op when not pending."""
    current = _read(user.uid)
    if action in current:
        _write(user.uid, set(current) - {action})
        from barong.services.audit import activities

        activities.record(user, "session", f"complete required action {action}", "succeed")


def codes(actions) -> list[str]:
    return [f"authz.required_action.{a}" for a in actions]


def enforce(uid: str, method: str, path: str) -> None:
    """Raise 403 `authz.required_action.<action>` (one code per pending action) unless
    `path` (no leading slash) is one that completes a pending action, or a GET of ALWAYS_ALLOWED."""
    actions = pending(uid)
    if not actions:
        return
    if method.upper() == "GET" and path.startswith(ALWAYS_ALLOWED):
        return
    for action in actions:
        if path.startswith(ALLOWED_PATHS[action]):
            return
    raise BarongError(codes(actions), 403)
