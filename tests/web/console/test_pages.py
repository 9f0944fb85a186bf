"""Every console page renders for a superadmin, as a page and as an htmx fragment."""
from __future__ import annotations

import pytest

from tests.web.console.support import hx

PAGES = ["/admin/", "/admin/users", "/admin/kyc", "/admin/permissions", "/admin/restrictions", "/admin/levels",
         "/admin/activities", "/admin/activities?category=admin", "/admin/events"]


@pytest.mark.parametrize("path", PAGES)
def test_page_and_fragment_render(operator, console, applicant, path):
    applicant()
    client = console(operator("superadmin"))
    page = client.get(path)
    assert page.status_code == 200, page.data[:500]
    assert b'class="cx"' in page.data and b"<html" in page.data
    if path != "/admin/levels":  # a static page: nothing on it asks for a fragment
        fragment = client.get(path, headers=hx())
        assert fragment.status_code == 200
        assert b"<html" not in fragment.data


def test_user_page_renders_everything(operator, console, applicant):
    user = applicant()
    client = console(operator("superadmin"))
    resp = client.get(f"/admin/users/{user.uid}")
    assert resp.status_code == 200
    body = resp.get_data(as_text=True)
    for text in (user.email, "Lovelace", "Passport", "AB123456", "document", "Comments", "Data storage",
                 "API keys", "Recent activity"):
        assert text in body, text


def test_anonymous_is_sent_to_login(client):
    resp = client.get("/admin/users")
    assert resp.status_code == 302
    assert "/admin/users" in resp.headers["Location"]
    hx_resp = client.get("/admin/users", headers=hx())
    assert hx_resp.status_code == 401 and hx_resp.headers["HX-Redirect"]


def test_member_cannot_enter(make_user, console):
    client = console(make_user())
    assert client.get("/admin/").status_code == 403
    assert client.get("/admin/users").status_code == 403
