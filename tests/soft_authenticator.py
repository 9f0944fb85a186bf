"""A software WebAuthn authenticator (ES256, "none" attestation) for tests and bench/passkey_login.py:
it answers registration and authentication options as a browser + authenticator would, with
hand-made CBOR/COSE and ECDSA signatures (cryptography), so the server's verification is the
real one (py_webauthn)."""
from __future__ import annotations

import base64
import hashlib
import json
import os

import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


UP, UV, AT = 0x01, 0x04, 0x40


class SoftAuthenticator:
    def __init__(self, origin: str, rp_id: str | None = None, counting: bool = True):
        from urllib.parse import urlsplit

        self.origin = origin
        self.rp_id = rp_id or urlsplit(origin).hostname
        self.counting = counting  # False: the counter stays 0 (many platform passkeys)
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.credential_id = os.urandom(32)
        self.sign_count = 0
        self.user_handle: bytes | None = None

    # ---- pieces ----
    def _rp_hash(self) -> bytes:
        return hashlib.sha256(self.rp_id.encode()).digest()

    def _cose_key(self) -> bytes:
        nums = self.key.public_key().public_numbers()
        return cbor2.dumps({1: 2, 3: -7, -1: 1, -2: nums.x.to_bytes(32, "big"), -3: nums.y.to_bytes(32, "big")})

    def _client_data(self, kind: str, challenge: str, origin: str | None = None) -> bytes:
        return json.dumps({"type": kind, "challenge": challenge, "origin": origin or self.origin,
                           "crossOrigin": False}).encode()

    # ---- ceremonies ----
    def create(self, options: dict, origin: str | None = None) -> dict:
        """navigator.credentials.create({publicKey: options}) → the PublicKeyCredential JSON."""
        opts = options.get("publicKey", options)
        self.user_handle = unb64url(opts["user"]["id"])
        client_data = self._client_data("webauthn.create", opts["challenge"], origin)
        cred_data = bytes(16) + len(self.credential_id).to_bytes(2, "big") + self.credential_id + self._cose_key()
        auth_data = self._rp_hash() + bytes([UP | UV | AT]) + self.sign_count.to_bytes(4, "big") + cred_data
        attestation = cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": auth_data})
        return {"id": b64url(self.credential_id), "rawId": b64url(self.credential_id), "type": "public-key",
                "response": {"clientDataJSON": b64url(client_data), "attestationObject": b64url(attestation),
                             "transports": ["internal"]},
                "clientExtensionResults": {}, "authenticatorAttachment": "platform"}

    def get(self, options: dict, origin: str | None = None, sign_count: int | None = None,
            flags: int = UP | UV) -> dict:
        """navigator.credentials.get({publicKey: options}) → the PublicKeyCredential JSON."""
        opts = options.get("publicKey", options)
        if sign_count is None:
            if self.counting:
                self.sign_count += 1
            sign_count = self.sign_count
        client_data = self._client_data("webauthn.get", opts["challenge"], origin)
        auth_data = self._rp_hash() + bytes([flags]) + sign_count.to_bytes(4, "big")
        signature = self.key.sign(auth_data + hashlib.sha256(client_data).digest(), ec.ECDSA(hashes.SHA256()))
        response = {"clientDataJSON": b64url(client_data), "authenticatorData": b64url(auth_data),
                    "signature": b64url(signature)}
        if self.user_handle is not None:
            response["userHandle"] = b64url(self.user_handle)
        return {"id": b64url(self.credential_id), "rawId": b64url(self.credential_id), "type": "public-key",
                "response": response, "clientExtensionResults": {}, "authenticatorAttachment": "platform"}
