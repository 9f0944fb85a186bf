"""The resource GETs of issue 18's "other GETs" work: labels, phones, profiles/me, documents and
service_accounts from the per-worker body cache (barong.api.user_bodies.resource_body), API
keys, activities and sessions read without the ORM (barong/api/v2/resource/lists.py). A warm
cached call reads no row, and a write is seen by the very next GET."""
from __future__ import annotations

import io
import json
from datetime import datetime

import pytest
from sqlalchemy import text

from barong.authz import process_cache
from barong.extensions import db
from barong.models import Activity, APIKey, Document, ServiceAccount
from barong.models.profile import PROFILE_STATES
from barong.services.accounts import labels, phones, profiles
from barong.services.infra import unit_of_work
from tests.api.resource.conftest import PNG, R
from tests.helpers import login_as

CACHED = ("labels", "phones", "profiles/me", "documents", "service_accounts")


def get(api, path):
    resp = api.get(path)
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()


def _document(user, **kw):
    doc = Document(user_id=user.id, doc_type="Passport", doc_number="AB123456", upload="a.png", **kw)
    db.session.add(doc)
    unit_of_work.commit()
    return doc


@pytest.mark.parametrize("path", CACHED)
def test_warm_call_reads_no_row(api, statements, path):
    first = get(api, path)
    statements.clear()
    assert get(api, path) == first
    assert statements == []


def test_label_writes_are_seen(api):
    assert [l["key"] for l in get(api, "labels")] == ["email"]
    assert api.post("labels", json={"key": "tier", "value": "gold"}).status_code == 201
    assert [l["key"] for l in get(api, "labels")] == ["email", "tier"]
    assert [l["key"] for l in get(api, "labels?ordering=desc")] == ["tier", "email"]
    assert api.patch("labels/tier", json={"value": "silver"}).status_code == 200
    assert [l["value"] for l in get(api, "labels") if l["key"] == "tier"] == ["silver"]
    assert [l["value"] for l in get(api, "labels?ordering=desc") if l["key"] == "tier"] == ["silver"]
    assert api.delete("labels/tier").status_code == 204
    assert [l["key"] for l in get(api, "labels")] == ["email"]
    labels.add(api.user, "kyc", "pending", scope="private")  # a service write, not through the API
    unit_of_work.commit()
    assert [l["key"] for l in get(api, "labels?ordering=desc")] == ["kyc", "email"]


def test_phone_and_profile_writes_are_seen(api):
    assert get(api, "phones") == [] and get(api, "profiles/me") == []
    phones.create(api.user, "+380671234567", verified=True)
    unit_of_work.commit()
    assert [p["country"] for p in get(api, "phones")] == ["UA"]
    assert api.post("profiles", json={"first_name": "Ada", "last_name": "Lovelace"}).status_code == 201
    assert [p["first_name"] for p in get(api, "profiles/me")] == ["Ada"]
    assert api.put("profiles", json={"first_name": "Grace"}).status_code == 200
    assert [p["first_name"] for p in get(api, "profiles/me")] == ["Grace"]


def test_profile_bulk_update_is_seen(api):
    profiles.create(api.user, {"first_name": "Ada"})
    unit_of_work.commit()
    assert get(api, "profiles/me")[0]["state"] == "drafted"
    db.session.execute(db.update(db.metadata.tables["profiles"])
                       .where(db.metadata.tables["profiles"].c.user_id == api.user.id)
                       .values(state=PROFILE_STATES["verified"]))
    unit_of_work.commit()
    assert get(api, "profiles/me")[0]["state"] == "verified"


def test_document_writes_are_seen(api):
    assert get(api, "documents") == []
    resp = api.post("documents", data={"doc_type": "Passport", "doc_number": "AB123456", "doc_expire": "2031-01-01",
                                       "upload[]": [(io.BytesIO(PNG), "a.png")]},
                    content_type="multipart/form-data")
    assert resp.status_code == 201, resp.get_json()
    assert [d["review_state"] for d in get(api, "documents")] == ["pending"]
    doc = db.session.query(Document).filter_by(user_id=api.user.id).one()
    doc.review_state, doc.review_reason = "rejected", "blurry"
    unit_of_work.commit()
    body = get(api, "documents")
    assert [(d["review_state"], d["review_reason"]) for d in body] == [("rejected", "blurry")]
    english = body[0]["review_reason_text"]
    # the reason's text is in the user's language (users.data): a change of it is seen too
    assert api.put("users/me", json={"data": json.dumps({"language": "ru"})}).status_code == 200
    assert get(api, "documents")[0]["review_reason_text"] not in (None, english)


def test_document_upload_url_follows_the_domain(app, api):
    _document(api.user)
    assert get(api, "documents")[0]["upload"].startswith(app.config["BARONG_DOMAIN"])
    app.config["BARONG_DOMAIN"] = "https://other.example"
    assert get(api, "documents")[0]["upload"].startswith("https://other.example/")


def test_service_account_writes_are_seen(api):
    assert get(api, "service_accounts") == []
    sa = ServiceAccount(uid="SI00CACHE001", owner_id=api.user.id, email="sa-cache@example.com", role="member",
                        level=1, state="active")
    db.session.add(sa)
    unit_of_work.commit()
    assert [s["uid"] for s in get(api, "service_accounts")] == ["SI00CACHE001"]
    sa.state = "disabled"
    unit_of_work.commit()
    assert [s["state"] for s in get(api, "service_accounts")] == ["disabled"]


@pytest.mark.parametrize("path", CACHED)
def test_other_workers_change_is_seen_through_the_generation(api, path):
    """A change by another process reaches this one through the channel's generation stamp."""
    labels.add(api.user, "tier", "gold")
    phones.create(api.user, "+380671234567", verified=True)
    profiles.create(api.user, {"first_name": "Ada"})
    _document(api.user)
    db.session.add(ServiceAccount(uid="SI00CACHE002", owner_id=api.user.id, email="sa2@example.com", role="member",
                                  level=1, state="active"))
    unit_of_work.commit()
    before = get(api, path)
    table, column, field = {"labels": ("labels", "user_id", "value"), "phones": ("phones", "user_id", "country"),
                            "profiles/me": ("profiles", "user_id", "city"),
                            "documents": ("documents", "user_id", "doc_type"),
                            "service_accounts": ("service_accounts", "owner_id", "email")}[path]
    with db.engine.begin() as conn:  # behind this process's back, like another worker
        conn.execute(text(f"UPDATE {table} SET {field} = :v WHERE {column} = :i"),
                     {"v": "ZZ" if field == "country" else "changed-elsewhere", "i": api.user.id})
    db.session.expire_all()
    assert get(api, path) == before  # cached: this process saw no change
    process_cache.bump(process_cache.ENTITIES)  # what the other worker's flush does
    after = get(api, path)
    assert {row[field] for row in after if path != "labels" or row["key"] == "tier"} == \
        {"ZZ" if field == "country" else "changed-elsewhere"}


def test_users_are_not_mixed_up(app, client, make_user, api):
    labels.add(api.user, "mine", "mine-value")
    unit_of_work.commit()
    mine = {path: get(api, path) for path in CACHED}
    other = make_user()
    other_client = app.test_client()
    other_client.environ_base["HTTP_USER_AGENT"] = client.environ_base["HTTP_USER_AGENT"]
    login_as(other_client, other)
    theirs = other_client.get(f"{R}/labels").get_json()
    assert [l["key"] for l in theirs] == ["email"]
    assert {path: get(api, path) for path in CACHED} == mine


def test_masking_flag_is_part_of_the_key(app, api):
    phones.create(api.user, "+380671234567", verified=True)
    unit_of_work.commit()
    assert get(api, "phones")[0]["number"] != "380671234567"
    app.config["BARONG_API_DATA_MASKING"] = False
    assert get(api, "phones")[0]["number"] == "380671234567"


# ---- the lists read without the ORM -----------------------------------------------------------

def _key(user, kid):
    key = APIKey(key_holder_account_id=user.id, key_holder_account_type="User", kid=kid, algorithm="HS256",
                 state="active")
    key.secret, key.scope = "s", ["trade"]
    db.session.add(key)
    unit_of_work.commit()
    return key


@pytest.mark.parametrize("path", ("api_keys", "users/activity/all", "sessions"))
def test_lists_do_not_use_the_orm_session(app, api, statements, path):
    if db.engine.url.database in (None, "", ":memory:"):
        pytest.skip("in-memory SQLite: the reader reads through the session (one database per connection)")
    _key(api.user, "kid-orm")
    expected = get(api, path)
    db.session.remove()  # the test's session is the requests' too (one app context); a worker's is not
    statements.clear()
    assert get(api, path) == expected and expected != []
    assert statements == []  # the rows came through the authz reader's own connection


def test_api_key_writes_are_seen(api):
    assert get(api, "api_keys") == []
    key = _key(api.user, "kid-1")
    assert [k["kid"] for k in get(api, "api_keys")] == ["kid-1"]
    with db.engine.begin() as conn:  # key_usage's Core UPDATE of last_used_at (no ORM, no cache bump)
        conn.execute(text("UPDATE apikeys SET last_used_at = :t, last_used_ip = '192.0.2.9' WHERE id = :i"),
                     {"t": datetime(2024, 1, 2, 3, 4, 5), "i": key.id})
    assert [(k["last_used_at"], k["last_used_ip"]) for k in get(api, "api_keys")] == \
        [("2024-01-02T03:04:05Z", "192.0.2.9")]
    _key(api.user, "kid-0")
    assert [k["kid"] for k in get(api, "api_keys?order_by=kid")] == ["kid-0", "kid-1"]
    assert [k["scope"] for k in get(api, "api_keys")] == [["trade"], ["trade"]]


def test_activity_and_session_writes_are_seen(app, client, api):
    before = get(api, "users/activity/all")
    sessions_before = get(api, "sessions")
    second = app.test_client()
    second.environ_base["HTTP_USER_AGENT"] = client.environ_base["HTTP_USER_AGENT"]
    login_as(second, api.user)  # a login: one more activity, one more session
    assert len(get(api, "users/activity/all")) == len(before) + 1
    assert len(get(api, "sessions")) == len(sessions_before) + 1
    assert sum(s["current"] for s in get(api, "sessions")) == 1


def _activities(user, n):
    for i in range(n):
        db.session.add(Activity(user_id=user.id, user_ip="192.0.2.7", user_agent="t", topic="otp", action="x",
                                result="succeed", created_at=datetime(2024, 3, 1, 12, 0, i)))
    unit_of_work.commit()


@pytest.mark.parametrize("limit", (1, 2, 4, 5, 6))
def test_pagination_total_without_count_matches(api, limit):
    _activities(api.user, 5)
    for page in range(1, 8):
        resp = api.get(f"users/activity/otp?limit={limit}&page={page}")
        assert resp.status_code == 200
        assert resp.headers["Total"] == "5", (limit, page)
        expected = max(0, min(limit, 5 - (page - 1) * limit))
        assert len(resp.get_json()) == expected


def test_no_matching_activity_is_422(api):
    _activities(api.user, 2)
    resp = api.get("users/activity/otp?result=failed")
    assert resp.status_code == 422
    assert resp.get_json()["errors"] == ["resource.user.no_activity"]
    resp = api.get("users/activity/otp?page=3&limit=5")  # beyond the last page: an empty page, as before
    assert resp.status_code == 200 and resp.get_json() == [] and resp.headers["Total"] == "2"


def test_reader_sees_the_requests_own_uncommitted_rows(app, api):
    """A request that has used its ORM session reads the lists through it (its own writes)."""
    from barong.api.v2.resource import lists

    with app.test_request_context():
        key = APIKey(key_holder_account_id=api.user.id, key_holder_account_type="User", kid="kid-pending",
                     algorithm="HS256", state="active")
        key.secret = "s"
        db.session.add(key)
        db.session.flush()
        rows, total = lists.api_keys("User", api.user.id, "id", "asc", 1, 100)
        assert [r.kid for r in rows] == ["kid-pending"] and total == 1
        db.session.rollback()
