"""The admin API's GETs stay byte-for-byte what they were before issue 18's work on them
(cached bodies, no ORM load of the caller): status, headers and body of every admin GET the
request-path bench measures, for fixed data, as a superadmin (sees personal data) and as a
support operator (personal data masked), compared with tests/api/snapshots/admin_gets.json.

The snapshot was written by this test (`UPDATE_SNAPSHOTS=1`) against the code before that
change. SQLite only: row ids (part of the bodies) come from the database's own counters,
which PostgreSQL does not restart between tests.
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import update

from barong.extensions import db
from barong.models import Activity, APIKey, Comment, DataStorage, Document, Level, Permission, Restriction
from barong.services.accounts import labels, phones, profiles, users
from barong.services.audit import activities
from barong.services.infra import unit_of_work
from barong.services.infra.request_info import RequestInfo
from tests.api.snapshots import assert_matches, sqlite_only
from tests.helpers import DEFAULT_PASSWORD, login_as

B = "/api/v2/barong/admin"
T0 = datetime(2024, 3, 1, 12, 30, 45)
T1 = datetime(2024, 5, 2, 8, 15, 0)

pytestmark = sqlite_only


def _person(email, uid, role, first, last):
    user = users.create(email, DEFAULT_PASSWORD, role=role, uid=uid)
    labels.add(user, "email", "verified", scope="private")
    labels.add(user, "tier", "gold", scope="public")
    users.apply_state(user, "active")
    profiles.create(user, {"first_name": first, "last_name": last, "dob": "1990-02-01", "address": "1 Main St",
                           "postcode": "01001", "city": "Kyiv", "country": "UA"}, confirm=True)
    return user


def fixed_data():
    """A superadmin, a support operator and an applicant (profile, phone, labels, pending
    document, comment, data storage, API key), user and admin activities; every timestamp fixed."""
    admin = _person("Snap.Admin@example.com", "ID00C0FFEE01", "superadmin", "Ada", "Lovelace")
    support = _person("snap.support@example.com", "ID00C0FFEE02", "support", "Sam", "Helper")
    applicant = _person("applicant@example.com", "ID00C0FFEE03", "member", "Grace", "Hopper")
    phones.create(applicant, "+380671234567", verified=True)
    db.session.add(DataStorage(user_id=applicant.id, title="personal", data='{"nickname":"grace"}'))
    db.session.add(Comment(user_id=applicant.id, author_uid=admin.uid, title="note", data="called her"))
    db.session.add(Document(user_id=applicant.id, upload="passport.png", doc_type="Passport", doc_number="AB123456",
                            doc_expire=date(2030, 1, 1), doc_category="identity", review_state="pending"))
    key = APIKey(key_holder_account_id=applicant.id, key_holder_account_type="User", kid="00c0ffee00c0ffee",
                 algorithm="HS256", state="active")
    key.secret = "s" * 32
    key.scope = ["trade"]
    db.session.add(key)
    db.session.flush()
    from barong.services.verification import kyc_review

    if hasattr(kyc_review, "refresh_waiting"):  # the queue's denormalised users.kyc_waiting_since
        kyc_review.refresh_waiting(applicant)
    db.session.add(Restriction(category="blacklist", scope="ip", value="10.1.2.3", state="enabled", code=403))
    info = RequestInfo(ip="127.0.0.1", user_agent="snapshot-agent")
    for result in ("succeed", "failed"):
        activities.record(applicant, "session", "login", result, info)
    activities.record(applicant, "account", "signup", "succeed", info)
    activities.record_admin(admin, topic="users", action="update", result="succeed", info=info,
                            target_uid=applicant.uid, data={"state": "banned"})
    db.session.flush()
    unit_of_work.commit()
    return admin, support, applicant


def _pin_times():
    """Every row's timestamps to T0/T1 (logins wrote activities with the current time)."""
    from barong.models import Label, Phone, Profile, User

    for model in (User, Label, Profile, Phone, DataStorage, Comment, Document, APIKey, Permission, Restriction):
        db.session.execute(update(model).values(created_at=T0, updated_at=T1))
    db.session.execute(update(Phone).values(validated_at=T1))
    db.session.execute(update(Activity).values(created_at=T0))
    unit_of_work.commit()


def _answer(resp) -> dict:
    return {"status": resp.status_code, "headers": [[k, v] for k, v in resp.headers.items() if k != "Set-Cookie"],
            "body": resp.get_data(as_text=True)}


ADMIN_PATHS = ["users", "users?page=2&limit=1", "users?extended=true", "users?uid={uid}", "users/{uid}",
               "users/labels/list", "levels", "permissions", "permissions?page=3&limit=5", "restrictions",
               "abilities", "activities", "activities?topic=session", "api_keys?uid={uid}", "metrics",
               "metrics?extended=true", "users/documents/pending", "users/documents/pending?extended=true",
               "profiles", "activities/admin"]
SUPPORT_PATHS = ["users/{uid}", "users?extended=true", "users/documents/pending?extended=true", "profiles",
                 "abilities", "levels", "activities/admin"]


def test_admin_gets_are_unchanged(app):
    admin, support, applicant = fixed_data()
    assert db.session.query(Level).count() > 0
    answers = {}
    for who, paths in ((admin, ADMIN_PATHS), (support, SUPPORT_PATHS)):
        client = app.test_client()
        client.environ_base["HTTP_USER_AGENT"] = "snapshot-agent"
        login_as(client, who)
        _pin_times()
        for i, p in enumerate(paths):
            path = f"{B}/{p.format(uid=applicant.uid)}"
            for n in (1, 2):  # built, then (where cached) from the cache
                answers[f"{who.role} {i}.{n} GET {path}"] = _answer(client.get(path))
    assert_matches("admin_gets.json", answers, must_be_200=f"superadmin 4.1 GET {B}/users/{applicant.uid}")
