"""Encryption at rest (PII, API-key secrets, TOTP secrets) and lookup indexes.

Fernet (AES-128-CBC + HMAC-SHA256) with a key derived by HKDF from the application
secret (`BARONG_SECRET_KEY_BASE`, or one generated once under `instance/`). Values are
stored as `v1:<fernet token>`; the prefix leaves room for key rotation.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import zlib

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app

_PREFIX = "v1:"
_cache: dict[str, Fernet] = {}


def _fernet() -> Fernet:
    secret = current_app.config["SECRET_KEY"]
    f = _cache.get(secret)
    if f is None:
        key = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"barong-at-rest", info=b"fernet-v1").derive(
            secret.encode()
        )
        f = _cache[secret] = Fernet(base64.urlsafe_b64encode(key))
    return f


def encrypt(value: str | None) -> str | None:
    if value is None:
        return None
    return _PREFIX + _fernet().encrypt(str(value).encode()).decode()


def decrypt(value: str | None) -> str | None:
    if value is None:
        return None
    if not value.startswith(_PREFIX):
        return value  # plain value (imported rows)
    try:
        return _fernet().decrypt(value[len(_PREFIX):].encode()).decode()
    except InvalidToken:
        current_app.logger.error("undecryptable value (wrong BARONG_SECRET_KEY_BASE?)")
        return None


def crc32_index(value: str | None) -> int | None:
    """Barong's search index: CRC32(value + BARONG_CRC32_SALT)."""
    if value is None:
        return None
    salt = current_app.config.get("BARONG_CRC32_SALT") or ""
    return zlib.crc32(f"{value}{salt}".encode()) & 0xFFFFFFFF


def token_hex(nbytes: int = 10) -> str:
    return secrets.token_hex(nbytes)


def sha256_hex(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def keyed_hash(value: str) -> str:
    """HMAC-SHA256 of `value` under the app secret (for codes stored hashed)."""
    return hmac.new(current_app.config["SECRET_KEY"].encode(), value.encode(), hashlib.sha256).hexdigest()


def equal(a: str | None, b: str | None) -> bool:
    """Constant-time string comparison."""
    if a is None or b is None:
        return False
    return hmac.compare_digest(a.encode(), b.encode())
