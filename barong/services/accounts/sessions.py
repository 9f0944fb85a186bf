"""Server-side login sessions (CONTRACT §4, reference/authz.md §8).

The cookie (`BARONG_SESSION_NAME`) carries a random id; the store keeps the session
under the id's SHA-256: `uid`, `user_ip`, `user_agent`, `csrf_token`, `expire_time`
(sliding), `created_at`, `last_seen_at`. Stored in the database, or in Redis when
`BARONG_REDIS_URL` is set. A session is valid while the user agent matches exactly,
the client stays in the /16 (IPv4) or /96 (IPv6) network it logged in from, and
`expire_time` has not passed.
"""
from __future__ import annotations

import functools
import ipaddress
import json
import secrets
import time
from dataclasses import asdict, dataclass

from flask import Flask, current_app, g, has_request_context, request

from barong import flaskctx, signals
from barong.extensions import db
from barong.models import SessionRecord
from barong.security.crypto import equal, sha256_hex
from barong.services.infra.request_info import RequestInfo

#: a session's expiry is rewritten at most this often (keeps the hot path read-only)
TOUCH_INTERVAL = 30
#: how long a store entry outlives its last use at most (Barong: 24 h)
STORE_TTL = 24 * 3600


@dataclass
class SessionData:
    id: str  # sha256 of the cookie value
    uid: str
    user_ip: str
    user_agent: str
    csrf_token: str
    expire_time: int
    created_at: float
    last_seen_at: float
    #: unix seconds of the last full authentication (login or identity/sessions/reauth); 0: created_at
    auth_time: float = 0.0
    #: how: comma-separated `pwd`, `otp`, `webauthn` (the gateway JWT's `amr`); "": pwd
    amr: str = ""

    @property
    def expired(self) -> bool:
        return time.time() >= self.expire_time


@functools.lru_cache(maxsize=65536)
def same_network(stored_ip: str, current_ip: str) -> bool:
    """Is `current_ip` in the /16 (IPv4) or /96 (IPv6) of `stored_ip`? Cached: on every authz call."""
    try:
        stored = ipaddress.ip_address(stored_ip)
        current = ipaddress.ip_address(current_ip)
    except ValueError:
        return False
    if stored.version != current.version:
        return False
    prefix = 16 if stored.version == 4 else 96
    return current in ipaddress.ip_network(f"{stored}/{prefix}", strict=False)


# ---- stores -------------------------------------------------------------------------------

def _revoked() -> None:
    """Sessions left the store: drop the authz lookups cached in every worker
    (barong.authz.account_cache). Each store's delete path calls it, bulk deletes included."""
    from barong.authz import account_cache

    account_cache.invalidate()


class DatabaseStore:
    def save(self, s: SessionData, new: bool = False) -> None:
        rec = SessionRecord(id=s.id) if new else (db.session.get(SessionRecord, s.id) or SessionRecord(id=s.id))
        rec.uid, rec.user_ip, rec.user_agent, rec.csrf_token = s.uid, s.user_ip, s.user_agent[:512], s.csrf_token
        rec.expire_time = s.expire_time
        rec.auth_time, rec.amr = int(s.auth_time or s.created_at), s.amr or None
        from datetime import datetime, timezone

        rec.created_at = datetime.fromtimestamp(s.created_at, timezone.utc).replace(tzinfo=None)
        rec.last_seen_at = datetime.fromtimestamp(s.last_seen_at, timezone.utc).replace(tzinfo=None)
        db.session.add(rec)
        db.session.flush()

    def get(self, sid: str) -> SessionData | None:
        rec = db.session.get(SessionRecord, sid)
        return self._data(rec) if rec else None

    @staticmethod
    def _data(rec: SessionRecord) -> SessionData:
        from datetime import timezone

        return SessionData(rec.id, rec.uid, rec.user_ip, rec.user_agent, rec.csrf_token, rec.expire_time,
                           rec.created_at.replace(tzinfo=timezone.utc).timestamp(),
                           rec.last_seen_at.replace(tzinfo=timezone.utc).timestamp(),
                           float(rec.auth_time or 0), rec.amr or "")

    def delete(self, sid: str) -> None:
        db.session.query(SessionRecord).filter_by(id=sid).delete()
        db.session.flush()
        _revoked()

    def list_for_user(self, uid: str) -> list[SessionData]:
        now = int(time.time())
        rows = db.session.query(SessionRecord).filter(SessionRecord.uid == uid, SessionRecord.expire_time > now)
        return [self._data(r) for r in rows.order_by(SessionRecord.created_at)]

    def delete_for_user(self, uid: str, keep: str | None = None) -> int:
        q = db.session.query(SessionRecord).filter(SessionRecord.uid == uid)
        if keep:
            q = q.filter(SessionRecord.id != keep)
        n = q.delete(synchronize_session=False)
        db.session.flush()
        if n:
            _revoked()
        return n

    def delete_all(self) -> None:
        db.session.query(SessionRecord).delete()
        db.session.flush()
        _revoked()

    def delete_expired(self, uid: str | None = None) -> int:
        q = db.session.query(SessionRecord).filter(SessionRecord.expire_time <= int(time.time()))
        if uid is not None:
            q = q.filter(SessionRecord.uid == uid)
        n = q.delete(synchronize_session=False)
        db.session.flush()
        return n


class RedisStore:
    def __init__(self, url: str, timeout: float | None = None):
        from barong.services.infra import redis_client

        # bounded waits and the circuit breaker: a hung Redis answers 503 fast, never a worker timeout
        self.r = redis_client.connect(url, timeout, decode_responses=True)

    @staticmethod
    def _key(sid: str) -> str:
        return f"barong:session:{sid}"

    @staticmethod
    def _user_key(uid: str) -> str:
        return f"barong:user_sessions:{uid}"

    def save(self, s: SessionData, new: bool = False) -> None:
        # the entry lives as long as the session can (sliding expiry + a minute), so Redis
        # forgets dead sessions by itself; `touch` re-saves and so extends it
        ttl = max(60, min(STORE_TTL, s.expire_time - int(time.time()) + 60))
        pipe = self.r.pipeline()
        pipe.set(self._key(s.id), json.dumps(asdict(s)), ex=ttl)
        pipe.sadd(self._user_key(s.uid), s.id)
        pipe.expire(self._user_key(s.uid), STORE_TTL)
        pipe.execute()

    def get(self, sid: str) -> SessionData | None:
        raw = self.r.get(self._key(sid))
        return SessionData(**json.loads(raw)) if raw else None

    def delete(self, sid: str) -> None:
        s = self.get(sid)
        pipe = self.r.pipeline()
        pipe.delete(self._key(sid))
        if s:
            pipe.srem(self._user_key(s.uid), sid)
        pipe.execute()
        _revoked()

    def list_for_user(self, uid: str) -> list[SessionData]:
        out = []
        for sid in self.r.smembers(self._user_key(uid)):
            s = self.get(sid)
            if s is None:
                self.r.srem(self._user_key(uid), sid)
            elif not s.expired:
                out.append(s)
        return sorted(out, key=lambda s: s.created_at)

    def delete_for_user(self, uid: str, keep: str | None = None) -> int:
        n = 0
        for sid in self.r.smembers(self._user_key(uid)):
            if sid != keep:
                self.r.delete(self._key(sid))
                self.r.srem(self._user_key(uid), sid)
                n += 1
        if n:
            _revoked()
        return n

    def delete_expired(self, uid: str | None = None) -> int:
        return 0  # Redis expires entries itself

    def delete_all(self) -> None:
        for key in self.r.scan_iter("barong:session:*"):
            self.r.delete(key)
        for key in self.r.scan_iter("barong:user_sessions:*"):
            self.r.delete(key)
        _revoked()


def store():
    return current_app.extensions["barong_session_store"]


def init_app(app: Flask) -> None:
    url = app.config.get("BARONG_REDIS_URL")
    app.extensions["barong_session_store"] = (RedisStore(url, app.config.get("BARONG_REDIS_TIMEOUT")) if url
                                              else DatabaseStore())

    @app.after_request
    def _cookie(response):
        # every request passes here; only a login or logout has a cookie to write
        state = flaskctx.g().__dict__
        value, clear = state.get("_barong_set_cookie"), state.get("_barong_clear_cookie")
        if not (value or clear):
            return response
        name = app.config["BARONG_SESSION_NAME"]
        secure = app.config["BARONG_DOMAIN"].startswith("https://")
        if value:
            response.set_cookie(name, value, httponly=True, samesite="Lax", secure=secure, max_age=STORE_TTL)
        else:
            response.delete_cookie(name, httponly=True, samesite="Lax", secure=secure)
        return response


# ---- actions ------------------------------------------------------------------------------

def open_session(user, info: RequestInfo, amr: tuple[str, ...] = ("pwd",)) -> SessionData:
    """Start a session for `user`; the cookie is set on the current response. `amr`: how the
    user authenticated (the gateway JWT's `amr`; `auth_time` is now)."""
    cookie_value = secrets.token_urlsafe(32)
    now = time.time()
    s = SessionData(
        id=sha256_hex(cookie_value), uid=user.uid, user_ip=info.ip, user_agent=info.user_agent or "",
        csrf_token=secrets.token_hex(10), expire_time=int(now) + current_app.config["BARONG_SESSION_EXPIRE_TIME"],
        created_at=now, last_seen_at=now, auth_time=int(now), amr=",".join(amr),
    )
    store().delete_expired(user.uid)  # the database store's housekeeping, per user at login
    store().save(s, new=True)
    if has_request_context():
        g._barong_set_cookie = cookie_value
        g.barong_session_id = s.id
        g.barong_session = s
    return s


def from_cookie() -> SessionData | None:
    """The stored session named by the request's cookie (not yet validated)."""
    if "barong_session" in g:
        return g.barong_session
    value = request.cookies.get(current_app.config["BARONG_SESSION_NAME"])
    s = store().get(sha256_hex(value)) if value else None
    g.barong_session = s
    g.barong_session_id = s.id if s else None
    return s


def is_valid(s: SessionData, info: RequestInfo) -> bool:
    return (not s.expired) and equal(s.user_agent, info.user_agent or "") and same_network(s.user_ip, info.ip)


def _slid_expiry(now: float) -> int:
    """The expiry a session used at `now` gets (on every authz call: no LocalProxy)."""
    return int(now) + (flaskctx.app() or current_app).config["BARONG_SESSION_EXPIRE_TIME"]


def touch_due(s: SessionData, now: float) -> bool:
    """Would `touch` rewrite the session at `now`?"""
    return _slid_expiry(now) - s.expire_time >= TOUCH_INTERVAL or now - s.last_seen_at >= TOUCH_INTERVAL


def touch(s: SessionData) -> bool:
    """Slide the expiry (written at most every TOUCH_INTERVAL seconds); True when written."""
    now = time.time()
    if not touch_due(s, now):
        return False
    s.expire_time, s.last_seen_at = _slid_expiry(now), now
    store().save(s)
    return True


def refresh_authentication(s: SessionData, amr: tuple[str, ...]) -> None:
    """A second factor was re-verified on `s`: auth_time = now, `amr` as given; every
    worker's cached copy of the session is dropped (the next JWT carries the new claims)."""
    s.auth_time, s.amr = int(time.time()), ",".join(amr)
    store().save(s)
    _revoked()


def csrf_ok(s: SessionData, token: str | None) -> bool:
    return equal(s.csrf_token, token)


def destroy(s: SessionData, commit_now: bool = False) -> None:
    store().delete(s.id)
    if commit_now and isinstance(store(), DatabaseStore):
        from barong.services.infra import unit_of_work

        unit_of_work.commit()  # survives the 401 the caller is about to return; runs the after-commit hooks
    if has_request_context() and g.get("barong_session_id") == s.id:
        g._barong_clear_cookie = True
        g.barong_session = None
        g.barong_session_id = None


def list_for_user(uid: str) -> list[SessionData]:
    return store().list_for_user(uid)


def invalidate_all(uid: str, keep: str | None = None) -> int:
    """Revoke every session of `uid` (password change/reset, ban, delete, OTP enable keeps one)."""
    return store().delete_for_user(uid, keep=keep)


def delete_all() -> None:
    store().delete_all()


@signals.blocklogin_enabled.connect
def _on_blocklogin_enabled(_restriction, **_kw) -> None:
    delete_all()  # invalidates the cached sessions itself


def purge_expired() -> int:
    """Delete every expired session (database store; Redis expires them itself)."""
    return store().delete_expired()


