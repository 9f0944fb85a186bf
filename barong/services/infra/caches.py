"""Process-local caches (permissions, restrictions, minted JWTs…) register a clear
function here, so admin changes and the test suite can drop them all at once."""
from __future__ import annotations

from typing import Callable

_clearers: list[Callable[[], None]] = []


def register(fn: Callable[[], None]) -> Callable[[], None]:
    if fn not in _clearers:
        _clearers.append(fn)
    return fn


def clear_all() -> None:
    for fn in list(_clearers):
        fn()
