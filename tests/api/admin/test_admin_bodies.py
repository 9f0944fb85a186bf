"""Cached admin GET answers (barong.api.admin_bodies, issue 18) are never stale: every write
to a table a body is built from — through the admin API, a service, a Core statement outside
any request, raw SQL, another worker — is seen by the next GET."""
from __future__ import annotations

import sqlite3
from datetime import datetime

import pytest
from sqlalchemy import text, update

from barong.api import admin_bodies
from barong.extensions import db
from barong.models import APIKey, Level, Profile
from barong.services.accounts import labels, profiles
from barong.services.infra import unit_of_work
from tests.helpers import login_as


def _twice(sa, path):
    """GET twice (the second answer comes from the cache); both alike."""
    first, second = sa.get(path), sa.get(path)
    assert first.status_code == 200, first.get_json()
    assert second.get_data() == first.get_data() and second.headers.get("Total") == first.headers.get("Total")
    return first


def test_answers_come_from_the_cache(app, sa):
    """The control for the tests below: a change the cache is not told about is not seen
    (so they would fail without the invalidation)."""
    before = _twice(sa, "/levels").get_json()
    with app.app_context():
        path = db.engine.url.database
    raw = sqlite3.connect(path) if db.engine.dialect.name == "sqlite" and path else None
    if raw is None:
        pytest.skip("needs a file SQLite database to write behind SQLAlchemy's back")
    raw.execute("UPDATE levels SET value = 'changed' WHERE id = 1")
    raw.commit()
    raw.close()
    assert sa.get("/levels").get_json() == before  # served from the cache
    from barong.authz.process_cache import bump

    bump(admin_bodies.RBAC)  # what another worker's write does (the generation file)
    assert sa.get("/levels").get_json()[0]["value"] == "changed"


def test_levels_after_an_orm_write(sa):
    _twice(sa, "/levels")
    db.session.query(Level).filter_by(id=1).one().value = "renamed"
    unit_of_work.commit()
    assert sa.get("/levels").get_json()[0]["value"] == "renamed"


def test_permissions_after_a_post(sa):
    total = int(_twice(sa, "/permissions").headers["Total"])
    resp = sa.post("/permissions", json={"role": "member", "verb": "get", "path": "api/v2/cached",
                                         "action": "accept"})
    assert resp.status_code == 201, resp.get_json()
    after = sa.get(f"/permissions?limit=100&page={total // 100 + 1}")
    assert int(after.headers["Total"]) == total + 1
    assert "api/v2/cached" in after.get_data(as_text=True)


def test_restrictions_after_a_put(sa):
    sa.post("/restrictions", json={"category": "blacklist", "scope": "ip", "value": "10.9.9.9"})
    rows = _twice(sa, "/restrictions").get_json()
    row = next(r for r in rows if r["value"] == "10.9.9.9")
    assert sa.put("/restrictions", json={"id": row["id"], "state": "disabled"}).status_code == 200
    assert next(r for r in sa.get("/restrictions").get_json() if r["id"] == row["id"])["state"] == "disabled"


def test_user_after_a_label_and_a_comment(sa, make_user):
    user = make_user()
    _twice(sa, f"/users/{user.uid}")
    assert sa.post("/users/labels", json={"uid": user.uid, "key": "tier", "value": "gold"}).status_code == 201
    body = sa.get(f"/users/{user.uid}").get_json()
    assert ("tier", "gold") in {(l["key"], l["value"]) for l in body["labels"]}
    assert sa.post("/users/comments", json={"uid": user.uid, "title": "t", "data": "d"}).status_code == 201
    assert [c["title"] for c in sa.get(f"/users/{user.uid}").get_json()["comments"]] == ["t"]


def test_users_list_and_labels_list_after_a_service_write(sa, make_user):
    user = make_user()
    _twice(sa, f"/users?uid={user.uid}")
    listed = _twice(sa, "/users/labels/list").get_json()
    labels.add(user, "tier", "gold", scope="private")
    db.session.query(type(user)).filter_by(id=user.id).one().username = "renamed"
    unit_of_work.commit()
    assert sa.get(f"/users?uid={user.uid}").get_json()[0]["username"] == "renamed"
    assert sa.get("/users/labels/list").get_json() != listed


def test_profiles_after_a_review(sa, make_user):
    user = make_user()
    profiles.create(user, {"first_name": "Ada", "last_name": "L", "country": "UA"}, confirm=True)
    unit_of_work.commit()
    before = _twice(sa, "/profiles").get_json()
    assert [p["state"] for p in before] == ["submitted"]
    assert sa.put("/profiles", json={"uid": user.uid, "state": "verified"}).status_code == 200
    assert [p["state"] for p in sa.get("/profiles").get_json()] == ["verified"]


def test_api_keys_after_the_last_used_write_outside_a_request(app, sa, make_user):
    """`last_used_at` is written by a Core UPDATE on its own connection after the response."""
    from barong.authz import key_usage

    user = make_user()
    key = APIKey(key_holder_account_id=user.id, key_holder_account_type="User", kid="cachedkid0001",
                 algorithm="HS256", state="active")
    key.secret, key.scope = "s" * 32, []
    db.session.add(key)
    unit_of_work.commit()
    uid, key_id = user.uid, key.id
    db.session.remove()  # as after a request: the next one does not find the key in its identity map
    assert _twice(sa, f"/api_keys?uid={uid}").get_json()[0]["last_used_at"] is None
    assert key_usage.write_last_used(app, key_id, "10.1.1.1", datetime(2024, 1, 2, 3, 4, 5))
    body = sa.get(f"/api_keys?uid={uid}").get_json()
    assert (body[0]["last_used_at"], body[0]["last_used_ip"]) == ("2024-01-02T03:04:05Z", "10.1.1.1")


def test_activities_and_metrics_after_a_login(app, sa, make_user):
    user = make_user()
    _twice(sa, "/activities")
    metrics = _twice(sa, "/metrics").get_json()
    other = app.test_client()
    login_as(other, user)
    emails = [a["user"]["email"] for a in sa.get("/activities").get_json() if a["user"]]
    assert user.email in emails
    assert sum(sa.get("/metrics").get_json()["sucessful_logins"].values()) == \
        sum(metrics["sucessful_logins"].values()) + 1


def test_admin_activities_after_an_admin_write(sa, make_user):
    user = make_user()
    before = int(_twice(sa, "/activities/admin").headers["Total"])
    assert sa.put("/users", json={"uid": user.uid, "state": "banned"}).status_code == 200
    assert int(sa.get("/activities/admin").headers["Total"]) > before


def test_queue_after_an_upload_and_raw_sql(sa, make_user):
    from barong.models import Document

    user = make_user()
    assert _twice(sa, "/users/documents/pending").get_json() == []
    db.session.add(Document(user_id=user.id, upload="p.png", doc_type="Passport", doc_number="AB1",
                            review_state="pending"))
    db.session.flush()
    from barong.services.verification import kyc_review

    if hasattr(kyc_review, "refresh_waiting"):
        kyc_review.refresh_waiting(user)
    unit_of_work.commit()
    assert [u["uid"] for u in sa.get("/users/documents/pending").get_json()] == [user.uid]
    db.session.execute(text("UPDATE documents SET review_state = 'verified'"))
    if hasattr(kyc_review, "refresh_waiting"):
        kyc_review.refresh_waiting(user)
    unit_of_work.commit()
    assert sa.get("/users/documents/pending").get_json() == []


def test_profile_update_statement(sa, make_user):
    user = make_user()
    profiles.create(user, {"first_name": "Ada", "last_name": "L", "country": "UA"})
    unit_of_work.commit()
    _twice(sa, "/profiles")
    db.session.execute(update(Profile).values(city="Lviv"))
    unit_of_work.commit()
    assert sa.get("/profiles").get_json()[0]["city"] == "Lviv"


def test_personal_data_of_a_reveal_role_is_never_cached(api, make_user):
    """compliance reads personal data only after a reveal (which expires): not cached."""
    user = make_user()
    profiles.create(user, {"first_name": "Ada", "last_name": "Lovelace", "country": "UA"})
    unit_of_work.commit()
    compliance = api("compliance")
    assert compliance.get("/profiles").get_json()[0]["last_name"] == "L*******"
    assert compliance.post("/users/reveal", json={"uid": user.uid, "reason": "check"}).status_code == 201
    assert compliance.get("/profiles").get_json()[0]["last_name"] == "Lovelace"


def test_roles_get_their_own_answers(api):
    assert api("superadmin").get("/abilities").get_json() != api("support").get("/abilities").get_json()
    assert api("support").get("/activities/admin").status_code == 401


def test_raw_sql_drops_every_group(sa):
    _twice(sa, "/levels")
    db.session.execute(text("UPDATE levels SET value = 'by-sql' WHERE id = 1"))
    unit_of_work.commit()
    assert sa.get("/levels").get_json()[0]["value"] == "by-sql"


def test_the_cache_stays_within_its_byte_budget(sa, monkeypatch):
    """Every distinct query string is an entry: the bodies kept never exceed MAX_BYTES."""
    monkeypatch.setattr(admin_bodies, "MAX_BYTES", 3000)
    for page in range(1, 30):
        assert sa.get(f"/permissions?limit=5&page={page}").status_code == 200
        kept = sum(len(v[0][2]) for v in admin_bodies._entries.values())
        assert kept == admin_bodies._size[0] <= 3000
    assert 0 < len(admin_bodies._entries) < 29


@pytest.mark.parametrize("path", ["/permissions", "/restrictions", "/profiles", "/activities"])
def test_totals_with_and_without_the_count(sa, make_user, path):
    """The Total header is the row count however the page falls: short last page (no COUNT
    run), full page, exactly full, past the end, empty."""
    make_user()
    from sqlalchemy import func, select

    from barong.models import Activity, Permission, Restriction

    model = {"/permissions": Permission, "/restrictions": Restriction, "/profiles": Profile,
             "/activities": Activity}[path]
    stmt = select(func.count()).select_from(model)
    if model is Activity:
        stmt = stmt.where(Activity.category == "user")
    total = db.session.execute(stmt).scalar_one()
    shapes = [(1, 100), (1, max(total, 1)), (2, 1), (1, max(total - 1, 1)), (2, max(total - 1, 1)), (50, 3),
              (total // 7 + 1, 7), (total // 7, 7)]
    for page, limit in shapes:
        limit, page = min(limit, 100), max(page, 1)
        admin_bodies.clear()
        resp = sa.get(f"{path}?page={page}&limit={limit}")
        assert resp.status_code == 200, resp.get_json()
        assert int(resp.headers["Total"]) == total, (page, limit)
        assert len(resp.get_json()) == max(0, min(limit, total - (page - 1) * limit))


@pytest.mark.parametrize("role", ["superadmin", "admin"])
def test_profiles_list_reads_no_user_per_row(api, make_user, role):
    """Building admin/profiles (a miss) for a role that always reads personal data runs as
    many statements for 6 profiles as for 2: the masking check does not lazy-load each
    profile's user. (A masked role reads each user's reveal mark: pii.sees.)"""
    from sqlalchemy import event

    caller = api(role)
    assert caller.get("/profiles").status_code == 200  # the caller's session and account, cached
    counts = []
    for n in (2, 4):
        for _ in range(n):
            profiles.create(make_user(), {"first_name": "Ada", "last_name": "Lovelace", "country": "UA"})
        unit_of_work.commit()
        db.session.remove()
        admin_bodies.clear()
        seen = []
        listener = lambda *a, **k: seen.append(1)  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            resp = caller.get("/profiles")
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
        assert resp.status_code == 200
        counts.append(len(seen))
    assert counts[0] == counts[1], counts
