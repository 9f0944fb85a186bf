"""admin/permissions, restrictions, profiles, levels, api_keys, activities, metrics, abilities."""
import re
import time

import pytest

from barong.extensions import db
from barong.models import (
    Activity,
    APIKey,
    Level,
    Permission,
    Profile,
    Restriction,
    User,
)
from barong.services.accounts import labels, profiles
from barong.services.audit import activities
from barong.services.infra import caches, kv, unit_of_work
from barong.services.infra.request_info import RequestInfo

# ---- permissions --------------------------------------------------------------------------

def test_permissions_list_and_paging(sa):
    total = db.session.query(Permission).count()
    resp = sa.get("/permissions")
    assert resp.status_code == 200 and len(resp.get_json()) == min(total, 100)
    assert resp.headers["Total"] == str(total)
    first = db.session.query(Permission).order_by(Permission.id).first()
    resp = sa.get("/permissions?limit=1&page=1")
    assert resp.get_json() == [{"id": first.id, "action": first.action, "role": first.role, "verb": first.verb,
                                "path": first.path, "topic": first.topic,
                                "created_at": resp.get_json()[0]["created_at"],
                                "updated_at": resp.get_json()[0]["updated_at"]}]
    assert resp.headers["Per-Page"] == "1"


@pytest.mark.parametrize("body,status,codes", [
    ({"verb": "options"}, 422, ["admin.permissions.invalid_verb"]),
    ({"action": "delete"}, 422, ["admin.permissions.invalid_action"]),
    ({"role": "supertrader"}, 422, ["admin.permission.role_doesnt_exist"]),
    ({"action": ""}, 400, ["admin.permission.empty_action"]),
    ({"topic": ""}, 400, ["admin.permission.empty_topic"]),
    ({"role": None}, 400, ["admin.permission.missing_role", "admin.permission.empty_role"]),
])
def test_permissions_create_invalid(sa, body, status, codes):
    valid = {"role": "superadmin", "verb": "put", "path": "api/v2/admin", "action": "accept"}
    valid.update(body)
    valid = {k: v for k, v in valid.items() if v is not None}
    before = db.session.query(Permission).count()
    resp = sa.post("/permissions", json=valid)
    assert resp.status_code == status and resp.get_json() == {"errors": codes}
    assert db.session.query(Permission).count() == before


def test_permissions_crud_and_authz_sees_it(sa, api):
    before = db.session.query(Permission).count()
    resp = sa.post("/permissions", json={"role": "member", "verb": "get", "path": "api/v2/barong/admin/levels",
                                         "action": "accept"})
    assert resp.status_code == 201 and resp.data == b""
    perm = db.session.query(Permission).order_by(Permission.id.desc()).first()
    assert (perm.role, perm.verb, perm.action) == ("member", "GET", "ACCEPT")
    assert db.session.query(Permission).count() == before + 1
    member = api("member")
    # the RBAC cache sees the new row at once: a member may now list levels at the gateway
    assert member.client.get("/api/v2/auth/api/v2/barong/admin/levels").status_code == 200
    resp = sa.put("/permissions", json={"id": perm.id, "verb": "post", "action": "all", "path": "api/v2/x"})
    assert resp.status_code == 200
    db.session.expire_all()
    perm = db.session.get(Permission, perm.id)
    assert (perm.verb, perm.action, perm.path) == ("POST", "ALL", "api/v2/x")
    assert sa.put("/permissions", json={"id": 0, "path": "x"}).get_json() == {
        "errors": ["admin.permission.doesnt_exist"]}
    resp = sa.delete("/permissions", query_string={"id": perm.id})
    assert resp.status_code == 204 and db.session.query(Permission).count() == before
    resp = sa.delete("/permissions", query_string={"id": 0})
    assert resp.status_code == 404 and resp.get_json() == {"errors": ["admin.permission.doesnt_exist"]}


# ---- restrictions -------------------------------------------------------------------------

def _restriction(category, scope, value, **kw):
    r = Restriction(category=category, scope=scope, value=value, state=kw.get("state", "enabled"),
                    code=kw.get("code"))
    db.session.add(r)
    unit_of_work.commit()
    return r


def test_restrictions_list(sa):
    db.session.query(Restriction).delete()
    unit_of_work.commit()
    a = _restriction("blacklist", "ip", "10.0.0.1")
    b = _restriction("whitelist", "country", "Japan")
    c = _restriction("blacklist", "ip_subnet", "10.1.0.0/16")
    c.updated_at = c.updated_at.replace(year=2020)
    c.created_at = c.created_at.replace(year=2020)
    unit_of_work.commit()
    assert [r["id"] for r in sa.get("/restrictions").get_json()] == [a.id, b.id, c.id]
    assert [r["id"] for r in sa.get("/restrictions?scope=ip").get_json()] == [a.id]
    assert [r["id"] for r in sa.get("/restrictions?category=blacklist").get_json()] == [a.id, c.id]
    since = int(time.time()) - 2 * 86400
    assert [r["id"] for r in sa.get(f"/restrictions?range=updated&from={since}").get_json()] == [a.id, b.id]
    resp = sa.get("/restrictions?limit=1")
    assert len(resp.get_json()) == 1 and resp.headers["Total"] == "3"
    assert sa.get("/restrictions?scope=planet").get_json() == {"errors": ["admin.restriction.invalid_scope"]}
    assert sa.get("/restrictions?category=x").get_json() == {"errors": ["admin.restriction.invalid_category"]}
    assert sa.get("/restrictions?range=x").get_json() == {"errors": ["admin.restriction.invalid_range"]}


def test_restrictions_create(sa):
    before = db.session.query(Restriction).count()
    for body in ({"scope": "ip", "value": "127.0.0.0", "category": "blacklist"},
                 {"scope": "ip", "value": "127.0.0.2", "category": "blacklist", "code": 522},
                 {"scope": "ip", "value": "127.0.0.3", "category": "whitelist"},
                 {"scope": "all", "value": "everyone", "category": "maintenance", "state": "disabled"}):
        resp = sa.post("/restrictions", json=body)
        assert resp.status_code == 201, resp.get_json()
    assert db.session.query(Restriction).count() == before + 4
    codes = {r.value: r.code for r in db.session.query(Restriction)}
    assert (codes["127.0.0.0"], codes["127.0.0.2"], codes["everyone"]) == (401, 522, 471)
    resp = sa.post("/restrictions", json={"scope": "office", "value": "x", "category": "blacklist",
                                          "state": "running"})
    assert resp.status_code == 422
    assert resp.get_json() == {"errors": ["admin.restriction.invalid_scope", "admin.restriction.invalid_state"]}
    resp = sa.post("/restrictions", json={"scope": "ip", "value": "127.a.b.c", "category": "blacklist"})
    assert resp.status_code == 422 and "value.invalid" in resp.get_json()["errors"]
    resp = sa.post("/restrictions", json={"scope": "ip", "value": "127.0.0.0", "category": "blacklist"})
    assert resp.get_json() == {"errors": ["value.taken"]}
    resp = sa.post("/restrictions", json={"scope": "ip", "value": "1.2.3.4", "category": "allow"})
    assert resp.get_json() == {"errors": ["admin.restriction.invalid_category"]}
    resp = sa.post("/restrictions", json={"value": "1.2.3.4"})
    assert resp.status_code == 400
    assert resp.get_json()["errors"][:2] == ["admin.restriction.missing_scope", "admin.restriction.empty_scope"]
    assert db.session.query(Restriction).count() == before + 4


def test_restrictions_update_delete(sa):
    r = _restriction("blacklist", "ip", "10.0.0.7")
    assert sa.put("/restrictions", json={"id": r.id, "state": "disabled"}).status_code == 200
    assert sa.put("/restrictions", json={"id": r.id, "value": "10.0.0.8"}).status_code == 200
    resp = sa.put("/restrictions", json={"id": r.id, "scope": "ip_subnet"})
    assert resp.status_code == 422 and resp.get_json() == {"errors": ["value.invalid"]}
    assert sa.put("/restrictions", json={"id": r.id, "value": "192.168.0.abc"}).status_code == 422
    db.session.expire_all()
    row = db.session.get(Restriction, r.id)
    assert (row.scope, row.value, row.state) == ("ip", "10.0.0.8", "disabled")
    assert sa.put("/restrictions", json={"id": r.id, "scope": "ip_subnet", "value": "10.0.0.0/8"}).status_code \
        == 200
    assert sa.put("/restrictions", json={"id": r.id, "category": "whitelist"}).status_code == 200
    db.session.expire_all()
    row = db.session.get(Restriction, r.id)
    assert (row.scope, row.value, row.category) == ("ip_subnet", "10.0.0.0/8", "whitelist")
    assert sa.put("/restrictions", json={"id": 0}).get_json() == {"errors": ["admin.restriction.doesnt_exist"]}
    assert sa.delete("/restrictions", query_string={"id": 0}).status_code == 404
    assert sa.delete("/restrictions", query_string={"id": r.id}).status_code == 204
    assert db.session.get(Restriction, r.id) is None


def test_whitelink(sa):
    resp = sa.post("/restrictions/whitelink")
    assert resp.status_code == 201
    token = resp.get_json()["whitelink_token"]
    assert re.fullmatch(r"[0-9a-f]{64}", token)
    assert kv.get(f"whitelink:{token}") == "active"
    assert sa.post("/restrictions/whitelink", json={"expire_time": 30, "range": "hour"}).status_code == 201
    resp = sa.post("/restrictions/whitelink", json={"expire_time": 31})
    assert resp.status_code == 422 and "admin.restriction.invalid_expire" in resp.get_json()["errors"]
    resp = sa.post("/restrictions/whitelink", json={"range": "week"})
    assert resp.status_code == 422 and resp.get_json() == {"errors": ["admin.restriction.invalid_range"]}


# ---- profiles -----------------------------------------------------------------------------

PROFILE_KEYS = {"first_name", "last_name", "dob", "address", "postcode", "city", "country", "state", "metadata",
                "created_at", "updated_at"}


def test_profiles_list_and_create(sa, make_user):
    a = make_user()
    profiles.create(a, {"first_name": "Ivan", "last_name": "Berezniy", "dob": "1990-05-12"}, state="verified")
    unit_of_work.commit()
    resp = sa.get("/profiles?limit=1")
    assert resp.status_code == 200 and resp.headers["Total"] == "1"
    assert set(resp.get_json()[0]) == PROFILE_KEYS and resp.get_json()[0]["last_name"] == "Berezniy"
    resp = sa.post("/profiles", json={"uid": a.uid, "first_name": "Petro", "last_name": "Teylor",
                                      "dob": "1991-01-01", "country": "UA"})
    assert resp.status_code == 201, resp.get_json()
    assert resp.get_json()["state"] == "submitted" and resp.get_json()["last_name"] == "Teylor"
    p = db.session.query(Profile).order_by(Profile.id.desc()).first()
    assert p.author == sa.user.uid
    resp = sa.post("/profiles", json={"uid": a.uid, "first_name": "Again"})
    assert resp.status_code == 409 and resp.get_json() == {"errors": ["state.exists"]}
    resp = sa.post("/profiles", json={"uid": "ID0000000000"})
    assert resp.status_code == 404 and resp.get_json() == {"errors": ["admin.user.doesnt_exist"]}
    b = make_user()
    resp = sa.post("/profiles", json={"uid": b.uid, "country": "Narnia", "dob": "2999-01-01"})
    assert resp.status_code == 422
    assert db.session.query(Profile).filter_by(user_id=b.id).count() == 0


def test_profiles_review(sa, api, make_user):
    a = make_user()
    profiles.create(a, {"first_name": "Ivan"}, state="submitted")
    d = make_user()
    profiles.create(d, {"first_name": "Draft"})
    root = make_user(role="superadmin")
    profiles.create(root, {"first_name": "Root"}, state="submitted")
    unit_of_work.commit()
    resp = sa.put("/profiles", json={"uid": a.uid, "state": "verified"})
    assert resp.status_code == 200 and resp.get_json()["state"] == "verified"
    db.session.expire_all()
    assert db.session.get(User, a.id).private_labels()["profile"] == "verified"
    assert sa.put("/profiles", json={"uid": "0", "state": "verified"}).get_json() == {
        "errors": ["admin.profiles.doesnt_exist_or_not_editable"]}
    assert sa.put("/profiles", json={"uid": d.uid, "state": "verified"}).status_code == 404
    admin = api("admin")
    resp = admin.put("/profiles", json={"uid": root.uid, "state": "verified"})
    assert resp.status_code == 422 and resp.get_json() == {"errors": ["admin.profiles.superadmin_change"]}
    assert sa.put("/profiles", json={"uid": root.uid, "state": "rejected"}).status_code == 200
    b = make_user()
    profiles.create(b, {"first_name": "Ivan"}, state="submitted")
    unit_of_work.commit()
    resp = sa.put("/profiles", json={"uid": b.uid, "state": "approved"})
    assert resp.status_code == 422 and resp.get_json() == {"errors": ["state.inclusion"]}
    resp = sa.put("/profiles", json={"uid": a.uid})
    assert resp.status_code == 400 and resp.get_json() == {"errors": ["admin.profile.missing_state",
                                                                      "admin.profile.empty_state"]}


def test_profiles_double_verification(app, api, make_user):
    from barong.settings import settings

    cfg = settings()
    cfg.profile_double_verification, roles = True, cfg.profile_verification_roles
    cfg.profile_verification_roles = ["superadmin"]
    try:
        admin = api("admin")
        a = make_user()
        assert admin.post("/profiles", json={"uid": a.uid, "first_name": "Ivan"}).status_code == 201
        resp = admin.put("/profiles", json={"uid": a.uid, "state": "verified"})
        assert resp.status_code == 422 and resp.get_json() == {"errors": ["admin.profiles.second_admin_approval"]}
        assert api("superadmin").put("/profiles", json={"uid": a.uid, "state": "verified"}).status_code == 200
    finally:
        cfg.profile_double_verification, cfg.profile_verification_roles = False, roles


# ---- levels, api_keys, abilities ----------------------------------------------------------

def test_levels(sa):
    resp = sa.get("/levels")
    assert resp.status_code == 200 and "Total" not in resp.headers
    assert resp.get_json() == [{"id": l.id, "key": l.key, "value": l.value}
                               for l in db.session.query(Level).order_by(Level.id)]


def test_api_keys(sa, make_user):
    a = make_user()
    for i in range(2):
        k = APIKey(key_holder_account_id=a.id, key_holder_account_type="User", kid=f"kid{i}", algorithm="HS256")
        k.secret = "s" * 32
        db.session.add(k)
    unit_of_work.commit()
    resp = sa.get(f"/api_keys?uid={a.uid}")
    assert resp.status_code == 200 and resp.headers["Total"] == "2"
    assert set(resp.get_json()[0]) == {"kid", "algorithm", "scope", "state", "created_at", "updated_at",
                                       "allowed_ips", "expires_at", "last_used_at", "last_used_ip"}  # + issue 15
    assert [k["kid"] for k in sa.get(f"/api_keys?uid={a.uid}&ordering=desc").get_json()] == ["kid1", "kid0"]
    assert sa.get(f"/api_keys?uid={sa.user.uid}").get_json() == []
    assert sa.get("/api_keys?uid=random").get_json() == {"errors": ["admin.user.doesnt_exist"]}
    assert sa.get(f"/api_keys?uid={a.uid}&order_by=length").get_json() == {
        "errors": ["api_keys.ordering.invalid_attribute"]}
    assert sa.get(f"/api_keys?uid={a.uid}&ordering=res").get_json() == {
        "errors": ["api_keys.ordering.invalid_ordering"]}
    assert sa.get("/api_keys").get_json() == {"errors": ["admin.apikey.missing_uid", "admin.apikey.empty_uid"]}


def test_abilities(api):
    assert api("admin").get("/abilities").get_json() == {
        "manage": ["Ability", "User", "Level", "Label", "Profile", "APIKey", "Restriction", "Document"],
        "read": ["Activity", "Permission"]}
    resp = api("member").get("/abilities")
    assert resp.status_code in (200, 401)  # members: {} in Barong; the RBAC table may refuse the path
    if resp.status_code == 200:
        assert resp.get_json() == {}


# ---- activities and metrics ---------------------------------------------------------------

def _act(user, topic, action, result="succeed", category="user", target=None):
    info = RequestInfo(ip="8.8.8.8", user_agent="Mozilla/5.0 test")
    if category == "admin":
        activities.record_admin(user, topic, action, result, info, target_uid=target)
    else:
        activities.record(user, topic, action, result, info)
    unit_of_work.commit()


def test_activities(sa, make_user):
    db.session.query(Activity).delete()
    unit_of_work.commit()
    a, b = make_user(), make_user()
    _act(a, "session", "login")
    _act(b, "session", "login")
    _act(a, "otp", "enable 2FA")
    _act(sa.user, "users", "update", category="admin", target=a.uid)
    resp = sa.get("/activities")
    body = resp.get_json()
    assert resp.status_code == 200 and resp.headers["Total"] == "3"
    assert [x["topic"] for x in body] == ["otp", "session", "session"]  # newest first
    assert set(body[0]) == {"user_ip", "user_ip_country", "user_agent", "topic", "action", "result", "data", "user",
                            "created_at"}
    assert body[0]["user"]["email"] == a.email
    assert len(sa.get("/activities?action=login").get_json()) == 2
    assert len(sa.get(f"/activities?uid={a.uid}").get_json()) == 2
    assert len(sa.get(f"/activities?email={b.email}").get_json()) == 1
    assert len(sa.get("/activities?topic=otp").get_json()) == 1
    assert len(sa.get(f"/activities?topic=session&action=login&uid={a.uid}").get_json()) == 1
    assert sa.get("/activities?from=x").get_json() == {"errors": ["admin.activity.non_integer_from"]}
    assert len(sa.get(f"/activities?from={int(time.time()) + 3600}").get_json()) == 0
    body = sa.get("/activities/admin").get_json()
    admin_rows = [x for x in body if x["topic"] == "users"]
    assert admin_rows[0]["admin"]["email"] == sa.user.email and admin_rows[0]["target"]["email"] == a.email
    assert len(sa.get(f"/activities/admin?target_uid={a.uid}").get_json()) == 1
    assert sa.get("/activities/admin?range=updated").get_json() == {"errors": ["admin.activity.invalid_range"]}


def test_metrics(sa, make_user):
    db.session.query(Activity).delete()
    db.session.query(User).filter(User.id != sa.user.id).delete()
    unit_of_work.commit()
    resp = sa.get("/metrics")
    assert resp.status_code == 200
    assert resp.get_json() == {"signups": {}, "sucessful_logins": {}, "failed_logins": {},
                               "pending_applications": 0}
    a = make_user()
    _act(a, "account", "signup")
    _act(a, "session", "login")
    _act(a, "session", "login", result="failed")
    _act(a, "session", "login::2fa")
    labels.add(a, "document", "pending", scope="private")
    unit_of_work.commit()
    today = time.strftime("%Y-%m-%d", time.gmtime())
    body = sa.get("/metrics").get_json()
    assert body == {"signups": {today: 1}, "sucessful_logins": {today: 1}, "failed_logins": {today: 1},
                    "pending_applications": 1}
    body = sa.get(f"/metrics?created_from={int(time.time()) + 3600}&extended=true").get_json()
    assert body["signups"] == {} and body["users_total"] == 2 and body["users_by_state"] == {"active": 2}
    assert sa.get("/metrics?created_from=tomorrow").get_json() == {"errors": ["admin.metrics.invalid_time"]}


def test_openapi_documents_admin_endpoints(client):
    doc = client.get("/api/v2/barong/swagger").get_json()
    comments = doc["paths"]["/api/v2/barong/admin/users/comments"]
    assert set(comments) == {"post", "put", "delete"}
    assert "201" in comments["post"]["responses"] and "204" in comments["delete"]["responses"]
    users = doc["paths"]["/api/v2/barong/admin/users"]["get"]
    assert {p["name"] for p in users["parameters"]} >= {"uid", "email", "role", "first_name", "last_name", "country",
                                                        "level", "state", "range", "from", "to", "ordering",
                                                        "order_by", "extended", "page", "limit"}
    assert "Total" in users["responses"]["200"]["headers"]
