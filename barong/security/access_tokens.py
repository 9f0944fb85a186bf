"""The RS256 JWT handed to the gateway (CONTRACT §5, reference/authz.md §7), and its
verification when a `resource/` or `admin/` call carries `Authorization: Bearer <JWT>`.

Speed: one RS256 signature costs about as much CPU as a whole trivial request, so a
minted token is reused for the same account until `REUSE_MARGIN` seconds before it
expires, or until any claim it carries changes (the cache key *is* those claims: a
role, level, state or email change produces a new key, hence a fresh token). The key
pair is loaded once per process (`app.extensions["barong_keypair"]`).
"""
from __future__ import annotations

import secrets
import threading
import time

import jwt

from barong import flaskctx
from barong.errors import BarongError
from barong.security.jwt_keys import keypair
from barong.security.tokens import AUDIENCE, encode
from barong.services.infra import caches

ISSUER = "barong"
SUBJECT = "session"
#: a cached token is re-minted this many seconds before it expires
REUSE_MARGIN = 60
#: bound on cached tokens per process (cleared wholesale when exceeded)
MAX_CACHED = 20000

_cache: dict[tuple, tuple[str, int]] = {}
_lock = threading.Lock()


@caches.register
def clear_cache() -> None:
    with _lock:
        _cache.clear()


def _kind(account) -> str:
    """"User" or "ServiceAccount" for ORM objects and for barong.authz.Account alike."""
    return getattr(account, "kind", None) or type(account).__name__


def claims_for(account) -> dict:
    """The account's own claims (User: + username, referral_id; ServiceAccount: the five base ones)."""
    claims = {"uid": account.uid, "email": account.email, "role": account.role, "level": account.level,
              "state": account.state}
    if _kind(account) == "User":
        claims["username"] = account.username
        claims["referral_id"] = account.referral_id  # the referrer's internal id, as Barong
    return claims


def mint(account, step_up: tuple[int | None, tuple[str, ...]] | None = None) -> str:
    """A signed JWT for `account`, reused while valid for REUSE_MARGIN more seconds and its claims are unchanged.

    `step_up` = (auth_time, amr) adds the step-up claims (barong.authz.step_up): `auth_time`
    (unix seconds of the session's last full authentication; omitted when None) and `amr`
    (a list: pwd, otp, webauthn, apikey). They are part of the cache key, so a reauth —
    a new auth_time — gets a fresh token at once."""
    own = claims_for(account)
    if step_up is not None:
        auth_time, amr = step_up
        own["amr"] = tuple(amr)  # hashable: part of the key; a list in the token
        if auth_time is not None:
            own["auth_time"] = int(auth_time)
    pair = keypair()
    key = (pair.kid, _kind(account), account.id, tuple(own.items()))
    now = int(time.time())
    lifetime = flaskctx.app().config["BARONG_JWT_EXPIRE_TIME"]
    hit = _cache.get(key)
    if hit is not None and hit[1] - REUSE_MARGIN > now and hit[1] - lifetime <= now:
        return hit[0]
    exp = now + lifetime
    payload = {**own, "iat": now, "exp": exp, "sub": SUBJECT, "iss": ISSUER, "aud": AUDIENCE,
               "jti": secrets.token_hex(10)}
    token = encode(payload)
    with _lock:
        if len(_cache) >= MAX_CACHED:
            _cache.clear()
        _cache[key] = (token, exp)
    return token


def verify(authorization: str | None) -> dict:
    """Claims of `Authorization: Bearer <JWT>` minted by this server; else 401 jwt.decode_and_verify.

    Checks: exact `Bearer ` scheme, RS256 signature with our key, exp, nbf, iat not in
    the future, jti present, sub == session, iss == barong, aud contains barong.
    """
    if not authorization or not authorization.startswith("Bearer "):
        raise BarongError("jwt.decode_and_verify", 401)
    token = authorization[len("Bearer "):].strip()
    try:
        claims = jwt.decode(token, keypair().public_key, algorithms=["RS256"], audience="barong", issuer=ISSUER,
                            options={"require": ["exp", "iat", "jti", "sub", "iss", "aud"]})
    except jwt.PyJWTError:
        raise BarongError("jwt.decode_and_verify", 401) from None
    if claims.get("sub") != SUBJECT or claims.get("iat", 0) > time.time() + 5 or not claims.get("uid"):
        raise BarongError("jwt.decode_and_verify", 401)
    return claims
