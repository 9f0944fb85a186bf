"""Issue 13 item 18 on one host: another worker's change reaches this worker's very next
request (the generation file is read on every lookup, not every 50 ms), and a change
is stamped before the admin call's response leaves.

"Another worker" is simulated the way one shows itself to this process: rows changed
behind this process's caches (Core statements, no ORM hooks) and the channel's
generation file stamped from outside (os.utime), without this process's own bump.
The same with real gunicorn workers: tests/faults/test_live_admin_changes.py."""
from __future__ import annotations

import os
import time
from pathlib import Path

from barong.authz import process_cache
from barong.extensions import db
from barong.models import Restriction, SessionRecord
from tests.helpers import login_as

from .support import ME, auth


def _stamp_from_another_worker(app, channel: str) -> None:
    path = Path(app.config["BARONG_INSTANCE_PATH"]) / f"{channel}_cache_generation"
    path.touch(exist_ok=True)
    stamp = max(time.time_ns(), path.stat().st_mtime_ns + 1)
    os.utime(path, ns=(stamp, stamp))


def test_another_workers_session_revocation_is_seen_by_the_very_next_request(client, make_user, app):
    login_as(client, make_user())
    assert auth(client, "GET", ME).status_code == 200  # cached in this worker
    db.session.execute(SessionRecord.__table__.delete())  # the other worker's logout ...
    db.session.commit()
    _stamp_from_another_worker(app, process_cache.ACCOUNTS)  # ... and its bump
    assert auth(client, "GET", ME).get_json() == {"errors": ["authz.invalid_session"]}


def test_another_workers_restriction_is_enforced_by_the_very_next_request(client, app):
    assert client.get("/api/v2/barong/identity/ping").status_code == 200  # restrictions cached
    db.session.execute(Restriction.__table__.insert().values(category="blacklist", scope="ip", value="127.0.0.1",
                                                             state="enabled", code=403))
    db.session.commit()
    _stamp_from_another_worker(app, process_cache.AUTHZ)
    for _ in range(20):  # every request from now on, not only after some delay
        assert client.get("/api/v2/barong/identity/ping").status_code == 403
    db.session.execute(Restriction.__table__.delete().where(Restriction.__table__.c.value == "127.0.0.1"))
    db.session.commit()
    _stamp_from_another_worker(app, process_cache.AUTHZ)
    assert client.get("/api/v2/barong/identity/ping").status_code == 200


def test_generation_reads_the_file_on_every_call(app):
    before = process_cache.generation(process_cache.AUTHZ)
    _stamp_from_another_worker(app, process_cache.AUTHZ)
    assert process_cache.generation(process_cache.AUTHZ) != before  # no 50 ms window


def test_the_admin_calls_stamp_is_written_after_its_commit_before_its_response(client, make_user, app, monkeypatch):
    """A worker that reloads on the first stamp (at the flush) could still read the old
    rows; the second stamp comes after the commit — inside the WSGI call, i.e. before
    gunicorn writes a byte of the response (Flask runs the teardown hooks before
    wsgi_app returns)."""
    from sqlalchemy import select

    admin = make_user(role="superadmin")
    csrf = login_as(client, admin)
    table = Restriction.__table__
    stamps = []  # (channel, the new row visible to another connection when stamped)
    real = process_cache.bump

    def bump(channel="authz"):
        with db.engine.connect() as other:  # another worker's view of the database
            visible = other.execute(select(table.c.id).where(table.c.value == "10.9.8.7")).first() is not None
        stamps.append((channel, visible))
        real(channel)

    monkeypatch.setattr(process_cache, "bump", bump)
    resp = client.post("/api/v2/barong/admin/restrictions", headers={"X-CSRF-Token": csrf},
                       json={"category": "blacklist", "scope": "ip", "value": "10.9.8.7"})
    assert resp.status_code == 201, resp.get_json()
    authz_stamps = [visible for channel, visible in stamps if channel == process_cache.AUTHZ]
    assert authz_stamps[0] is False  # at the flush
    assert authz_stamps[-1] is True  # after the commit, before the call returned
