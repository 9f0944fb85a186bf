"""Permissions and restrictions editors (effective at once in authz), whitelinks, levels."""
from __future__ import annotations

import json

import pytest

from barong.extensions import db
from barong.models import Permission, Restriction
from barong.services.infra import kv
from tests.web.console.support import admin_activities, hx


@pytest.fixture
def root(operator, console):
    me = operator("superadmin")
    return console(me), me


def test_permission_added_in_console_changes_the_gateway_answer(root, make_user, app):
    """A member may not GET api/v2/peatio/admin; one ACCEPT row later the gateway lets it through."""
    client, me = root
    member = make_user()
    other = app.test_client()
    other.environ_base["HTTP_USER_AGENT"] = client.environ_base["HTTP_USER_AGENT"]
    from tests.helpers import login_as
    login_as(other, member)
    assert other.get("/api/v2/auth/api/v2/peatio/admin/orders").status_code == 401
    resp = client.post("/admin/permissions", data={"role": "member", "verb": "get", "path": "api/v2/peatio/admin",
                                                   "action": "accept"}, headers=hx())
    assert resp.status_code == 200 and "toast" in resp.headers["HX-Trigger"]
    perm = db.session.query(Permission).filter_by(role="member", path="api/v2/peatio/admin").one()
    assert (perm.verb, perm.action) == ("GET", "ACCEPT")
    ok = other.get("/api/v2/auth/api/v2/peatio/admin/orders")
    assert ok.status_code == 200 and ok.headers["Authorization"].startswith("Bearer ")
    row = admin_activities(me, "permissions")[-1]
    assert row.action == "create" and json.loads(row.data)["path"] == "api/v2/peatio/admin"
    # and deleting it closes the door again
    assert client.post(f"/admin/permissions/{perm.id}/delete", headers=hx()).status_code == 200
    assert other.get("/api/v2/auth/api/v2/peatio/admin/orders").status_code == 401


@pytest.mark.parametrize("data,code,field", [
    ({"role": "member", "verb": "fly", "path": "api/v2/x", "action": "accept"}, "admin.permissions.invalid_verb", "verb"),
    ({"role": "member", "verb": "get", "path": "api/v2/x", "action": "maybe"}, "admin.permissions.invalid_action",
     "action"),
    ({"role": "emperor", "verb": "get", "path": "api/v2/x", "action": "accept"},
     "admin.permission.role_doesnt_exist", "role"),
    ({"role": "member", "verb": "get", "path": "", "action": "accept"}, "path.blank", "path"),
])
def test_permission_bad_input_is_422_with_field_error(root, data, code, field):
    client, me = root
    before = db.session.query(Permission).count()
    resp = client.post("/admin/permissions", data=data, headers=hx())
    body = resp.get_data(as_text=True)
    assert resp.status_code == 422 and code in body and 'aria-invalid="true"' in body
    assert db.session.query(Permission).count() == before and not admin_activities(me, "permissions")


def test_permission_inline_edit(root):
    client, me = root
    perm = db.session.query(Permission).filter_by(role="member").first()
    form = client.get(f"/admin/permissions/{perm.id}/row?edit=1", headers=hx()).get_data(as_text=True)
    assert f'id="perm-edit-{perm.id}"' in form
    resp = client.post(f"/admin/permissions/{perm.id}", data={"role": "member", "verb": "POST", "path": perm.path,
                                                              "action": "DROP", "topic": ""}, headers=hx())
    assert resp.status_code == 200 and f'id="perm-{perm.id}"' in resp.get_data(as_text=True)
    db.session.expire_all()
    assert (perm.verb, perm.action) == ("POST", "DROP")
    assert admin_activities(me, "permissions")[-1].action == "update"


def test_permission_inline_edit_invalid_is_422(root):
    client, _ = root
    perm = db.session.query(Permission).filter_by(role="member").first()
    resp = client.post(f"/admin/permissions/{perm.id}", data={"role": "member", "verb": "JUMP", "path": perm.path,
                                                              "action": "ACCEPT"}, headers=hx())
    assert resp.status_code == 422 and "invalid_verb" in resp.get_data(as_text=True)
    db.session.expire_all()
    assert perm.verb != "JUMP"


def test_unknown_permission_is_404(root):
    client, _ = root
    assert client.post("/admin/permissions/999999/delete", headers=hx()).status_code == 404


def test_admin_cannot_edit_permissions_even_by_posting(operator, console):
    client = console(operator("admin"))
    resp = client.post("/admin/permissions", data={"role": "member", "verb": "get", "path": "api/v2/x",
                                                   "action": "accept"})
    assert resp.status_code == 403
    assert db.session.query(Permission).filter_by(path="api/v2/x").count() == 0


# ---- restrictions -------------------------------------------------------------------------------

def test_restriction_blocks_the_gateway_at_once(root):
    """Blacklisting an IP in the console is effective for that IP's next request."""
    console_client, me = root
    anon = console_client.application.test_client()
    far = {"X-Forwarded-For": "203.0.113.9"}
    path = "/api/v2/auth/api/v2/barong/public/timestamp"
    assert anon.get(path, headers=far).status_code == 200
    resp = console_client.post("/admin/restrictions", data={"category": "blacklist", "scope": "ip",
                                                            "value": "203.0.113.9", "state": "enabled", "code": ""},
                               headers=hx())
    assert resp.status_code == 200
    r = db.session.query(Restriction).filter_by(value="203.0.113.9").one()
    assert r.code == 401
    blocked = anon.get(path, headers=far)
    assert blocked.status_code == 401 and blocked.get_json() == {"errors": ["authz.restrict.blacklist"]}
    assert anon.get(path).status_code == 200  # other addresses pass
    assert console_client.post(f"/admin/restrictions/{r.id}/delete", headers=hx()).status_code == 200
    assert anon.get(path, headers=far).status_code == 200
    assert [a.action for a in admin_activities(me, "restrictions")] == ["create", "delete"]


@pytest.mark.parametrize("data,code", [
    ({"category": "blacklist", "scope": "ip", "value": "not-an-ip"}, "value.invalid"),
    ({"category": "blacklist", "scope": "ip_subnet", "value": "10.0.0.1"}, "value.invalid"),
    ({"category": "bogus", "scope": "ip", "value": "1.2.3.4"}, "admin.restriction.invalid_category"),
    ({"category": "blacklist", "scope": "ip", "value": "1.2.3.4", "code": "abc"}, "non_integer_code"),
])
def test_restriction_bad_input_is_422(root, data, code):
    client, _ = root
    before = db.session.query(Restriction).count()
    resp = client.post("/admin/restrictions", data={"state": "enabled", **data}, headers=hx())
    assert resp.status_code == 422 and code in resp.get_data(as_text=True)
    assert db.session.query(Restriction).count() == before


def test_restriction_duplicate_is_value_taken(root):
    client, _ = root
    data = {"category": "blacklist", "scope": "ip", "value": "1.2.3.4", "state": "enabled"}
    assert client.post("/admin/restrictions", data=data, headers=hx()).status_code == 200
    resp = client.post("/admin/restrictions", data=data, headers=hx())
    assert resp.status_code == 422 and "value.taken" in resp.get_data(as_text=True)


def test_restriction_inline_edit_revalidates(root):
    client, me = root
    client.post("/admin/restrictions", data={"category": "blacklist", "scope": "ip", "value": "1.2.3.4",
                                             "state": "enabled"}, headers=hx())
    r = db.session.query(Restriction).filter_by(value="1.2.3.4").one()
    bad = client.post(f"/admin/restrictions/{r.id}", data={"category": "blacklist", "scope": "ip_subnet",
                                                           "value": "1.2.3.4", "state": "enabled"}, headers=hx())
    assert bad.status_code == 422 and "value.invalid" in bad.get_data(as_text=True)
    db.session.expire_all()
    assert r.scope == "ip"
    ok = client.post(f"/admin/restrictions/{r.id}", data={"category": "blacklist", "scope": "ip_subnet",
                                                          "value": "1.2.3.0/24", "state": "disabled"}, headers=hx())
    assert ok.status_code == 200
    db.session.expire_all()
    assert (r.scope, r.value, r.state) == ("ip_subnet", "1.2.3.0/24", "disabled")


@pytest.mark.parametrize("data,code", [
    ({"category": "blacklist", "scope": "ip", "value": "1.2.3.4", "state": ""}, "admin.restriction.invalid_state"),
    ({"category": "blacklist", "scope": "planet", "value": "1.2.3.4", "state": "enabled"},
     "admin.restriction.invalid_scope"),
    ({"category": "blacklist", "scope": "ip", "value": "1.2.3.4", "state": "enabled", "code": "4o3"},
     "non_integer_code"),
])
def test_restriction_inline_edit_bad_input_is_422(root, data, code):
    client, _ = root
    client.post("/admin/restrictions", data={"category": "blacklist", "scope": "ip", "value": "1.2.3.4",
                                             "state": "enabled"}, headers=hx())
    r = db.session.query(Restriction).filter_by(value="1.2.3.4").one()
    resp = client.post(f"/admin/restrictions/{r.id}", data=data, headers=hx())
    assert resp.status_code == 422 and code in resp.get_data(as_text=True)
    db.session.expire_all()
    assert (r.scope, r.state, r.code) == ("ip", "enabled", 401)


def test_whitelink(root):
    client, me = root
    resp = client.post("/admin/restrictions/whitelink", data={"expire_time": "2", "range": "hour"}, headers=hx())
    body = resp.get_data(as_text=True)
    assert resp.status_code == 200 and 'id="whitelink-token"' in body
    token = body.split('id="whitelink-token">')[1].split("<")[0]
    assert len(token) >= 32 and kv.get(f"whitelink:{token}") == "active"
    row = admin_activities(me, "restrictions")[-1]
    assert row.action == "create whitelink" and token not in (row.data or "")


@pytest.mark.parametrize("data,code", [({"expire_time": "31", "range": "day"}, "invalid_expire"),
                                       ({"expire_time": "x", "range": "day"}, "invalid_expire"),
                                       ({"expire_time": "1", "range": "week"}, "invalid_range")])
def test_whitelink_bad_input_is_422(root, data, code):
    client, _ = root
    resp = client.post("/admin/restrictions/whitelink", data=data, headers=hx())
    assert resp.status_code == 422 and code in resp.get_data(as_text=True)


def test_levels_page(root, make_user):
    client, _ = root
    make_user()
    body = client.get("/admin/levels").get_data(as_text=True)
    assert "email" in body and "document" in body and "Users at this level" in body
