"""Session cookie → (stored session, its user) for the authz hot path, cached per process.

The lookup is the only database read left on a warm session-cookie check, and it is
on every request an exchange serves. A cached entry is served only while all of this
holds, so a cache hit decides exactly as a fresh read would:

* its channel's generation is unchanged (barong.authz.process_cache, "sessions"):
  every revocation (logout, `client_session_mismatch`, password change, ban, admin
  "delete sessions", blocklogin) and every change of a user column the JWT or the
  check reads (see `ACCOUNT_COLUMNS`) invalidates the channel in this process at once
  and in the other workers of the host within RECHECK (50 ms);
* it is younger than TTL seconds (the backstop for workers on other hosts);
* its session is not due for a `sessions.touch` (nor expired): a due session is read
  again from the store, so the sliding expiry always starts from the stored row.

Only hits are kept: an unknown cookie reads the store every time (a flood of forged
cookies cannot evict the live sessions). Entries are keyed by the cookie value and
hold immutable copies: `SessionData` is rebuilt per request, so a request that
mutates its session (touch) cannot change what another request sees.
"""
from __future__ import annotations

import time
from dataclasses import astuple

from barong.authz.process_cache import MISSING, SESSIONS, ProcessCache, generation
from barong.authz.process_cache import invalidate as _invalidate
from barong.services import sessions
from barong.services.sessions import SessionData

#: seconds an entry may be served without re-reading the store (other hosts' changes)
TTL = 2.0
#: user columns whose change invalidates the cache (what barong.authz.Account holds)
ACCOUNT_COLUMNS = ("uid", "email", "role", "level", "state", "username", "referral_id", "otp")
#: session columns whose change invalidates the cache (not the sliding expiry `touch` rewrites)
SESSION_COLUMNS = ("uid", "user_ip", "user_agent", "csrf_token")

_cache = ProcessCache("sessions", ttl=TTL, channel=SESSIONS, max_entries=50000)


def get(cookie_value: str, load):
    """(SessionData | None, Account | None) for the cookie: cached, or `load()`."""
    hit = _cache.lookup(cookie_value)
    if hit is not MISSING:
        s = SessionData(*hit[0])
        now = time.time()
        if now < s.expire_time and not sessions.touch_due(s, now):
            return s, hit[1]
    gen = generation(SESSIONS)
    s, account = load()
    if s is not None and account is not None:
        _cache.store(cookie_value, (astuple(s), account), gen)
    elif hit is not MISSING:
        _cache.forget(cookie_value)
    return s, account


def refresh(cookie_value: str, s: SessionData, account) -> None:
    """Keep the session as this request just wrote it (after a touch). The entry keeps
    the generation and age of the read it came from: a revocation that landed since is
    not hidden behind a newer stamp."""
    _cache.update(cookie_value, (astuple(s), account))


def invalidate() -> None:
    """Sessions were revoked or a user changed: drop every cached lookup on this host."""
    _invalidate(SESSIONS)
