"""The signed envelope around every published event (reference/events-and-mail.md §1).

Body of each AMQP message = JSON of a JWS in JSON general serialization, as Ruby's
`JWT::Multisig.generate_jwt` builds it (signing/verifying: barong/security/jws.py, the
same code as the Management API):

    {"payload": b64url(claims), "signatures": [{"protected": b64url({"alg": "RS256"}),
                                                "header": {"kid": "barong"},
                                                "signature": b64url(RS256(protected + "." + payload))}]}

claims = {iss: "barong", jti, iat, exp: iat + 3600, event: {record, [changes], name}}.
`jti` is the outbox `event_id`, so a re-published event carries the same id (consumers
de-duplicate by it, or by the AMQP `message_id`, which is the same UUID). Signed at
publish time, so an event that waited out a long broker outage is not born expired.
"""
from __future__ import annotations

import json
import time

from cryptography.hazmat.primitives.asymmetric import rsa

from barong.security import jws

ISSUER = "barong"
SIGNER = "barong"
ALGORITHM = "RS256"
LIFETIME = 3600


class EnvelopeError(ValueError):
    """The envelope is malformed, badly signed or expired."""


def claims_for(event: dict, jti: str, now: int | None = None) -> dict:
    iat = int(time.time()) if now is None else int(now)
    return {"iss": ISSUER, "jti": jti, "iat": iat, "exp": iat + LIFETIME, "event": event}


def sign(event: dict, jti: str, private_key: rsa.RSAPrivateKey, now: int | None = None) -> dict:
    """The envelope for one event payload (`{record, [changes], name}`)."""
    return jws.sign_general(claims_for(event, jti, now), [(SIGNER, ALGORITHM, private_key)])


def verify(envelope: dict | str | bytes, public_key: rsa.RSAPublicKey, kid: str = SIGNER,
           now: float | None = None) -> dict:
    """What a consumer does: check the `kid` signature, `iss` and expiry (no leeway);
    return the claims. Raises EnvelopeError (Barong's postmaster acks and drops those)."""
    if isinstance(envelope, (str, bytes)):
        try:
            envelope = json.loads(envelope)
        except ValueError as exc:
            raise EnvelopeError(f"not JSON: {exc}") from None
    options = jws.ClaimOptions(leeway=0, iss=ISSUER, verify_iss=True, require=("exp", "jti", "iat"))
    try:
        verified = jws.verify_general(envelope, {kid: jws.VerifyKey(kid, ALGORITHM, public_key)}, options, now)
    except jws.JWSError as exc:
        message = str(exc)
        raise EnvelopeError("bad signature" if "verify" in message else message) from None
    except (KeyError, TypeError, ValueError) as exc:
        raise EnvelopeError(f"malformed envelope: {exc!r}") from None
    if kid not in verified.signers:
        raise EnvelopeError(f"malformed envelope: no signature by {kid}")
    return verified.claims
