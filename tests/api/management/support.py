"""Management API test support: keys, a keychain file, and an INDEPENDENT JWS builder
(PyJWT's compact JWS per signer, reassembled into JSON general serialization) so the
server is not only tested against its own signing code."""
from __future__ import annotations

import base64
import json
import time
import uuid

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

PREFIX = "/api/v2/barong/management/"


def _pem_private(key) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _pem_public(key) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


class Key:
    def __init__(self, name, algorithm, private, public_value):
        self.name, self.algorithm, self.private, self.public_value = name, algorithm, private, public_value


def _rsa(name):
    k = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return Key(name, "RS256", _pem_private(k), base64.urlsafe_b64encode(_pem_public(k)).decode())


def _ec(name):
    k = ec.generate_private_key(ec.SECP256R1())
    return Key(name, "ES256", _pem_private(k), base64.urlsafe_b64encode(_pem_public(k)).decode())


# generated once per test session
KEYS = {
    "applogic": _rsa("applogic"),
    "alex": _ec("alex"),
    "james": Key("james", "HS256", b"james-shared-secret-0123456789abcdef", "james-shared-secret-0123456789abcdef"),
    "jeff": _rsa("jeff"),
    "mallory": _rsa("mallory"),  # never in the keychain
}

ALL_SCOPES = ("read_users", "write_users", "read_labels", "write_labels", "otp_sign", "write_documents", "tools",
              "read_phones", "write_phones", "write_apikeys", "read_service_accounts", "write_service_accounts")


def keychain_config() -> dict:
    scopes = {s: {"permitted_signers": ["applogic", "alex", "james"], "mandatory_signers": ["applogic"]}
              for s in ALL_SCOPES}
    scopes["tools"] = {"permitted_signers": ["alex"], "mandatory_signers": ["alex"]}  # ES256 only
    scopes["write_labels"] = {"permitted_signers": ["applogic", "james"], "mandatory_signers": ["applogic", "james"]}
    return {"keychain": {n: {"algorithm": k.algorithm, "value": k.public_value}
                         for n, k in KEYS.items() if n != "mallory"},
            "scopes": scopes}


def claims(data=None, **over) -> dict:
    now = int(time.time())
    out = {"iat": now, "exp": now + 60, "jti": uuid.uuid4().hex, "data": {} if data is None else data}
    out.update(over)
    return {k: v for k, v in out.items() if v is not None}


def independent_jws(payload: dict, signers=("applogic",), kid_for=None) -> dict:
    """JSON general serialization built with PyJWT only (one compact JWS per signer)."""
    raw = json.dumps(payload).encode()
    signatures = []
    for name in signers:
        key = KEYS[name]
        compact = jwt.api_jws.encode(raw, key.private, algorithm=key.algorithm, headers={"typ": None})
        protected, payload_b64, signature = compact.split(".")
        signatures.append({"protected": protected, "header": {"kid": (kid_for or {}).get(name, name)},
                           "signature": signature})
    return {"payload": payload_b64, "signatures": signatures}


def mgmt(client, path, data=None, signers=("applogic", "james", "alex"), method="POST", body=None, **claim_over):
    """Send an independently signed management request."""
    body = body if body is not None else independent_jws(claims(data, **claim_over), signers)
    return client.open(PREFIX + path, method=method, json=body)
