"""admin/users: list filters, show, update, role, pending documents, data storage."""
import time

import pytest

from barong.extensions import db
from barong.models import Activity, APIKey, DataStorage, Label, Profile, User
from barong.services.accounts import labels, profiles, users
from barong.services.infra import unit_of_work
from barong.services.verification import kyc_review

USER_KEYS = {"email", "username", "uid", "role", "level", "otp", "state", "referral_uid", "data"}
KYC_KEYS = USER_KEYS | {"profiles", "labels", "phones", "documents", "data_storages", "comments", "created_at",
                        "updated_at"}


def _profile(user, country="UA", last_name="Berezniy", state="submitted"):
    p = profiles.create(user, {"first_name": "Ivan", "last_name": last_name, "dob": "1990-05-12",
                               "country": country}, state=state)
    unit_of_work.commit()
    return p


def test_list_default(sa, make_user):
    make_user(), make_user()
    resp = sa.get("/users")
    assert resp.status_code == 200
    body = resp.get_json()
    assert len(body) == 3 and set(body[0]) == USER_KEYS
    assert [u["uid"] for u in body] == [u.uid for u in db.session.query(User).order_by(User.id)]
    assert (resp.headers["Total"], resp.headers["Page"], resp.headers["Per-Page"]) == ("3", "1", "100")


def test_ordering_and_pagination(sa, make_user):
    for _ in range(4):
        make_user()
    ids = [u.uid for u in db.session.query(User).order_by(User.id)]
    assert [u["uid"] for u in sa.get("/users?ordering=desc").get_json()] == ids[::-1]
    assert [u["uid"] for u in sa.get("/users?order_by=email&ordering=asc").get_json()] == \
        [u.uid for u in db.session.query(User).order_by(User.email)]
    resp = sa.get("/users?limit=2&page=2")
    assert [u["uid"] for u in resp.get_json()] == ids[2:4]
    assert (resp.headers["Total"], resp.headers["Page"], resp.headers["Per-Page"]) == ("5", "2", "2")


@pytest.mark.parametrize("query,code", [
    ("ordering=resc", "user.ordering.invalid_ordering"),
    ("order_by=algorithm", "user.ordering.invalid_attribute"),
    ("order_by=password_digest", "user.ordering.invalid_attribute"),
    ("extended=maybe", "admin.user.non_boolean_extended"),
    ("range=deleted", "admin.user.invalid_range"),
    ("level=high", "admin.user.non_integer_level"),
    ("from=yesterday", "admin.user.non_integer_from"),
    ("limit=0", "invalid_limit"),
    ("limit=101", "invalid_limit"),
    ("page=0", "non_positive_page"),
    ("page=x", "non_integer_page"),
])
def test_list_bad_params(sa, query, code):
    resp = sa.get(f"/users?{query}")
    assert resp.status_code == 422 and resp.get_json() == {"errors": [code]}


def test_filters(sa, make_user):
    a = make_user(email="alice@example.com")
    b = make_user(email="bob@example.com", state="pending")
    c = make_user(email="carol@example.com", private_labels={"email": "verified", "phone": "verified"})
    c.role = "trader"
    unit_of_work.commit()
    _profile(a, "UA")
    p = _profile(a, "UA", state="verified")
    _profile(b, "DE")

    def uids(q):
        resp = sa.get(f"/users?{q}")
        assert resp.status_code == 200, resp.get_json()
        assert resp.headers["Total"] == str(len(resp.get_json()))
        return {u["uid"] for u in resp.get_json()}

    assert uids("email=Alice@example.com") == {a.uid}
    assert uids(f"uid={b.uid}") == {b.uid}
    assert uids("role=trader") == {c.uid}
    assert uids("state=pending") == {b.uid}
    assert uids("level=2") == {c.uid}
    assert uids("level=1&state=active") == {a.uid, sa.user.uid}
    assert uids("country=UA") == {a.uid}  # two profiles, listed once
    assert uids("country=UA&first_name=x&last_name=y") == {a.uid}
    assert uids("field=bazz") == {a.uid, b.uid, c.uid, sa.user.uid}
    # range + from/to
    old = db.session.get(User, b.id)
    old.created_at = old.created_at.replace(year=2020)
    unit_of_work.commit()
    now = int(time.time())
    assert uids(f"range=created&from={now - 3600}") == {a.uid, c.uid, sa.user.uid}
    assert uids(f"to={now - 86400}") == {b.uid}
    assert uids(f"range=updated&from={now - 3600}") == {a.uid, b.uid, c.uid, sa.user.uid}


def test_extended_list_has_unmasked_profiles(sa, make_user):
    a = make_user()
    _profile(a)
    body = sa.get(f"/users?extended=true&uid={a.uid}").get_json()
    assert set(body[0]) == USER_KEYS | {"profiles", "created_at", "updated_at"}
    assert body[0]["profiles"][0]["last_name"] == "Berezniy" and body[0]["profiles"][0]["dob"] == "1990-05-12"
    assert "profiles" not in sa.get("/users?extended=false").get_json()[0]


def test_show(sa, make_user):
    a = make_user()
    _profile(a)
    resp = sa.get(f"/users/{a.uid}")
    assert resp.status_code == 200
    body = resp.get_json()
    assert set(body) == KYC_KEYS
    assert body["profiles"][0]["last_name"] == "Berezniy"
    assert body["labels"][0]["description"] is None and "description" in body["labels"][0]
    resp = sa.get("/users/ID0000000000")
    assert resp.status_code == 404 and resp.get_json() == {"errors": ["admin.user.doesnt_exist"]}


def test_put_users_params(sa, make_user):
    a = make_user()
    resp = sa.put("/users", json={})
    assert resp.status_code == 400
    assert resp.get_json() == {"errors": ["admin.user.missing_uid", "admin.user.empty_uid"]}
    resp = sa.put("/users", json={"uid": a.uid})
    assert resp.status_code == 422 and resp.get_json() == {"errors": ["admin.user.one_of_state_otp_email"]}
    resp = sa.put("/users", json={"uid": a.uid, "state": "banned", "otp": False})
    assert resp.get_json() == {"errors": ["admin.user.one_of_state_otp_email"]}
    resp = sa.put("/users", json={"uid": "ID0000000000", "state": "banned"})
    assert resp.status_code == 404 and resp.get_json() == {"errors": ["admin.user.doesnt_exist"]}
    resp = sa.put("/users", json={"uid": a.uid, "state": ""})
    assert resp.status_code == 400 and resp.get_json() == {"errors": ["admin.user.empty_state"]}
    resp = sa.put("/users", json={"uid": a.uid, "otp": "perhaps"})
    assert resp.status_code == 422 and resp.get_json() == {"errors": ["admin.user.non_boolean_otp"]}


def _key(user, state="active"):
    key = APIKey(key_holder_account_id=user.id, key_holder_account_type="User", kid=f"k{user.id}x",
                 algorithm="HS256", state=state)
    key.secret = "s" * 32
    db.session.add(key)
    unit_of_work.commit()
    return key


def test_put_users_state_and_otp(sa, make_user):
    a = make_user()
    key = _key(a)
    resp = sa.put("/users", json={"uid": a.uid, "state": "active"})
    assert resp.status_code == 422 and resp.get_json() == {"errors": ["admin.user.state_no_change"]}
    resp = sa.put("/users", json={"uid": a.uid, "otp": True})
    assert resp.status_code == 422 and resp.get_json() == {"errors": ["admin.user.enable_2fa"]}
    assert db.session.get(APIKey, key.id).state == "active"
    resp = sa.put("/users", json={"uid": a.uid, "state": "banned"})
    assert resp.status_code == 200 and resp.get_json()["state"] == "banned"
    db.session.expire_all()
    assert db.session.get(APIKey, key.id).state == "inactive"
    b = make_user()
    labels.add(b, "otp", "enabled", scope="private")
    b.otp = True
    unit_of_work.commit()
    _key(b)
    resp = sa.put("/users", json={"uid": b.uid, "otp": "false"})
    assert resp.status_code == 200 and resp.get_json()["otp"] is False
    db.session.expire_all()
    assert not db.session.query(Label).filter_by(user_id=b.id, key="otp").count()
    assert db.session.query(APIKey).filter_by(key_holder_account_id=b.id).one().state == "inactive"
    resp = sa.put("/users", json={"uid": b.uid, "otp": False})
    assert resp.get_json() == {"errors": ["admin.user.otp_no_change"]}


def test_put_users_email(sa, api, make_user):
    a = make_user()
    resp = sa.put("/users", json={"uid": a.uid, "email": ""})
    assert resp.status_code == 400 and resp.get_json() == {"errors": ["admin.user.empty_email"]}
    resp = sa.put("/users", json={"uid": a.uid, "email": "bad_format"})
    assert resp.status_code == 422 and resp.get_json() == {"errors": ["email.invalid"]}
    resp = sa.put("/users", json={"uid": a.uid, "email": sa.user.email})
    assert resp.status_code == 422 and resp.get_json() == {"errors": ["email.taken"]}
    resp = sa.put("/users", json={"uid": a.uid, "email": "new@example.com"})
    assert resp.status_code == 200 and resp.get_json()["email"] == "new@example.com"
    assert users.by_email("NEW@example.com").id == a.id
    admin = api("admin")
    resp = admin.put("/users", json={"uid": a.uid, "email": "other@example.com"})
    assert resp.status_code == 422 and resp.get_json() == {"errors": ["superadmin.user.update_email"]}


def test_guards(api, make_user):
    admin = api("admin")
    root = make_user(role="superadmin")
    resp = admin.put("/users", json={"uid": root.uid, "state": "banned"})
    assert resp.status_code == 422 and resp.get_json() == {"errors": ["admin.user.superadmin_change"]}
    resp = admin.put("/users", json={"uid": admin.user.uid, "state": "banned"})
    assert resp.status_code == 422 and resp.get_json() == {"errors": ["admin.user.update_himself"]}
    resp = admin.post("/users/update", json={"uid": root.uid, "state": "banned"})
    assert resp.get_json() == {"errors": ["admin.user.superadmin_change"]}
    assert db.session.get(User, root.id).state == "active"


def test_legacy_update(sa, make_user):
    a, root = make_user(), make_user(role="superadmin")
    resp = sa.post("/users/update", json={"uid": a.uid, "state": "banned"})
    assert resp.status_code == 201 and resp.get_json()["state"] == "banned"
    resp = sa.post("/users/update", json={"uid": a.uid, "state": "banned"})
    assert resp.status_code == 422 and resp.get_json() == {"errors": ["admin.user.state_no_change"]}
    resp = sa.post("/users/update", json={"uid": a.uid, "email": "x@example.com"})
    assert resp.status_code == 422 and resp.get_json() == {"errors": ["admin.user.one_of_state_otp"]}
    assert sa.post("/users/update", json={"uid": root.uid, "state": "locked"}).status_code == 201
    b = make_user()
    b.otp = True
    unit_of_work.commit()
    resp = sa.post("/users/update", json={"uid": b.uid, "otp": False})
    assert resp.status_code == 201 and resp.get_json()["otp"] is False


def test_role(sa, api, make_user):
    a = make_user()
    resp = sa.post("/users/role", json={"uid": a.uid, "role": "admin"})
    assert resp.status_code == 201 and resp.get_json()["role"] == "admin"
    assert db.session.get(User, a.id).role == "admin"
    resp = sa.post("/users/role", json={"uid": a.uid, "role": "admin"})
    assert resp.status_code == 422 and resp.get_json() == {"errors": ["admin.user.role_no_change"]}
    resp = sa.post("/users/role", json={"uid": a.uid, "role": "emperor"})
    assert resp.status_code == 422 and resp.get_json() == {"errors": ["role.doesnt_exist"]}
    resp = sa.post("/users/role", json={"uid": sa.user.uid, "role": "admin"})
    assert resp.get_json() == {"errors": ["admin.user.update_himself"]}
    resp = sa.post("/users/role", json={"uid": a.uid})
    assert resp.status_code == 400 and resp.get_json() == {"errors": ["admin.user.missing_role",
                                                                      "admin.user.empty_role"]}
    resp = sa.post("/users/role", json={"uid": "ID0000000000", "role": "admin"})
    assert resp.status_code == 404
    # an admin may not change roles (gateway DROP, and the ability rule)
    admin = api("admin")
    resp = admin.post("/users/role", json={"uid": a.uid, "role": "member"})
    assert resp.status_code == 401
    assert resp.get_json()["errors"][0] in ("authz.invalid_permission", "admin.ability.not_permitted")
    assert db.session.get(User, a.id).role == "admin"


def _doc_label(user, value, scope="private"):
    labels.add(user, "document", value, scope=scope)
    unit_of_work.commit()


def test_documents_pending(sa, make_user):
    a, b, c, d = make_user(), make_user(), make_user(), make_user()
    _doc_label(b, "replaced")
    _doc_label(a, "pending")
    _doc_label(c, "pending", scope="public")
    _doc_label(d, "verified")
    _profile(a)
    # b's request is older
    lb = db.session.query(Label).filter_by(user_id=b.id, key="document").one()
    lb.updated_at = lb.updated_at.replace(year=2020)
    kyc_review.refresh_waiting(b)  # the queue reads users.kyc_waiting_since
    unit_of_work.commit()
    resp = sa.get("/users/documents/pending")
    assert resp.status_code == 200
    body = resp.get_json()
    assert [u["uid"] for u in body] == [b.uid, a.uid]
    assert set(body[0]) == USER_KEYS and resp.headers["Total"] == "2"
    body = sa.get("/users/documents/pending?extended=true").get_json()
    assert set(body[1]) == KYC_KEYS and body[1]["profiles"][0]["last_name"] == "Berezniy"
    assert [u["uid"] for u in sa.get(f"/users/documents/pending?uid={a.uid}").get_json()] == [a.uid]
    assert [u["uid"] for u in sa.get("/users/documents/pending?country=UA").get_json()] == [a.uid]
    resp = sa.get("/users/documents/pending?limit=1&page=2")
    assert [u["uid"] for u in resp.get_json()] == [a.uid] and resp.headers["Total"] == "2"
    assert sa.get("/users/documents/pending?range=nope").get_json() == {"errors": ["admin.user.invalid_range"]}


def test_data_storage_delete(sa, make_user):
    a = make_user()
    db.session.add(DataStorage(user_id=a.id, title="personal", data="{}"))
    unit_of_work.commit()
    resp = sa.delete(f"/users/data_storage?uid={a.uid}&title=company")
    assert resp.status_code == 404 and resp.get_json() == {"errors": ["admin.storage.doesnt_exist"]}
    resp = sa.delete(f"/users/data_storage?uid=ID0000000000&title=personal")
    assert resp.status_code == 404 and resp.get_json() == {"errors": ["admin.user.doesnt_exist"]}
    resp = sa.delete(f"/users/data_storage?uid={a.uid}")
    assert resp.status_code == 400 and resp.get_json() == {"errors": ["admin.user.missing_title",
                                                                      "admin.user.empty_title"]}
    resp = sa.delete(f"/users/data_storage?uid={a.uid}&title=Personal")
    assert resp.status_code == 204 and resp.data == b""
    assert db.session.query(DataStorage).count() == 0


def test_admin_writes_are_audited_once(sa, make_user):
    """An API write is recorded once: by authz when an AUDIT row matches, else by the service."""
    a = make_user()
    before = db.session.query(Activity).filter_by(category="admin").count()
    assert sa.put("/users", json={"uid": a.uid, "state": "banned"}).status_code == 200
    rows = db.session.query(Activity).filter_by(category="admin").all()
    assert len(rows) == before + 1
    row = rows[-1]
    assert row.user_id == sa.user.id and row.target_uid == a.uid and row.result == "succeed"


def test_audit_written_when_no_audit_permission(sa, make_user):
    from barong.models import Permission
    from barong.services.infra import caches

    db.session.query(Permission).filter_by(role="superadmin", action="AUDIT").delete()
    unit_of_work.commit()
    caches.clear_all()
    a = make_user()
    assert sa.put("/users", json={"uid": a.uid, "state": "banned"}).status_code == 200
    row = db.session.query(Activity).filter_by(category="admin").one()
    assert (row.topic, row.action, row.target_uid) == ("users", "update state", a.uid)
    assert '"state": "banned"' in row.data
