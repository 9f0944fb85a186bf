"""The signed envelope: JWS JSON general serialization, RS256 by `barong`, claims of the original."""
from __future__ import annotations

import base64
import json
import time

import jwt as pyjwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from barong.events import envelope, exchange_for, routing_key_for
from barong.security.jwt_keys import keypair

EVENT = {"record": {"user": {"uid": "ID0000000001", "email": "a@example.com"}, "domain": "http://x", "token": "t"},
         "name": "system.user.email.confirmation.token"}


def _b64json(part: str) -> dict:
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def test_envelope_shape_and_claims(app):
    """Is the envelope exactly what Ruby's JWT::Multisig.generate_jwt produces?"""
    env = envelope.sign(EVENT, "11111111-2222-3333-4444-555555555555", keypair().private_key, now=1_700_000_000)
    assert set(env) == {"payload", "signatures"}
    [sig] = env["signatures"]
    assert set(sig) == {"protected", "header", "signature"}
    assert sig["header"] == {"kid": "barong"}
    assert _b64json(sig["protected"]) == {"alg": "RS256"}
    claims = _b64json(env["payload"])
    assert claims == {"iss": "barong", "jti": "11111111-2222-3333-4444-555555555555", "iat": 1_700_000_000,
                      "exp": 1_700_003_600, "event": EVENT}


def test_signature_verifies_with_an_independent_jwt_library(app):
    """A consumer using any JWT library (here PyJWT on the compact form) accepts it."""
    env = envelope.sign(EVENT, "jti-1", keypair().private_key)
    sig = env["signatures"][0]
    compact = f"{sig['protected']}.{env['payload']}.{sig['signature']}"
    claims = pyjwt.decode(compact, keypair().public_pem(), algorithms=["RS256"], issuer="barong")
    assert claims["event"] == EVENT and claims["exp"] - claims["iat"] == 3600
    assert envelope.verify(json.dumps(env), keypair().public_key)["jti"] == "jti-1"


def test_tampered_expired_or_foreign_envelopes_are_rejected(app):
    key = keypair().private_key
    env = envelope.sign(EVENT, "jti-2", key)
    forged = dict(env, payload=base64.urlsafe_b64encode(json.dumps({"event": {"name": "x"}, "exp": 2**40})
                                                         .encode()).rstrip(b"=").decode())
    with pytest.raises(envelope.EnvelopeError, match="signature"):
        envelope.verify(forged, keypair().public_key)
    old = envelope.sign(EVENT, "jti-3", key, now=int(time.time()) - 7200)
    with pytest.raises(envelope.EnvelopeError, match="expired"):
        envelope.verify(old, keypair().public_key)
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    with pytest.raises(envelope.EnvelopeError):
        envelope.verify(envelope.sign(EVENT, "jti-4", other), keypair().public_key)
    with pytest.raises(envelope.EnvelopeError):
        envelope.verify({"payload": "x", "signatures": []}, keypair().public_key)
    with pytest.raises(envelope.EnvelopeError, match="no signature by barong"):
        envelope.verify(dict(env, signatures=[dict(env["signatures"][0], header={"kid": "other"})]),
                        keypair().public_key)
    with pytest.raises(envelope.EnvelopeError):
        envelope.verify(b"not json", keypair().public_key)


@pytest.mark.parametrize("name, exchange, key", [
    ("model.user.created", "barong.events.model", "user.created"),
    ("model.data_storage.updated", "barong.events.model", "data_storage.updated"),
    ("system.user.email.confirmation.token", "barong.events.system", "user.email.confirmation.token"),
    ("system.session.create", "barong.events.system", "session.create"),
])
def test_exchange_and_routing_key_follow_the_original(name, exchange, key):
    assert exchange_for(name) == exchange and routing_key_for(name) == key
