"""`pass` / `block` path prefixes of BARONG_AUTHZ_RULES_FILE (Barong's authz_rules.yml).

Read once and kept until the file's mtime changes (checked with one `stat()` at most
every RECHECK seconds per process; no parse per request).
"""
from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass

import yaml
from flask import current_app

from barong import flaskctx
from barong.services.infra import caches


@dataclass(frozen=True)
class Rules:
    pass_prefixes: tuple[str, ...] = ()
    block_prefixes: tuple[str, ...] = ()

    def blocked(self, path: str) -> bool:
        return path.startswith(self.block_prefixes) if self.block_prefixes else False

    def passed(self, path: str) -> bool:
        return path.startswith(self.pass_prefixes) if self.pass_prefixes else False


#: how often (seconds) the file's mtime is looked at
RECHECK = 1.0
_loaded: dict[str, tuple[int | None, Rules, float]] = {}
_lock = threading.Lock()


def _parse(path: str) -> Rules:
    with open(path) as fh:
        data = yaml.safe_load(fh) or {}
    rules = (data.get("rules") if isinstance(data, dict) else None) or {}

    def prefixes(name):
        return tuple(str(p).strip() for p in (rules.get(name) or []) if str(p).strip())

    return Rules(prefixes("pass"), prefixes("block"))


def current() -> Rules:
    path = flaskctx.app().config["BARONG_AUTHZ_RULES_FILE"]  # a str or a Path: either is the key
    now = time.monotonic()
    hit = _loaded.get(path)
    if hit is not None and now - hit[2] < RECHECK:
        return hit[1]
    try:
        mtime = os.stat(path).st_mtime_ns
    except OSError:
        mtime = None
    if hit is not None and hit[0] == mtime:
        _loaded[path] = (mtime, hit[1], now)
        return hit[1]
    if mtime is None:
        current_app.logger.error("authz rules file %s is missing: no pass/block rules", path)
        rules = Rules()
    else:
        try:
            rules = _parse(path)
        except (OSError, yaml.YAMLError):
            if hit is not None:  # keep the last good rules rather than opening or closing everything
                current_app.logger.exception("authz rules file %s unreadable; keeping the previous rules", path)
                return hit[1]
            raise
    with _lock:
        _loaded[path] = (mtime, rules, now)
    return rules


@caches.register
def forget() -> None:
    """Re-read the file on next use."""
    _loaded.clear()
