"""The callers' accounts for the authz hot path, cached per process: session cookie →
(stored session, its user), and API-key holder (kind, id) → its account.

These lookups are the only database reads left on a warm check, and the check is on
every request an exchange serves. A cached entry is served only while all of this
holds, so a hit decides as a fresh read would:

* its channel's generation is unchanged (barong.authz.process_cache, "accounts"):
  every session revocation (logout, `client_session_mismatch`, password change, ban,
  admin "delete sessions", blocklogin) and every change of an account column the JWT
  or the check reads (`USER_COLUMNS`, `SERVICE_ACCOUNT_COLUMNS`, `SESSION_COLUMNS`, or
  a deleted row) invalidates the channel in this process at once, in the other workers
  of this host from their very next lookup (the generation file, stat()ed per lookup),
  and on other hosts within REDIS_RECHECK (50 ms) through the Redis counter when
  BARONG_REDIS_URL is set;
* it is younger than TTL seconds (the backstop: other hosts without Redis, Redis down);
* a session is not due for its `sessions.touch` (nor expired): a due session is read
  again from the store, so the sliding expiry always starts from the stored row.

Only hits are kept: an unknown cookie or holder reads the database every time (a flood
of forged cookies cannot evict the live sessions). Sessions are keyed by the cookie
value and kept as tuples: `SessionData` is rebuilt per request, so a request that
mutates its session (touch) cannot change what another request sees. Accounts are
frozen dataclasses (barong.authz.Account).
"""
from __future__ import annotations

import time
from dataclasses import astuple

from barong.authz.process_cache import ACCOUNTS, MISSING, ProcessCache, generation
from barong.authz.process_cache import invalidate as _invalidate
from barong.services.accounts import sessions
from barong.services.accounts.sessions import SessionData

#: seconds an entry may be served without re-reading the database (other hosts' changes)
TTL = 2.0
#: user columns whose change invalidates the cache (what barong.authz.Account holds)
USER_COLUMNS = ("uid", "email", "role", "level", "state", "username", "referral_id", "otp", "security_cooldown_until")
SERVICE_ACCOUNT_COLUMNS = ("uid", "email", "role", "level", "state")
#: session columns whose change invalidates the cache (not the sliding expiry `touch` rewrites)
SESSION_COLUMNS = ("uid", "user_ip", "user_agent", "csrf_token")

_sessions = ProcessCache("sessions", ttl=TTL, channel=ACCOUNTS, max_entries=50000)
_holders = ProcessCache("api_key_holders", ttl=TTL, channel=ACCOUNTS, max_entries=50000)


def session(cookie_value: str, load):
    """(SessionData | None, Account | None) for the cookie: cached, or `load()`."""
    hit = _sessions.lookup(cookie_value)
    if hit is not MISSING:
        s = SessionData(*hit[0])
        now = time.time()
        if now < s.expire_time and not sessions.touch_due(s, now):
            return s, hit[1]
    gen = generation(ACCOUNTS)
    s, account = load()
    if s is not None and account is not None:
        _sessions.store(cookie_value, (astuple(s), account), gen)
    elif hit is not MISSING:
        _sessions.forget(cookie_value)
    return s, account


def refresh(cookie_value: str, s: SessionData, account) -> None:
    """Keep the session as this request just wrote it (after a touch). The entry keeps
    the generation and age of the read it came from: a revocation that landed since is
    not hidden behind a newer stamp."""
    _sessions.update(cookie_value, (astuple(s), account))


def holder(kind: str, account_id: int, load):
    """The Account of an API key's holder: cached, or `load()` (None is not kept)."""
    return _holders.get((kind, account_id), load, keep_none=False)


def invalidate() -> None:
    """Sessions were revoked or an account changed: drop every cached lookup on this host."""
    _invalidate(ACCOUNTS)
