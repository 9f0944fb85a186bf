"""admin/users/labels and admin/users/comments."""
import pytest

from barong.extensions import db
from barong.models import Comment, Label, User
from barong.services.accounts import labels
from barong.services.infra import unit_of_work


def _labels(user):
    db.session.expire_all()
    return {(l.key, l.value, l.scope, l.description) for l in db.session.query(Label).filter_by(user_id=user.id)}


def test_labels_list(sa, make_user):
    db.session.query(Label).delete()
    unit_of_work.commit()
    assert sa.get("/users/labels/list").get_json() == {}
    a, b = make_user(), make_user()
    labels.add(a, "document", "pending", scope="private")
    labels.add(b, "document", "pending", scope="public")
    unit_of_work.commit()
    assert sa.get("/users/labels/list").get_json() == {'["document", "pending"]': 1, '["email", "verified"]': 2}


def test_users_by_label(sa, make_user):
    users = [make_user() for _ in range(5)]
    for u in users[:3]:
        labels.add(u, "document", "pending", scope="private")
    for u in users[3:]:
        labels.add(u, "document", "rejected", scope="private")
    unit_of_work.commit()
    resp = sa.get("/users/labels?key=document&value=pending&limit=2")
    assert resp.status_code == 200
    assert [u["uid"] for u in resp.get_json()] == [users[0].uid, users[1].uid]
    assert (resp.headers["Total"], resp.headers["Page"], resp.headers["Per-Page"]) == ("3", "1", "2")
    assert set(resp.get_json()[0]) == {"email", "username", "uid", "role", "level", "otp", "state",
                                       "referral_uid", "data"}
    assert [u["uid"] for u in sa.get("/users/labels?key=document&value=pending&limit=2&page=2").get_json()] == \
        [users[2].uid]
    resp = sa.get("/users/labels?value=pending")
    assert resp.status_code == 400 and resp.get_json() == {"errors": ["admin.user.missing_key"]}
    resp = sa.get("/users/labels?key=document")
    assert resp.status_code == 400 and resp.get_json() == {"errors": ["admin.user.missing_value"]}


def test_add_label(sa, api, make_user):
    a = make_user()
    resp = sa.post("/users/labels", json={"uid": a.uid, "key": "email", "value": "verified",
                                          "description": "checked by phone"})
    assert resp.status_code == 201, resp.get_json()
    assert resp.get_json()["scope"] == "public" and resp.get_json()["description"] == "checked by phone"
    resp = sa.post("/users/labels", json={"uid": a.uid, "key": "phone", "value": "verified", "scope": "private"})
    assert resp.status_code == 201
    db.session.expire_all()
    assert db.session.get(User, a.id).level == 2  # recomputed by the labels service
    resp = sa.post("/users/labels", json={"uid": a.uid, "key": "phone", "value": "verified", "scope": "private"})
    assert resp.status_code == 422 and resp.get_json() == {"errors": ["key.taken"]}
    resp = sa.post("/users/labels", json={"uid": a.uid, "key": "bad key!", "value": "x.y"})
    assert resp.status_code == 422 and set(resp.get_json()["errors"]) == {"key.invalid", "value.invalid"}
    resp = sa.post("/users/labels", json={"uid": a.uid, "key": "abc", "value": "abc", "scope": "secret"})
    assert resp.get_json() == {"errors": ["scope.inclusion"]}
    resp = sa.post("/users/labels", json={"uid": "ID0000000000", "key": "abc", "value": "abc"})
    assert resp.status_code == 404 and resp.get_json() == {"errors": ["admin.user.doesnt_exist"]}


@pytest.mark.parametrize("body,codes", [
    ({"key": "k1k", "value": "v1v"}, ["admin.user.missing_uid", "admin.user.empty_uid"]),
    ({"uid": "X", "value": "v1v"}, ["admin.user.missing_key", "admin.user.empty_key"]),
    ({"uid": "X", "key": "k1k"}, ["admin.user.missing_value", "admin.user.empty_value"]),
    ({"uid": "X", "key": "k1k", "value": "v1v", "description": ""}, ["admin.user.empty_description"]),
])
def test_add_label_missing(sa, body, codes):
    resp = sa.post("/users/labels", json=body)
    assert resp.status_code == 400 and resp.get_json() == {"errors": codes}


def test_labels_superadmin_target(api, make_user):
    admin = api("admin")
    root = make_user(role="superadmin")
    resp = admin.post("/users/labels", json={"uid": root.uid, "key": "abc", "value": "abc"})
    assert resp.status_code == 422 and resp.get_json() == {"errors": ["admin.user.superadmin_change"]}
    # labels on oneself are allowed (no self guard for labels)
    resp = admin.post("/users/labels", json={"uid": admin.user.uid, "key": "abc", "value": "abc"})
    assert resp.status_code == 201


def test_labels_update_upsert(sa, make_user):
    a = make_user()
    resp = sa.post("/users/labels/update", json={"uid": a.uid, "key": "kyc", "scope": "private",
                                                 "value": "started", "description": "d1"})
    assert resp.status_code == 201
    assert ("kyc", "started", "private", "d1") in _labels(a)
    resp = sa.post("/users/labels/update", json={"uid": a.uid, "key": "kyc", "scope": "private", "value": "done"})
    assert resp.status_code == 201
    assert ("kyc", "done", "private", None) in _labels(a)  # a missing description clears it
    resp = sa.post("/users/labels/update", json={"uid": a.uid, "key": "other", "scope": "private",
                                                 "value": "abc", "replace": False})
    assert resp.status_code == 404 and resp.get_json() == {"errors": ["admin.label.doesnt_exist"]}
    resp = sa.post("/users/labels/update", json={"uid": a.uid, "key": "other", "scope": "private",
                                                 "value": "abc", "replace": "sometimes"})
    assert resp.status_code == 422 and resp.get_json() == {"errors": ["admin.user.non_boolean_replace"]}
    before = _labels(a)
    resp = sa.post("/users/labels/update", json={"uid": a.uid, "key": "new", "scope": "private",
                                                 "description": ""})
    assert resp.status_code == 400
    assert resp.get_json() == {"errors": ["admin.user.missing_value", "admin.user.empty_value",
                                          "admin.user.empty_description"]}
    assert _labels(a) == before


def test_labels_put_and_delete(sa, make_user):
    a = make_user()
    labels.add(a, "tier", "gold", scope="public")
    unit_of_work.commit()
    resp = sa.put("/users/labels", json={"uid": a.uid, "key": "tier", "scope": "public", "value": "silver",
                                         "description": "downgraded"})
    assert resp.status_code == 200 and resp.get_json()["value"] == "silver"
    assert ("tier", "silver", "public", "downgraded") in _labels(a)
    resp = sa.put("/users/labels", json={"uid": a.uid, "key": "tier", "scope": "private", "value": "silver"})
    assert resp.status_code == 404 and resp.get_json() == {"errors": ["admin.label.doesnt_exist"]}
    for missing in ("uid", "key", "scope"):
        params = {"uid": a.uid, "key": "tier", "scope": "public"}
        params.pop(missing)
        resp = sa.delete("/users/labels", query_string=params)
        assert resp.status_code == 400
        assert resp.get_json() == {"errors": [f"admin.user.missing_{missing}", f"admin.user.empty_{missing}"]}
    resp = sa.delete("/users/labels", query_string={"uid": "ID0000000000", "key": "tier", "scope": "public"})
    assert resp.status_code == 404 and resp.get_json() == {"errors": ["admin.user.doesnt_exist"]}
    resp = sa.delete("/users/labels", query_string={"uid": a.uid, "key": "nope", "scope": "public"})
    assert resp.status_code == 404 and resp.get_json() == {"errors": ["admin.label.doesnt_exist"]}
    resp = sa.delete("/users/labels", query_string={"uid": a.uid, "key": "tier", "scope": "public"})
    assert resp.status_code == 204 and resp.data == b""
    assert _labels(a) == {("email", "verified", "private", None)}
    # deleting the private email label recomputes level and state
    resp = sa.delete("/users/labels", query_string={"uid": a.uid, "key": "email", "scope": "private"})
    assert resp.status_code == 204
    u = db.session.get(User, a.id)
    assert (u.level, u.state) == (0, "pending")


def test_comments(sa, make_user):
    a = make_user()
    resp = sa.post("/users/comments", json={"uid": a.uid, "title": "KYC", "data": "called the user"})
    assert resp.status_code == 201
    body = resp.get_json()
    assert set(body) == {"email", "username", "uid", "role", "level", "otp", "state", "data", "profiles", "labels",
                         "phones", "documents", "data_storages", "comments", "referral_uid", "created_at",
                         "updated_at"}
    assert body["uid"] == a.uid and body["comments"][0]["author_uid"] == sa.user.uid
    cid = body["comments"][0]["id"]
    resp = sa.post("/users/comments", json={"uid": a.uid, "title": "x" * 65, "data": "d"})
    assert resp.status_code == 422 and resp.get_json() == {"errors": ["admin.comments.title_too_long"]}
    resp = sa.post("/users/comments", json={"uid": a.uid, "title": "t", "data": "d" * 65536})
    assert resp.status_code == 422 and resp.get_json() == {"errors": ["admin.comments.data_too_long"]}
    assert db.session.query(Comment).count() == 1
    resp = sa.post("/users/comments", json={"uid": "ID0000000000", "title": "t", "data": "d"})
    assert resp.status_code == 404 and resp.get_json() == {"errors": ["admin.user.doesnt_exist"]}
    resp = sa.post("/users/comments", json={"uid": a.uid, "title": ""})
    assert resp.status_code == 400
    assert resp.get_json() == {"errors": ["admin.user.empty_title", "admin.user.missing_data",
                                          "admin.user.empty_data"]}
    resp = sa.put("/users/comments", json={"id": cid, "data": "new data"})
    assert resp.status_code == 200 and resp.get_json()["comments"][0]["data"] == "new data"
    db.session.expire_all()
    c = db.session.get(Comment, cid)
    assert (c.title, c.data) == ("KYC", "new data") and db.session.query(Comment).count() == 1
    resp = sa.put("/users/comments", json={"id": 999999, "data": "x"})
    assert resp.status_code == 404 and resp.get_json() == {"errors": ["record.not_found"]}
    resp = sa.put("/users/comments", json={"id": "abc", "data": "x"})
    assert resp.status_code == 422 and resp.get_json() == {"errors": ["admin.user.non_integer_id"]}
    assert sa.delete("/users/comments", query_string={"id": 999999}).status_code == 404
    resp = sa.delete("/users/comments", query_string={"id": cid})
    assert resp.status_code == 204 and db.session.query(Comment).count() == 0
