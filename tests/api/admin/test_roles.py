"""Who may call what: the RBAC table (authz) first, then the admin abilities."""
import pytest

from barong.extensions import db
from barong.models import Activity, Label, Permission, Restriction, User

INVALID_PERMISSION = {"errors": ["authz.invalid_permission"]}
NOT_PERMITTED = {"errors": ["admin.ability.not_permitted"]}

ENDPOINTS = [("get", "/users"), ("get", "/users/labels/list"), ("get", "/levels"), ("get", "/permissions"),
             ("get", "/restrictions"), ("get", "/profiles"), ("get", "/activities"), ("get", "/metrics"),
             ("put", "/users"), ("post", "/users/role"), ("post", "/permissions"), ("post", "/restrictions")]


@pytest.mark.parametrize("method,path", ENDPOINTS)
def test_member_is_refused_everywhere(api, method, path):
    member = api("member")
    resp = getattr(member, method)(path, json={})
    assert resp.status_code == 401 and resp.get_json() == INVALID_PERMISSION


def test_no_session(client):
    resp = client.get("/api/v2/barong/admin/users")
    assert resp.status_code == 401 and resp.get_json() == {"errors": ["authz.invalid_session"]}


@pytest.mark.parametrize("method,path", [("get", "/permissions"), ("post", "/permissions"),
                                         ("post", "/users/role"), ("get", "/activities/admin")])
def test_admin_refused(api, make_user, method, path):
    admin = api("admin")
    target = make_user()
    body = {"uid": target.uid, "role": "trader", "verb": "get", "path": "api/v2/x", "action": "accept"}
    before = db.session.query(Permission).count()
    resp = getattr(admin, method)(path, json=body)
    assert resp.status_code == 401 and resp.get_json() == INVALID_PERMISSION
    db.session.expire_all()
    assert db.session.get(User, target.id).role == "member"
    assert db.session.query(Permission).count() == before
    # the refusal is on the audit log (authz records denied calls)
    denied = db.session.query(Activity).filter_by(category="admin", result="denied", user_id=admin.user.id).count()
    assert denied == 1


def test_admin_allowed_on_users_and_labels(api, make_user):
    admin = api("admin")
    target = make_user()
    assert admin.get("/users").status_code == 200
    assert admin.post("/users/labels", json={"uid": target.uid, "key": "vip", "value": "yes"}).status_code == 201
    assert admin.put("/users", json={"uid": target.uid, "state": "banned"}).status_code == 200
    assert admin.get("/restrictions").status_code == 200


@pytest.mark.parametrize("method,path", [("get", "/restrictions"), ("post", "/restrictions"),
                                         ("post", "/restrictions/whitelink")])
def test_compliance_refused_on_restrictions(api, method, path):
    compliance = api("compliance")
    before = db.session.query(Restriction).count()
    resp = getattr(compliance, method)(path, json={"scope": "ip", "value": "1.2.3.4", "category": "blacklist"})
    assert resp.status_code == 401 and resp.get_json() == INVALID_PERMISSION
    assert db.session.query(Restriction).count() == before


def test_compliance_reviews_users_but_not_api_keys(api, make_user):
    compliance = api("compliance")
    target = make_user()
    assert compliance.get("/users").status_code == 200
    resp = compliance.post("/users/labels", json={"uid": target.uid, "key": "kyc", "value": "passed"})
    assert resp.status_code == 201
    # passes RBAC (GET api/v2/barong/admin) but compliance has no APIKey / Activity ability
    resp = compliance.get(f"/api_keys?uid={target.uid}")
    assert resp.status_code == 401 and resp.get_json() == NOT_PERMITTED
    resp = compliance.get("/activities")
    assert resp.status_code == 401 and resp.get_json() == NOT_PERMITTED


def test_support_and_accountant(api, make_user):
    target = make_user()
    support = api("support")
    assert support.post("/users/update", json={"uid": target.uid, "state": "locked"}).status_code == 201
    resp = support.put("/users", json={"uid": target.uid, "state": "active"})
    assert resp.status_code == 401 and resp.get_json() == INVALID_PERMISSION
    assert support.get(f"/api_keys?uid={target.uid}").get_json() == NOT_PERMITTED
    accountant = api("accountant")
    assert accountant.get("/users").status_code == 200
    assert accountant.get("/users/documents/pending").get_json() == INVALID_PERMISSION
    assert accountant.get("/abilities").get_json() == {
        "read": ["Ability", "User", "Level", "Label", "Profile", "Activity"]}
    technical = api("technical")
    assert technical.post("/restrictions", json={"scope": "ip", "value": "1.2.3.9",
                                                 "category": "blacklist"}).status_code == 201
    assert technical.get("/users/documents/pending").get_json() == INVALID_PERMISSION


def test_superadmin_allowed_everywhere(sa, make_user):
    target = make_user()
    bodies = {"/users": {"uid": target.uid, "state": "banned"}, "/users/role": {"uid": target.uid, "role": "trader"},
              "/permissions": {"role": "trader", "verb": "get", "path": "api/v2/y", "action": "accept"},
              "/restrictions": {"scope": "ip", "value": "9.9.9.9", "category": "blacklist", "state": "disabled"}}
    for method, path in ENDPOINTS:
        resp = sa.get(path) if method == "get" else getattr(sa, method)(path, json=bodies[path])
        assert resp.status_code in (200, 201), (path, resp.get_json())


def test_refused_write_changes_nothing(api, make_user):
    """A refused label write on a superadmin leaves no label, no level change, no service audit row."""
    admin = api("admin")
    root = make_user(role="superadmin")
    labels_before = db.session.query(Label).count()
    resp = admin.post("/users/labels/update", json={"uid": root.uid, "key": "ban", "scope": "private",
                                                    "value": "yes"})
    assert resp.status_code == 422
    db.session.expire_all()
    assert db.session.query(Label).count() == labels_before
    assert db.session.get(User, root.id).state == "active"
    assert db.session.query(Activity).filter_by(category="admin", topic="labels").count() == 0


def test_api_key_credentials(app, make_user):
    """Admin endpoints accept the API-key headers too (CONTRACT §5)."""
    import hashlib
    import hmac
    import time as _time

    from barong.models import APIKey
    from barong.services.infra import unit_of_work

    root = make_user(role="superadmin", otp=True)
    key = APIKey(key_holder_account_id=root.id, key_holder_account_type="User", kid="adminkid0001",
                 algorithm="HS256", state="active")
    key.secret = "f" * 32
    db.session.add(key)
    unit_of_work.commit()
    nonce = str(int(_time.time() * 1000))
    sig = hmac.new(b"f" * 32, (nonce + "adminkid0001").encode(), hashlib.sha256).hexdigest()
    c = app.test_client()
    resp = c.get("/api/v2/barong/admin/users?limit=1", headers={"X-Auth-Apikey": "adminkid0001",
                                                               "X-Auth-Nonce": nonce, "X-Auth-Signature": sig,
                                                               "User-Agent": "Mozilla/5.0 pytest"})
    assert resp.status_code == 200, resp.get_json()
    assert resp.headers["Per-Page"] == "1"
