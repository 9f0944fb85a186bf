"""Responses stay byte-for-byte what they were before issue 18's request-path work (the
cached users/me body, the leaner generic path): status, headers and body of a few GETs,
for fixed data, compared with tests/api/snapshots/request_path.json.

The snapshot was written by this test against the code before that change
(`UPDATE_SNAPSHOTS=1`, commit c6944d9). users/me is asked twice: built, then from the
per-worker cache. SQLite only: row ids (part of the bodies) come from the database's own
counters, which PostgreSQL does not restart between tests.
"""
from __future__ import annotations

from datetime import datetime


from barong.extensions import db
from barong.models import DataStorage
from barong.services.accounts import labels, phones, profiles, users
from barong.services.infra import unit_of_work
from tests.api.snapshots import assert_matches, sqlite_only
from tests.helpers import DEFAULT_PASSWORD, login_as

B = "/api/v2/barong"
T0 = datetime(2024, 3, 1, 12, 30, 45)
T1 = datetime(2024, 5, 2, 8, 15, 0)

pytestmark = sqlite_only


def _fixed_user():
    user = users.create("Snap.Shot@example.com", DEFAULT_PASSWORD, username="snapuser", role="superadmin",
                        data='{"language":"ru","theme":"dark"}', uid="ID00C0FFEE01")
    labels.add(user, "email", "verified", scope="private")
    labels.add(user, "tier", "gold", scope="public")
    users.apply_state(user, "active")
    profiles.create(user, {"first_name": "Ada", "last_name": "Lovelace", "dob": "1990-02-01",
                           "address": "1 Main St", "postcode": "01001", "city": "Kyiv", "country": "UA"},
                    confirm=True)
    phones.create(user, "+380671234567", verified=True)
    db.session.add(DataStorage(user_id=user.id, title="personal", data='{"nickname":"ada"}'))
    db.session.flush()
    for row in (user, *user.labels, *user.profiles, *user.phones, *user.data_storages):
        row.created_at, row.updated_at = T0, T1
    for phone in user.phones:
        phone.validated_at = T1
    unit_of_work.commit()
    return user


def _answer(resp) -> dict:
    return {"status": resp.status_code, "headers": [[k, v] for k, v in resp.headers.items() if k != "Set-Cookie"],
            "body": resp.get_data(as_text=True)}


def test_bodies_are_unchanged(app, client):
    user = _fixed_user()
    login_as(client, user)
    paths = [f"{B}/identity/ping", f"{B}/resource/users/me", f"{B}/resource/users/me", f"{B}/resource/labels",
             f"{B}/resource/phones", f"{B}/resource/profiles/me", f"{B}/admin/users/{user.uid}",
             f"{B}/admin/users?uid={user.uid}", f"{B}/resource/nothing-here"]
    answers = {f"{i} GET {p}": _answer(client.get(p)) for i, p in enumerate(paths)}
    assert_matches("request_path.json", answers, must_be_200="1 GET /api/v2/barong/resource/users/me")
