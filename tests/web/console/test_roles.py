"""Does the console grant exactly what the admin API grants each role (permissions
table + abilities), hide what it refuses, and refuse it on the server?"""
from __future__ import annotations

import pytest

from barong.services.access import permissions
from barong.services.infra import caches
from tests.web.console.support import admin_activities, hx


@pytest.mark.parametrize("role,path,status", [
    ("superadmin", "/admin/permissions", 200),
    ("admin", "/admin/permissions", 403),        # seeds DROP admin/permissions for admin
    ("compliance", "/admin/permissions", 403),
    ("compliance", "/admin/restrictions", 403),  # DROP admin/restrictions
    ("compliance", "/admin/kyc", 200),
    ("compliance", "/admin/users", 200),
    ("compliance", "/admin/activities", 403),    # no `read Activity` ability
    ("admin", "/admin/activities", 200),
    ("admin", "/admin/activities?category=admin", 403),  # DROP admin/activities/admin
    ("superadmin", "/admin/activities?category=admin", 200),
    ("technical", "/admin/restrictions", 200),
    ("technical", "/admin/kyc", 403),            # DROP GET admin/users/documents/pending
    ("accountant", "/admin/users", 200),
    ("support", "/admin/levels", 200),
    ("member", "/admin/", 403),
])
def test_page_access_matrix(operator, console, role, path, status):
    client = console(operator(role))
    assert client.get(path).status_code == status


def test_compliance_does_not_see_permissions_in_the_nav(operator, console):
    body = console(operator("compliance")).get("/admin/").get_data(as_text=True)
    assert "KYC review" in body
    assert "/admin/permissions" not in body and "/admin/restrictions" not in body


def test_superadmin_sees_every_page_in_the_nav(operator, console):
    body = console(operator("superadmin")).get("/admin/").get_data(as_text=True)
    for path in ("/admin/users", "/admin/kyc", "/admin/permissions", "/admin/restrictions", "/admin/levels",
                 "/admin/activities", "/admin/events"):
        assert f'href="{path}"' in body, path


def test_compliance_cannot_change_roles_button_hidden_and_refused(operator, console, make_user, app):
    target = make_user()
    client = console(operator("compliance"))
    page = client.get(f"/admin/users/{target.uid}").get_data(as_text=True)
    assert "Set state" in page                      # manage User
    assert "Set role" not in page                   # users/role is DROPped for compliance
    resp = client.post(f"/admin/users/{target.uid}/role", data={"role": "admin"}, headers=hx())
    assert resp.status_code == 403
    from barong.extensions import db
    db.session.expire_all()
    assert target.role == "member"
    denied = [a for a in admin_activities(topic="console") if a.result == "denied"]
    assert denied and denied[-1].action == "users.role" and denied[-1].target_uid == target.uid


def test_fragment_is_guarded_too(operator, console):
    """An htmx fragment asked for directly is refused like its page."""
    client = console(operator("compliance"))
    resp = client.get("/admin/permissions", headers=hx())
    assert resp.status_code == 403 and "toast" in resp.headers.get("HX-Trigger", "")


def test_permission_table_change_is_effective_at_once(operator, console, app):
    """Grant compliance `GET admin/permissions` (remove its DROP): the page opens for the
    next request; abilities still forbid it, so it stays 403 — both layers count."""
    client = console(operator("support"))
    assert client.get("/admin/restrictions").status_code == 403
    # support: DROP admin/restrictions. Drop the DROP row, add ACCEPT: the gateway now allows,
    # but support has no `read Restriction` ability → still refused.
    from barong.extensions import db
    from barong.models import Permission
    db.session.query(Permission).filter_by(role="support", path="api/v2/barong/admin/restrictions").delete()
    permissions.create("support", "GET", "api/v2/barong/admin/restrictions", "ACCEPT")
    db.session.commit()
    caches.clear_all()
    assert client.get("/admin/restrictions").status_code == 403
    # technical has the ability; adding a DROP row closes the page at once
    tech = console(operator("technical"))
    assert tech.get("/admin/restrictions").status_code == 200
    permissions.create("technical", "GET", "api/v2/barong/admin/restrictions", "DROP")
    db.session.commit()
    assert tech.get("/admin/restrictions").status_code == 403
