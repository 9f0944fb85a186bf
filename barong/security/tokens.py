"""RS256 JWTs: confirmation/reset tokens (identity-public.md §Tokens) and minting helpers."""
from __future__ import annotations

import secrets
import time

import jwt

from barong.errors import BarongError
from barong.security.jwt_keys import keypair

AUDIENCE = ["peatio", "barong"]


def encode(claims: dict) -> str:
    return jwt.encode(claims, keypair().private_key, algorithm="RS256", headers={"kid": keypair().kid})


def issue(sub: str, ttl: int, **extra) -> str:
    now = int(time.time())
    claims = {"sub": sub, "iss": "barong", "aud": AUDIENCE, "iat": now, "exp": now + ttl,
              "jti": secrets.token_hex(10), **extra}
    return encode(claims)


def _suffix(exc: Exception, token_claims: dict | None, sub: str) -> str:
    if isinstance(exc, jwt.ExpiredSignatureError):
        return "expired"
    if isinstance(exc, jwt.InvalidSignatureError):
        return "raised"
    if isinstance(exc, jwt.InvalidAlgorithmError):
        return "algorithm"
    if isinstance(exc, jwt.ImmatureSignatureError):
        return "iat"
    if isinstance(exc, jwt.InvalidIssuerError):
        return str((token_claims or {}).get("iss") or "<none>")
    if isinstance(exc, jwt.InvalidAudienceError):
        return str((token_claims or {}).get("aud") or "<none>")
    if isinstance(exc, jwt.MissingRequiredClaimError):
        return exc.claim
    if isinstance(exc, jwt.DecodeError):
        msg = str(exc).lower()
        if "padding" in msg or "encoding" in msg or "invalid header" in msg or "invalid payload" in msg:
            return "encoding"
        return "segments"
    return "raised"


def verify(token: str, sub: str) -> dict:
    """Decode a confirmation/reset token; raises 422 `jwt.decode_and_verify.<suffix>`."""
    token = (token or "").strip()
    if token.count(".") != 2:
        raise BarongError("jwt.decode_and_verify.segments", 422)
    unverified = None
    try:
        unverified = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        pass
    try:
        claims = jwt.decode(
            token, keypair().public_key, algorithms=["RS256"], audience=AUDIENCE, issuer="barong",
            options={"require": ["exp", "iat", "jti"]}, leeway=0,
        )
    except jwt.PyJWTError as exc:
        raise BarongError(f"jwt.decode_and_verify.{_suffix(exc, unverified, sub)}", 422) from None
    if claims.get("iat", 0) > time.time() + 5:
        raise BarongError("jwt.decode_and_verify.iat", 422)
    if claims.get("sub") != sub:
        raise BarongError(f"jwt.decode_and_verify.{claims.get('sub') or '<none>'}", 422)
    return claims
