"""The signed envelope around every published event (reference/events-and-mail.md §1).

Body of each AMQP message = JSON of a JWS in JSON general serialization, as Ruby's
`JWT::Multisig.generate_jwt` builds it:

    {"payload": b64url(claims), "signatures": [{"protected": b64url({"alg": "RS256"}),
                                                "header": {"kid": "barong"},
                                                "signature": b64url(RS256(protected + "." + payload))}]}

claims = {iss: "barong", jti, iat, exp: iat + 3600, event: {record, [changes], name}}.
`jti` is the outbox `event_id`, so a re-published event carries the same id (consumers
de-duplicate by it, or by the AMQP `message_id`, which is the same UUID).
"""
from __future__ import annotations

import base64
import json
import time

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

ISSUER = "barong"
SIGNER = "barong"
ALGORITHM = "RS256"
LIFETIME = 3600


class EnvelopeError(ValueError):
    """The envelope is malformed, badly signed or expired."""


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _json(data) -> bytes:
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False, default=str).encode()


def claims_for(event: dict, jti: str, now: int | None = None) -> dict:
    iat = int(time.time()) if now is None else int(now)
    return {"iss": ISSUER, "jti": jti, "iat": iat, "exp": iat + LIFETIME, "event": event}


def sign_claims(claims: dict, private_key: rsa.RSAPrivateKey, kid: str = SIGNER) -> dict:
    """JWS JSON general serialization with one RS256 signature by `kid`."""
    payload = _b64(_json(claims))
    protected = _b64(_json({"alg": ALGORITHM}))
    signature = private_key.sign(f"{protected}.{payload}".encode(), padding.PKCS1v15(), hashes.SHA256())
    return {"payload": payload, "signatures": [{"protected": protected, "header": {"kid": kid},
                                                "signature": _b64(signature)}]}


def _shared_signer():
    """The management helper's JWS module (barong/security/jws.py) when it offers a
    general-serialization signer with our shape; else None and we sign ourselves."""
    try:
        from barong.security import jws
    except ImportError:
        return None
    return getattr(jws, "sign_general", None)


def sign(event: dict, jti: str, private_key: rsa.RSAPrivateKey, now: int | None = None) -> dict:
    """The envelope for one event payload (`{record, [changes], name}`)."""
    claims = claims_for(event, jti, now)
    shared = _shared_signer()
    if shared is not None:
        try:
            return shared(claims, {SIGNER: private_key}, {SIGNER: ALGORITHM})
        except TypeError:  # a different signature than expected: fall back to ours
            pass
    return sign_claims(claims, private_key)


def verify(envelope: dict | str | bytes, public_key: rsa.RSAPublicKey, kid: str = SIGNER,
           now: int | None = None) -> dict:
    """Check the `kid` signature and expiry; return the claims. Raises EnvelopeError.

    What a consumer does (Barong's postmaster acks and drops envelopes that fail this)."""
    if isinstance(envelope, (str, bytes)):
        try:
            envelope = json.loads(envelope)
        except ValueError as exc:
            raise EnvelopeError(f"not JSON: {exc}") from None
    try:
        payload = envelope["payload"]
        sig = next(s for s in envelope["signatures"] if (s.get("header") or {}).get("kid") == kid)
        header = json.loads(_unb64(sig["protected"]))
    except (KeyError, TypeError, StopIteration, ValueError) as exc:
        raise EnvelopeError(f"malformed envelope: {exc!r}") from None
    if header.get("alg") != ALGORITHM:
        raise EnvelopeError(f"unexpected algorithm {header.get('alg')!r}")
    try:
        public_key.verify(_unb64(sig["signature"]), f"{sig['protected']}.{payload}".encode(),
                          padding.PKCS1v15(), hashes.SHA256())
    except (InvalidSignature, ValueError):
        raise EnvelopeError("bad signature") from None
    claims = json.loads(_unb64(payload))
    if int(claims.get("exp", 0)) < (int(time.time()) if now is None else now):
        raise EnvelopeError("expired")
    return claims
