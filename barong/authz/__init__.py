"""Authorization (reference/authz.md): one pipeline, two entry points.

* `gateway(method, path)` — `/api/v2/auth/<path>` (barong/api/v2/authz.py): restrictions,
  block/pass rules, the caller (API key or session cookie), permissions, then a JWT;
* `in_process()` — `@api_auth` on `resource/` and `admin/`: the same restrictions
  (already run by the before-request hook, barong/authz/hooks.py), the same credential
  flows plus `Authorization: Bearer <JWT>` minted by this server, the same permissions.

Warm-path cost: no database query. Permissions, restrictions, API keys and rules are
cached per process (barong.authz.process_cache), so are the session/user and API-key
holder lookups (barong.authz.account_cache), and a minted JWT is reused
(barong.security.access_tokens). The hot path reads the request, app and `g` through
barong.flaskctx and headers from the WSGI environ (see those modules for the figures).
"""
from __future__ import annotations

import hmac
import re
import time
from dataclasses import dataclass
from datetime import datetime, timezone

from flask import g, request
from sqlalchemy import bindparam, event, select
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import Session, lazyload

from barong import flaskctx
from barong.authz import account_cache, key_usage, reader
from barong.authz import rules as rules_module
from barong.authz.process_cache import ProcessCache, invalidate
from barong.errors import BarongError
from barong.extensions import db
from barong.models import (
    APIKey,
    Permission,
    Restriction,
    ServiceAccount,
    SessionRecord,
    User,
)
from barong.security import access_tokens
from barong.security.client_ip import remote_ip
from barong.security.crypto import sha256_hex
from barong.services.access import permissions, restrictions
from barong.services.accounts import sessions
from barong.services.infra.request_info import RequestInfo

STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE", "TRACE"})
API_KEY_HEADERS = ("X-Auth-Apikey", "X-Auth-Nonce", "X-Auth-Signature")
_API_KEY_ENVIRON = tuple("HTTP_" + h.upper().replace("-", "_") for h in API_KEY_HEADERS)
ACTIONS = {"POST": "create", "PUT": "update", "PATCH": "update", "GET": "read", "DELETE": "delete"}
DIGESTS = {"HS256": "sha256", "HS384": "sha384", "HS512": "sha512"}
_RUBY_INT = re.compile(r"\s*([+-]?\d+)")


@dataclass(frozen=True)
class Account:
    """What the authz pipeline needs of a caller (User or ServiceAccount), read as one row
    by barong.authz.reader instead of a full ORM load (the ORM load alone cost more than
    the rest of the check). `entity()` gives the ORM object when a view needs it."""

    kind: str  # "User" or "ServiceAccount"
    id: int
    uid: str
    email: str
    role: str
    level: int
    state: str
    username: str | None = None
    referral_id: int | None = None
    otp: bool = True
    #: end of the security cooldown as a Unix timestamp (None: none; barong.services.accounts.cooldown)
    cooldown_until: float | None = None

    @property
    def is_user(self) -> bool:
        return self.kind == "User"

    @property
    def is_active_state(self) -> bool:
        return self.state in ("active", "pending")

    def entity(self):
        if self.is_user:
            return db.session.query(User).options(lazyload(User.labels)).filter_by(id=self.id).first()
        return db.session.get(ServiceAccount, self.id)


@dataclass
class Caller:
    account: Account | object  # Account (gateway) or the ORM User / ServiceAccount (in-process)
    via: str  # "session", "api_key", "jwt"
    session: sessions.SessionData | None = None


# ---- restrictions --------------------------------------------------------------------------

def check_restrictions(path: str, login: bool = False) -> None:
    """Restrictions for `path` (no leading slash) from the client's IP; raises authz.restrict.*."""
    if restrictions.enabled():  # most of the time there is none: skip computing the client IP
        restrictions.check(remote_ip(), path, login=login)


# ---- accounts: pre-built Core statements (compiled once per dialect by the reader) ---------

_users = User.__table__
_service_accounts = ServiceAccount.__table__
_sessions = SessionRecord.__table__
_USER_COLS = (_users.c.id, _users.c.uid, _users.c.email, _users.c.role, _users.c.level, _users.c.state,
              _users.c.username, _users.c.referral_id, _users.c.otp, _users.c.security_cooldown_until)
_N_USER_COLS = len(_USER_COLS)
_SA_COLS = (_service_accounts.c.id, _service_accounts.c.uid, _service_accounts.c.email, _service_accounts.c.role,
            _service_accounts.c.level, _service_accounts.c.state)
_USER_BY_UID = select(*_USER_COLS).where(_users.c.uid == bindparam("uid"))
_USER_BY_ID = select(*_USER_COLS).where(_users.c.id == bindparam("id"))
_SA_BY_UID = select(*_SA_COLS).where(_service_accounts.c.uid == bindparam("uid"))
_SA_BY_ID = select(*_SA_COLS).where(_service_accounts.c.id == bindparam("id"))
_SESSION_COLS = (_sessions.c.id, _sessions.c.uid, _sessions.c.user_ip, _sessions.c.user_agent,
                 _sessions.c.csrf_token, _sessions.c.expire_time, _sessions.c.created_at, _sessions.c.last_seen_at,
                 _sessions.c.auth_time, _sessions.c.amr)
_N_SESSION_COLS = len(_SESSION_COLS)
#: the session and its user in one round trip (database session store)
_SESSION_WITH_USER = (
    select(*_SESSION_COLS, *(c.label(f"u_{c.name}") for c in _USER_COLS))  # 10 + 9 columns
    .select_from(_sessions.outerjoin(_users, _users.c.uid == _sessions.c.uid))
    .where(_sessions.c.id == bindparam("sid"))
)


def _row(stmt, **params) -> tuple | None:
    return reader.first(stmt, **params)


def _user_account(row: tuple, at: int = 0) -> Account | None:
    """An Account from the _USER_COLS part of `row` starting at column `at` (None for an outer-join miss)."""
    if row[at] is None:
        return None
    account_id, uid, email, role, level, state, username, referral_id, otp, cooldown = row[at:at + _N_USER_COLS]
    return Account("User", account_id, uid, email, role, level, state, username, referral_id, bool(otp),
                   _utc_ts(cooldown) if cooldown is not None else None)


def _sa_account(row: tuple) -> Account:
    return Account("ServiceAccount", *row[:6])


def account_by_uid(uid: str) -> Account | None:
    row = _row(_USER_BY_UID, uid=uid)
    if row is not None:
        return _user_account(row)
    row = _row(_SA_BY_UID, uid=uid)
    return _sa_account(row) if row is not None else None


def account_by_id(kind: str, account_id: int) -> Account | None:
    if kind == "ServiceAccount":
        row = _row(_SA_BY_ID, id=account_id)
        return _sa_account(row) if row is not None else None
    row = _row(_USER_BY_ID, id=account_id)
    return _user_account(row) if row is not None else None


def _utc_ts(value) -> float:
    """A naive UTC DateTime column (a string on SQLite's DBAPI) as a Unix timestamp."""
    if value is None:
        return time.time()
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=timezone.utc).timestamp()


def _load_session(value: str) -> tuple[sessions.SessionData | None, Account | None]:
    """The stored session of cookie `value` and its user (one query with the database store)."""
    sid = sha256_hex(value)
    store = sessions.store()
    if isinstance(store, sessions.DatabaseStore):
        row = _row(_SESSION_WITH_USER, sid=sid)
        if row is None:
            return None, None
        sid_, uid, user_ip, user_agent, csrf_token, expire_time, created_at, last_seen_at, auth_time, amr = \
            row[:_N_SESSION_COLS]
        s = sessions.SessionData(sid_, uid, user_ip, user_agent, csrf_token, int(expire_time),
                                 _utc_ts(created_at), _utc_ts(last_seen_at), float(auth_time or 0), amr or "")
        return s, _user_account(row, _N_SESSION_COLS)
    s = store.get(sid)
    if s is None:
        return None, None
    row = _row(_USER_BY_UID, uid=s.uid)
    return s, (_user_account(row) if row is not None else None)


def _session_and_user() -> tuple[sessions.SessionData | None, Account | None]:
    """The cookie's stored session and its user (barong.authz.account_cache, else one query).

    Leaves `g.barong_session` / `g.barong_session_id` set as `sessions.from_cookie()` does."""
    ctx_g = flaskctx.g()
    if "barong_session" in ctx_g:
        s = ctx_g.barong_session
        return s, (account_by_uid(s.uid) if s is not None else None)
    value = _cookie_value()
    if value:
        s, account = account_cache.session(value, lambda: _load_session(value))
    else:
        s = account = None
    ctx_g.barong_session = s
    ctx_g.barong_session_id = s.id if s is not None else None
    return s, account


def _cookie_value() -> str | None:
    return flaskctx.request().cookies.get(flaskctx.app().config["BARONG_SESSION_NAME"])


# ---- cookie flow (§4) ----------------------------------------------------------------------

def authenticate_cookie(method: str, info: RequestInfo) -> Caller:
    """CSRF first (state-changing verbs), then session, binding to UA and network, user state."""
    s, user = _session_and_user()
    if method in STATE_CHANGING and flaskctx.app().config["BARONG_CSRF_PROTECTION"]:
        token = request.headers.get("X-CSRF-Token")
        if not token:
            raise BarongError("authz.missing_csrf_token", 401)
        if s is None or not sessions.csrf_ok(s, token):
            raise BarongError("authz.csrf_token_mismatch", 401)
    if s is None or not s.uid or user is None:
        raise BarongError("authz.invalid_session", 401)
    if not sessions.is_valid(s, info):
        sessions.destroy(s, commit_now=True)
        raise BarongError("authz.client_session_mismatch", 401)
    if sessions.touch(s):
        account_cache.refresh(_cookie_value(), s, user)
    if not user.is_active_state:
        raise BarongError("authz.user_not_active", 401)
    return Caller(user, "session", s)


# ---- API-key flow (§5) ---------------------------------------------------------------------

@dataclass(frozen=True)
class KeyInfo:
    id: int
    kid: str
    algorithm: str
    secret: str | None
    state: str
    holder_type: str
    holder_id: int
    #: the stored allow-list (`a.b.c.d/32,10.0.0.0/8`; None: anywhere) and the expiry (Unix time)
    allowed: str | None = None
    expires_at: float | None = None


#: kid → KeyInfo (or None: unknown kid). State changes made through the ORM invalidate it
#: at once (see `_watch_flush`); 2 s TTL for anything else (bulk SQL, other hosts).
_api_keys = ProcessCache("api_keys", ttl=2)


def key_info(kid: str) -> KeyInfo | None:
    def load():
        key = db.session.query(APIKey).filter_by(kid=kid).first()
        if key is None:
            return None
        return KeyInfo(key.id, key.kid, key.algorithm, key.secret, key.state, key.key_holder_account_type,
                       key.key_holder_account_id, key.allowed_ips or None,
                       _utc_ts(key.expires_at) if key.expires_at is not None else None)

    return _api_keys.get(kid, load)


def _ruby_to_i(value: str) -> int:
    m = _RUBY_INT.match(value)
    return int(m.group(1)) if m else 0


def authenticate_api_key(environ) -> Caller:
    """The API-key flow on the WSGI environ's X-Auth-* headers."""
    kid, nonce, signature = (environ.get(key) for key in _API_KEY_ENVIRON)
    if not (kid and kid.strip() and nonce and nonce.strip() and signature and signature.strip()):
        raise BarongError("authz.invalid_api_key_headers", 422)
    key = key_info(kid) if "\x00" not in kid else None  # PostgreSQL refuses NUL in a lookup: no such key
    if key is None:
        raise BarongError("authz.unexistent_apikey", 401)
    nonce_ms = _ruby_to_i(nonce)
    if nonce_ms <= 0:
        raise BarongError("authz.nonce_not_valid_timestamp", 401)
    if abs(time.time() * 1000 - nonce_ms) >= flaskctx.app().config["BARONG_APIKEY_NONCE_LIFETIME"]:
        raise BarongError("authz.nonce_expired", 401)
    digest = DIGESTS.get((key.algorithm or "").upper())
    if digest is None or key.secret is None:
        raise BarongError("authz.invalid_signature", 401)
    expected = hmac.digest(key.secret.encode(), (nonce + kid).encode(), digest).hex()  # OpenSSL one-shot
    # bytes: compare_digest raises TypeError on a str with non-ASCII characters (a header "é")
    if not hmac.compare_digest(expected.encode(), signature.lower().encode("utf-8", "replace")):
        raise BarongError("authz.invalid_signature", 401)
    if key.state != "active":
        raise BarongError("authz.apikey_not_active", 401)
    if key.expires_at is not None and time.time() >= key.expires_at:
        key_usage.refused(key, "expired", None)
        raise BarongError("authz.apikey_expired", 401)
    if key.allowed is not None:
        ip = remote_ip()
        if not key_usage.ip_allowed(key.allowed, ip):
            key_usage.refused(key, "ip_not_allowed", ip)
            raise BarongError("authz.apikey_ip_not_allowed", 401)
    holder = account_cache.holder(key.holder_type, key.holder_id,
                                  lambda: account_by_id(key.holder_type, key.holder_id))
    if holder is None or not holder.is_active_state:
        raise BarongError("authz.invalid_session", 401)
    if holder.is_user and not holder.otp:
        raise BarongError("authz.disabled_2fa", 401)
    key_usage.note_use(key.id)
    return Caller(holder, "api_key")


# ---- Bearer JWT (in-process only) ----------------------------------------------------------

def authenticate_jwt(authorization: str) -> Caller:
    claims = access_tokens.verify(authorization)
    account = account_by_uid(claims["uid"])
    if account is None:
        raise BarongError("jwt.decode_and_verify", 401)
    if not account.is_active_state:
        raise BarongError("authz.user_not_active", 401)
    return Caller(account, "jwt")


def authenticate(method: str | None = None, allow_jwt: bool = False) -> Caller:
    """The caller of the current request, or the authz.* error.

    API-key headers (any of the three) select the API-key flow; otherwise, in-process
    only, an `Authorization` header selects the JWT flow; otherwise the session cookie.
    """
    req = flaskctx.request()
    method = (method or req.method).upper()
    environ = req.environ  # membership tests on EnvironHeaders raise and catch KeyError
    if any(key in environ for key in _API_KEY_ENVIRON):
        return authenticate_api_key(environ)
    if allow_jwt and "HTTP_AUTHORIZATION" in environ:
        caller = authenticate_jwt(environ["HTTP_AUTHORIZATION"])
        caller.session = _gateway_cookie_session(caller.account, method)
        return caller
    return authenticate_cookie(method, RequestInfo.current())


def _gateway_cookie_session(account: Account, method: str) -> sessions.SessionData | None:
    """Behind a gateway the browser's session cookie arrives with the `Authorization: Bearer
    <JWT>` the gateway added (CONTRACT §4): that session is the caller's current one (what 2FA
    enable, password change and "revoke the others" keep) when it is valid — stored, bound to
    this user agent and network, not expired — and belongs to the JWT's user. Otherwise there
    is none, and the JWT alone is the credential.

    Such a request was authorised by the browser's cookie, so a state-changing one needs the
    session's CSRF token here too: nginx's `auth_request` asks `/api/v2/auth` with GET (its
    subrequests drop the method), which skips the gateway's CSRF check — without this, a
    cross-site form post would get through that gateway with a freshly minted JWT."""
    s = None
    if _cookie_value():
        s, _user = _session_and_user()
        if s is not None and not (s.uid == account.uid and sessions.is_valid(s, RequestInfo.current())):
            s = None
    if s is not None and method in STATE_CHANGING and flaskctx.app().config["BARONG_CSRF_PROTECTION"]:
        token = flaskctx.request().headers.get("X-CSRF-Token")
        if not token:
            raise BarongError("authz.missing_csrf_token", 401)
        if not sessions.csrf_ok(s, token):
            raise BarongError("authz.csrf_token_mismatch", 401)
    ctx_g = flaskctx.g()
    ctx_g.barong_session = s
    ctx_g.barong_session_id = s.id if s is not None else None
    return s


# ---- permissions (§6) ----------------------------------------------------------------------

def _request_params(path: str) -> dict:
    data: dict = {}
    data.update(request.args.to_dict())
    body = None
    if request.is_json:
        from barong.rawinput import loads_json

        try:  # get_json(silent=True) lets a RecursionError (deeply nested body) through
            body = loads_json(request.get_data(as_text=True))
        except ValueError:
            body = None
    if isinstance(body, dict):
        data.update(body)
    elif request.form:
        data.update(request.form.to_dict())
    data["path"] = path
    return data


def _path_topic(path: str) -> str:
    idx = path.find("admin/")
    if idx < 0:
        return "general"
    return path[idx + len("admin/"):].split("/", 1)[0] or "general"


def _record(user: Account, method: str, path: str, result: str, topic: str | None) -> None:
    from barong.services.audit import activities
    from barong.services.infra import unit_of_work

    data = _request_params(path)
    target = data.get("uid") or data.get("user_uid")
    unit_of_work.durable(
        activities.record_admin, user, topic or _path_topic(path), ACTIONS.get(method, "system"), result,
        RequestInfo.current(), target_uid=target if isinstance(target, str) else None, data=data)


def authorize(caller: Caller, method: str, path: str) -> None:
    """RBAC for `path` (no leading slash): raises 401 authz.invalid_permission (a `denied`
    admin activity for users); AUDIT rows record a `succeed` activity (kept even if the
    action itself then fails)."""
    account = caller.account
    method = method.upper()
    decision = permissions.decide(account.role, method, path)
    cooldown_until = getattr(account, "cooldown_until", None)
    if cooldown_until is not None and decision.allowed and time.time() < cooldown_until:
        _cooldown(account, method, path)
    if decision.allowed and not decision.audit:
        return
    is_user = account.is_user
    if not decision.allowed:
        if is_user:
            _record(account, method, path, "denied", None)
        raise BarongError("authz.invalid_permission", 401)
    if is_user:
        _record(account, method, path, "succeed", decision.audit_topic)


def _cooldown(account: Account, method: str, path: str) -> None:
    """A user in the security cooldown (barong.services.accounts.cooldown): the DROP rows of
    the pseudo-role `security_cooldown` refuse with 403 authz.security_cooldown (a `denied`
    admin activity, as any refusal of the permission table)."""
    from barong.services.accounts.cooldown import COOLDOWN_ROLE

    if permissions.drops(COOLDOWN_ROLE, method, path):
        _record(account, method, path, "denied", "security_cooldown")
        raise BarongError("authz.security_cooldown", 403)


# ---- the two entry points ------------------------------------------------------------------

def _required_actions(caller: Caller, method: str, path: str) -> None:
    """A user an operator made change the password / enrol 2FA gets 403
    `authz.required_action.*` except on the paths that do it (barong.services.accounts.required_actions)."""
    if caller.account.is_user:
        from barong.services.accounts import required_actions

        required_actions.enforce(caller.account.uid, method, path)


def step_up(caller: Caller) -> tuple[int | None, tuple[str, ...]] | None:
    """(auth_time, amr) of the caller for the JWT: a session's last full authentication and
    how it happened; an API key: amr ["apikey"] and no auth_time (a key is never a fresh
    second factor)."""
    if caller.via == "api_key":
        return None, ("apikey",)
    s = caller.session
    if s is None:
        return None
    return int(s.auth_time or s.created_at), tuple(s.amr.split(",")) if s.amr else ("pwd",)


_ADMIN_PREFIX = "api/v2/barong/admin/"


def _operator_2fa(caller: Caller, path: str) -> None:
    """BARONG_CONSOLE_REQUIRE_2FA: an operator without TOTP or a passkey gets 403
    `admin.2fa.required` on every admin API call (the console sends them to enrol)."""
    if not path.startswith(_ADMIN_PREFIX) or not caller.account.is_user or caller.account.otp:
        return
    if not flaskctx.app().config.get("BARONG_CONSOLE_REQUIRE_2FA"):
        return
    from barong.services.accounts import webauthn

    if not webauthn.has_credentials(caller.account):
        raise BarongError("admin.2fa.required", 403)


def gateway(method: str, path: str) -> str | None:
    """The gateway check of `path` (no leading slash): the JWT to hand back, or None for a
    `pass` path. Raises the authz.* error otherwise."""
    method = method.upper()
    check_restrictions(path)
    rules = rules_module.current()
    if rules.blocked(path):
        raise BarongError("authz.permission_denied", 401)
    if rules.passed(path):
        return None
    caller = authenticate(method, allow_jwt=False)
    _required_actions(caller, method, path)
    authorize(caller, method, path)
    _operator_2fa(caller, path)
    flaskctx.g().caller = caller
    return access_tokens.mint(caller.account, step_up(caller))


def entity_work_due(account) -> bool:
    """Is there work on the ORM row to do before the request goes on (a security cooldown
    that is over)?"""
    until = getattr(account, "cooldown_until", None)
    return until is not None and until <= time.time()


def in_process(load_entity: bool = True) -> Caller:
    """The same decision for a `resource/` or `admin/` request served here directly.

    `load_entity=False` leaves `caller.account` the cached Account when nothing is due for
    the ORM row (barong.api.auth.current_user loads it when the view asks for it)."""
    path = request.path.lstrip("/")
    if not g.get("_authz_restrictions_checked"):
        check_restrictions(path)
    caller = authenticate(request.method, allow_jwt=True)
    _required_actions(caller, request.method, path)
    authorize(caller, request.method, path)
    _operator_2fa(caller, path)
    if not load_entity and not entity_work_due(caller.account):
        return caller
    entity = caller.account.entity()
    if entity is None:  # deleted between the two reads
        raise BarongError("authz.invalid_session", 401)
    if getattr(caller.account, "cooldown_until", None) is not None and caller.account.cooldown_until <= time.time():
        from barong.services.accounts import cooldown

        cooldown.expire_due(entity)  # the cooldown is over: its label goes (lazily, as the sweeper does)
    caller.account = entity
    return caller


# ---- cache invalidation on any ORM change of the cached tables ------------------------------

_WATCHED = (APIKey, Permission, Restriction)


def _changed(obj, columns) -> bool:
    attrs = sa_inspect(obj).attrs
    return any(attrs[name].history.has_changes() for name in columns)


def _accounts_stale(session) -> bool:
    """Did this flush change what barong.authz.account_cache holds (an account's columns
    the JWT or the check reads, a session row other than its sliding expiry, or delete
    any of them)?"""
    for obj in session.deleted:
        if isinstance(obj, (User, ServiceAccount, SessionRecord)):
            return True
    for obj in session.dirty:
        if isinstance(obj, User) and _changed(obj, account_cache.USER_COLUMNS):
            return True
        if isinstance(obj, ServiceAccount) and _changed(obj, account_cache.SERVICE_ACCOUNT_COLUMNS):
            return True
        if isinstance(obj, SessionRecord) and _changed(obj, account_cache.SESSION_COLUMNS):
            return True
    return False


@event.listens_for(Session, "after_flush")
def _watch_flush(session, _flush_context) -> None:
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, _WATCHED):
            invalidate()
            break
    if _accounts_stale(session):
        account_cache.invalidate()
