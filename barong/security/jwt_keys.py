"""The server's RS256 key pair: signs authz JWTs, confirmation/reset tokens, events.

Loaded once per process from `JWT_PRIVATE_KEY_PATH`, or generated once and kept at
`instance/jwt_private_key.pem` (re-parsing a PEM costs ~40 ms, so never per call).
"""
from __future__ import annotations

import base64
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import current_app

from barong import flaskctx


@dataclass(frozen=True)
class KeyPair:
    private_key: rsa.RSAPrivateKey
    public_key: rsa.RSAPublicKey
    kid: str

    def public_pem(self) -> bytes:
        return self.public_key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    def jwk(self) -> dict:
        numbers = self.public_key.public_numbers()

        def b64(n: int) -> str:
            raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
            return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

        return {"kty": "RSA", "alg": "RS256", "use": "sig", "kid": self.kid, "n": b64(numbers.n), "e": b64(numbers.e)}


def _load(path: Path) -> rsa.RSAPrivateKey:
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise RuntimeError(f"{path} is not an RSA private key")
    return key


def load_keypair(configured_path: str | None, instance_path: Path) -> KeyPair:
    if configured_path:
        path = Path(configured_path)
        if not path.exists():
            raise RuntimeError(f"JWT_PRIVATE_KEY_PATH={configured_path} does not exist")
        key = _load(path)
    else:
        path = Path(instance_path) / "jwt_private_key.pem"
        if path.exists():
            key = _load(path)
        else:
            key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            path.parent.mkdir(parents=True, exist_ok=True)
            pem = key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
            tmp = path.with_suffix(".tmp")
            with os.fdopen(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as fh:
                fh.write(pem)
            os.replace(tmp, path)
            key = _load(path)  # another worker may have raced us: the file on disk wins
    public = key.public_key()
    der = public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return KeyPair(key, public, hashlib.sha256(der).hexdigest()[:16])


def keypair() -> KeyPair:
    return (flaskctx.app() or current_app).extensions["barong_keypair"]  # current_app: its error outside a context
