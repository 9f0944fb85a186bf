"""Password hashing: argon2id for new digests, bcrypt digests (Ruby Barong) verify too.

Parameters: argon2-cffi's RFC 9106 "low memory" profile (t=3, m=64 MiB, p=4), which
is also its default — ~40-60 ms per hash on this 2-core machine. bcrypt digests are
rehashed to argon2id on the next successful login (`needs_rehash`).
"""
from __future__ import annotations

import bcrypt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_DEFAULT = PasswordHasher()  # argon2id, time_cost=3, memory_cost=65536, parallelism=4
#: the test suite creates thousands of users: it uses a cheap profile (TestConfig only)
_FAST = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
_DUMMIES: dict = {}


class _Hasher:
    """Delegates to the profile chosen by the app config (`BARONG_PASSWORD_HASH_FAST`)."""

    def _h(self) -> PasswordHasher:
        from flask import current_app, has_app_context

        if has_app_context() and current_app.config.get("BARONG_PASSWORD_HASH_FAST"):
            return _FAST
        return _DEFAULT

    def hash(self, password):
        return self._h().hash(password)

    def verify(self, digest, password):
        return self._h().verify(digest, password)

    def check_needs_rehash(self, digest):
        return self._h().check_needs_rehash(digest)

    def dummy(self) -> str:
        h = self._h()
        if h not in _DUMMIES:
            _DUMMIES[h] = h.hash("barong-dummy-password")
        return _DUMMIES[h]


_hasher = _Hasher()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify(digest: str | None, password: str) -> bool:
    if not digest:
        _dummy_verify(password)
        return False
    if digest.startswith(("$2a$", "$2b$", "$2y$")):
        try:
            return bcrypt.checkpw(password.encode()[:72], digest.replace("$2y$", "$2b$", 1).encode())
        except ValueError:
            return False
    try:
        return _hasher.verify(digest, password)
    except (VerificationError, InvalidHashError):
        return False


def _dummy_verify(password: str) -> None:
    try:
        _hasher.verify(_hasher.dummy(), password)
    except VerificationError:
        pass


def dummy_verify(password: str) -> None:
    """Spend the time of one verification (unknown user: no timing oracle)."""
    _dummy_verify(password)


def needs_rehash(digest: str) -> bool:
    if digest.startswith("$2"):
        return True
    try:
        return _hasher.check_needs_rehash(digest)
    except InvalidHashError:
        return True
