"""API keys on the authz hot path beyond the original (issue 15): the allow-list and expiry
checks' helpers, `last_used_at` / `last_used_ip`, and the record of a refused use.

`last_used_at` is written at most once a minute per key, and never on the request's
critical path: a warm check costs one dict lookup here; when the key's minute is up in
this process, the write is attached to the response's close (werkzeug `call_on_close`:
gunicorn calls it after the body is sent) and is a single conditional UPDATE
(`… WHERE last_used_at IS NULL OR last_used_at < now - 60 s`), so however many workers
and hosts see the key, the row changes at most once a minute. It bypasses the ORM on
purpose: an ORM flush of an APIKey would invalidate the authz caches.

A refused use (expired key, address outside the allow-list) is recorded as an activity
of the key's user (a service account's: its owner's) — at most once a minute per key and
reason in a process, so a bot hammering with a dead key cannot flood the table.
"""
from __future__ import annotations

import functools
import ipaddress
import logging
import time
from datetime import datetime, timedelta, timezone

from barong import flaskctx
from barong.services.infra import caches

log = logging.getLogger(__name__)

#: seconds between two `last_used_at` writes of one key
INTERVAL = 60
_last_noted: dict[int, float] = {}
_last_refusal: dict[tuple[int, str], float] = {}


def _reset() -> None:
    ip_allowed.cache_clear()
    parse_allowed.cache_clear()
    _last_noted.clear()
    _last_refusal.clear()


caches.register(_reset)


@functools.lru_cache(maxsize=1024)
def parse_allowed(raw: str | None) -> tuple | None:
    """The stored allow-list as ip_network objects (None: no allow-list)."""
    if not raw:
        return None
    nets = []
    for part in raw.split(","):
        part = part.strip()
        if part:
            try:
                nets.append(ipaddress.ip_network(part, strict=False))
            except ValueError:
                continue
    return tuple(nets)


@functools.lru_cache(maxsize=8192)
def ip_allowed(raw: str, ip: str) -> bool:
    """Is `ip` in the stored allow-list `raw` (cached by the two strings, whose hashes Python
    keeps: a bot calls from the same address all day)?"""
    allowed = parse_allowed(raw) or ()
    try:
        addr = ipaddress.ip_address(ip)
    except ValueError:
        return False
    if addr.version == 6 and addr.ipv4_mapped is not None:
        addr = addr.ipv4_mapped
    return any(addr.version == net.version and addr in net for net in allowed)


def note_use(key_id: int) -> None:
    """The key was just accepted: schedule its `last_used_at` write when its minute is up."""
    now = time.monotonic()
    last = _last_noted.get(key_id)
    if last is not None and now - last < INTERVAL:
        return
    _last_noted[key_id] = now
    from flask import after_this_request

    from barong.security.client_ip import remote_ip

    app, ip = flaskctx.app(), remote_ip()
    at = datetime.now(timezone.utc).replace(tzinfo=None, microsecond=0)

    @after_this_request
    def _attach(response):
        response.call_on_close(lambda: write_last_used(app, key_id, ip, at))
        return response


def write_last_used(app, key_id: int, ip: str, at: datetime) -> bool:
    """The conditional UPDATE (True when this call wrote the row)."""
    from sqlalchemy import or_, update

    from barong.extensions import db
    from barong.models import APIKey

    table = APIKey.__table__
    try:
        with app.app_context():
            with db.engine.begin() as conn:
                result = conn.execute(
                    update(table).where(table.c.id == key_id,
                                        or_(table.c.last_used_at.is_(None),
                                            table.c.last_used_at <= at - timedelta(seconds=INTERVAL)))
                    .values(last_used_at=at, last_used_ip=(ip or "")[:64], updated_at=table.c.updated_at))
                return result.rowcount == 1
    except Exception:  # noqa: BLE001 - bookkeeping must never fail a request
        log.warning("api key last_used_at not written", exc_info=True)
        return False


def refused(key, reason: str, ip: str | None) -> None:
    """Record a refused use of `key` (KeyInfo) as an activity, durably (the 401 rolls back)."""
    now = time.monotonic()
    mark = (key.id, reason)
    last = _last_refusal.get(mark)
    if last is not None and now - last < INTERVAL:
        return
    _last_refusal[mark] = now
    from barong.services.infra import unit_of_work
    from barong.services.infra.request_info import RequestInfo

    unit_of_work.durable(_record_refusal, key.holder_type, key.holder_id, key.kid, reason, ip,
                         RequestInfo.current())


def _record_refusal(holder_type: str, holder_id: int, kid: str, reason: str, ip: str | None, info) -> None:
    from barong.extensions import db
    from barong.models import ServiceAccount, User
    from barong.services.audit import activities

    if holder_type == "ServiceAccount":
        sa = db.session.get(ServiceAccount, holder_id)
        user = sa.owner if sa is not None else None
    else:
        user = db.session.get(User, holder_id)
    if user is None:
        return
    data = {"reason": reason, "kid": kid}
    if holder_type == "ServiceAccount":
        data["service_account"] = sa.uid
    activities.record(user, "api_key", "use", "denied", info, data=data)
