"""A NUL byte typed into the site or the console (issue 13, item 12): PostgreSQL refuses it in
text, so it used to be a 500 on login; now a 400 page, and nothing is looked up or written.
Run also with TEST_DATABASE_URL."""
from __future__ import annotations

import pytest

from barong.extensions import db
from barong.models import Activity, User
from tests.helpers import DEFAULT_PASSWORD


@pytest.mark.parametrize("path,data", [
    ("/accounts/login", {"email": "a\x00@b.co", "password": "x"}),
    ("/accounts/signup", {"email": "n\x00@b.co", "password": DEFAULT_PASSWORD,
                          "password_confirmation": DEFAULT_PASSWORD}),
    ("/accounts/password_reset", {"email": "a@b.co\x00"}),
])
def test_nul_in_a_site_form_is_400(client, path, data):
    resp = client.post(path, data=data)
    assert resp.status_code == 400 and resp.mimetype == "text/html"
    assert db.session.query(User).count() == 0 and db.session.query(Activity).count() == 0


def test_nul_in_a_console_filter_is_400(client, make_user, login):
    admin = make_user(role="superadmin")
    login(client, admin)
    assert client.get("/admin/users", query_string={"uid": "a\x00b"}).status_code == 400
    assert client.get("/admin/users", query_string={"uid": "ab"}).status_code == 200
