"""The resource GETs stay byte-for-byte what they were before issue 18's "other GETs" work
(cached bodies, no ORM load of the caller, no COUNT when the page shows the total):
status, headers and body for fixed data, compared with tests/api/snapshots/resource_gets.json.

The snapshot was written by this test against the code before that change
(`UPDATE_SNAPSHOTS=1`). Each list is asked twice (built, then possibly from the per-worker
cache). resource/sessions has a random id and the login's clock in it: those are replaced by
placeholders of the same length. SQLite only (row ids are in the bodies).
"""
from __future__ import annotations

import json
import re
from datetime import date, datetime


from barong.extensions import db
from barong.models import Activity, APIKey, Document, ServiceAccount
from barong.services.infra import unit_of_work
from tests.api.test_response_snapshots import T0, T1, _answer, _fixed_user
from tests.api.snapshots import assert_matches, sqlite_only
from tests.helpers import login_as

B = "/api/v2/barong"

pytestmark = sqlite_only

PATHS = [
    "resource/labels", "resource/labels", "resource/labels?ordering=desc", "resource/labels?ordering=bogus",
    "resource/phones", "resource/phones", "resource/profiles/me", "resource/profiles/me",
    "resource/api_keys", "resource/api_keys", "resource/api_keys?ordering=desc&order_by=kid",
    "resource/api_keys?limit=1&page=2", "resource/api_keys?page=5", "resource/api_keys?order_by=secret",
    "resource/sessions", "resource/sessions",
    "resource/users/activity/all", "resource/users/activity/all", "resource/users/activity/all?limit=2&page=2",
    "resource/users/activity/all?limit=3", "resource/users/activity/all?page=9",
    "resource/users/activity/session", "resource/users/activity/otp", "resource/users/activity/nope",
    "resource/users/activity/all?result=denied", "resource/users/activity/all?time_from=1709296245",
    "resource/users/activity/all?time_to=1709296246&limit=1",
    "resource/documents", "resource/documents", "resource/service_accounts", "resource/service_accounts",
]


def _fixed_rows(user) -> None:
    for i, (kid, state) in enumerate((("kid-b", "active"), ("kid-a", "inactive"), ("kid-c", "active"))):
        key = APIKey(key_holder_account_id=user.id, key_holder_account_type="User", kid=kid, algorithm="HS256",
                     state=state, allowed_ips="10.0.0.0/8,192.0.2.1" if i == 1 else None,
                     expires_at=datetime(2030, 1, 1) if i == 2 else None, created_at=T0, updated_at=T1)
        key.secret = f"secret-{i}"
        key.scope = ["trade"] if i else []
        db.session.add(key)
    for i, (topic, result) in enumerate((("session", "succeed"), ("password", "failed"), ("otp", "succeed"),
                                         ("session", "failed"), ("account", "succeed"))):
        db.session.add(Activity(user_id=user.id, user_ip="192.0.2.7", user_ip_country="UA", user_agent="snap",
                                topic=topic, action="login" if topic == "session" else "change", result=result,
                                data=json.dumps({"n": i}), created_at=datetime(2024, 3, 1, 12, 30, 40 + i)))
    db.session.add(Document(user_id=user.id, doc_type="Passport", doc_number="AB123456", upload="a.png",
                            doc_category="front_side", doc_expire=date(2031, 5, 6), created_at=T0, updated_at=T1))
    db.session.add(Document(user_id=user.id, doc_type="Passport", doc_number="XY987", upload="b.png",
                            doc_category="selfie", review_state="rejected", review_reason="blurry",
                            review_note="please retake", created_at=T0, updated_at=T1))
    db.session.add(ServiceAccount(uid="SI00C0FFEE01", owner_id=user.id, email="sa1@example.com", role="member",
                                  level=1, state="active", created_at=T0, updated_at=T1))
    db.session.add(ServiceAccount(uid="SI00C0FFEE02", owner_id=user.id, email="sa2@example.com", role="member",
                                  level=2, state="disabled", created_at=T0, updated_at=T1))
    unit_of_work.commit()


def _normalised(path: str, answer: dict) -> dict:
    if path.startswith("resource/sessions"):
        body = re.sub(r'"id":"[0-9a-f]{16}"', '"id":"' + "0" * 16 + '"', answer["body"])
        answer["body"] = re.sub(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", "2000-01-01T00:00:00Z", body)
    return answer


def _get(client, path):
    """As in a worker, the request starts without an ORM session (the test's app context would
    otherwise hand it the session of the previous request): the lists' reader path."""
    db.session.remove()
    return client.get(f"{B}/{path}")


def test_resource_gets_are_unchanged(app, client):
    user = _fixed_user()
    _fixed_rows(user)
    login_as(client, user)
    # the login's own activity gets a fixed time too (the bodies show created_at)
    db.session.query(Activity).filter(Activity.user_id == user.id, Activity.user_agent != "snap").update(
        {Activity.created_at: datetime(2024, 3, 1, 12, 31, 0)}, synchronize_session=False)
    unit_of_work.commit()
    answers = {f"{i} GET {p}": _normalised(p, _answer(_get(client, p))) for i, p in enumerate(PATHS)}
    assert_matches("resource_gets.json", answers, must_be_200="0 GET resource/labels")
