"""users/me from the per-worker body cache (barong/api/user_bodies.py): a warm call reads no
row, and every way the body's rows change is seen by the very next call."""
from __future__ import annotations

from sqlalchemy import text

from barong.api import user_bodies
from barong.authz import process_cache
from barong.extensions import db
from barong.services.accounts import labels, phones, profiles
from barong.services.infra import unit_of_work
from tests.api.resource.conftest import R, errors


def me(api):
    resp = api.get("users/me")
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()


def test_warm_call_reads_no_row(api, statements):
    first = me(api)
    statements.clear()
    assert me(api) == first
    assert statements == []  # session, user and body all cached


def test_data_update_is_seen(api):
    me(api)
    assert api.put("users/me", json={"data": '{"a":1}'}).status_code == 200
    assert me(api)["data"] == '{"a":1}'


def test_label_compare_and_set_update_is_seen(api):
    """labels.update writes value/scope with a Core UPDATE (no ORM flush of the row)."""
    label = labels.add(api.user, "tier", "gold", scope="public")
    unit_of_work.commit()
    assert {"key": "tier", "value": "gold"}.items() <= me(api)["labels"][-1].items()
    labels.update(label, value="silver")
    unit_of_work.commit()
    assert [l["value"] for l in me(api)["labels"] if l["key"] == "tier"] == ["silver"]


def test_label_delete_phone_and_profile_are_seen(api):
    body = me(api)
    assert body["phones"] == [] and body["profiles"] == []
    phones.create(api.user, "+380671234567", verified=True)
    unit_of_work.commit()
    assert len(me(api)["phones"]) == 1
    profiles.create(api.user, {"first_name": "Ada", "last_name": "Lovelace"})
    unit_of_work.commit()
    assert me(api)["profiles"][0]["first_name"] == "Ada"
    label = labels.find(api.user, "email", "private")
    labels.delete(label) if hasattr(labels, "delete") else db.session.delete(label)
    unit_of_work.commit()
    assert "email" not in {l["key"] for l in me(api)["labels"]}


def test_bulk_statement_is_seen(api):
    me(api)
    db.session.execute(db.update(db.metadata.tables["users"]).where(db.metadata.tables["users"].c.id == api.user.id)
                       .values(data='{"bulk":true}'))
    unit_of_work.commit()
    assert me(api)["data"] == '{"bulk":true}'


def test_other_workers_change_is_seen_through_the_generation(api):
    """A change made by another process (no ORM event here) is served stale only until its
    generation stamp lands (the other worker's invalidation), never after."""
    me(api)
    with db.engine.begin() as conn:  # behind this process's back, like another worker
        conn.execute(text("UPDATE users SET data = :d WHERE id = :i"), {"d": '{"other":1}', "i": api.user.id})
    db.session.expire_all()  # the test's ORM session outlives requests; a worker's does not
    assert me(api)["data"] != '{"other":1}'  # cached: this process saw no change
    process_cache.bump(process_cache.ENTITIES)  # what the other worker's flush does
    assert me(api)["data"] == '{"other":1}'


def test_entry_expires_after_the_ttl(api, monkeypatch):
    me(api)
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE users SET data = :d WHERE id = :i"), {"d": '{"ttl":1}', "i": api.user.id})
    db.session.expire_all()  # the test's ORM session outlives requests; a worker's does not
    monkeypatch.setattr(user_bodies._bodies, "ttl", 0.0)
    assert me(api)["data"] == '{"ttl":1}'


def test_masking_flag_is_part_of_the_key(app, api):
    phones.create(api.user, "+380671234567", verified=True)
    unit_of_work.commit()
    masked = me(api)["phones"][0]["number"]
    app.config["BARONG_API_DATA_MASKING"] = False
    assert me(api)["phones"][0]["number"] == "380671234567"
    assert masked != "380671234567"


def test_users_are_not_mixed_up(app, client, make_user, api):
    from tests.helpers import login_as

    other = make_user()
    mine = me(api)
    other_client = app.test_client()
    other_client.environ_base["HTTP_USER_AGENT"] = client.environ_base["HTTP_USER_AGENT"]
    login_as(other_client, other)
    theirs = other_client.get(f"{R}/users/me").get_json()
    assert theirs["email"] == other.email and mine["email"] == api.user.email
    assert me(api)["email"] == api.user.email


def test_deleted_user_is_refused(api):
    me(api)
    db.session.delete(api.user)
    unit_of_work.commit()
    resp = api.get("users/me")
    assert resp.status_code == 401
    assert errors(resp)[0].startswith("authz.")


def test_unauthenticated_is_refused_before_the_cache(client):
    resp = client.get(f"{R}/users/me")
    assert resp.status_code == 401
