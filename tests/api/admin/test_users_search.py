"""GET admin/users?q= — the console's one search box, in the admin API (same service)."""
from __future__ import annotations

from tests.web.console.test_console_search import _searchable


def test_admin_api_users_q(api, make_user):
    sa = api("superadmin")
    who, other = _searchable(make_user)
    body = sa.get("/users?q=%2B447700900123").get_json()
    assert [u["uid"] for u in body] == [who.uid]
    assert [u["uid"] for u in sa.get("/users?q=ab123456").get_json()] == [who.uid]
    assert [u["uid"] for u in sa.get("/users?q=gracie").get_json()] == [other.uid]
    assert sa.get("/users?q=nobody-at-all").get_json() == []
    assert [u["uid"] for u in sa.get(f"/users?q=hopper&uid={who.uid}").get_json()] == [who.uid]
    assert sa.get(f"/users?q=hopper&uid={other.uid}").get_json() == []
    # existing params keep working, errors unchanged
    assert sa.get("/users?q=hopper&level=x").get_json() == {"errors": ["admin.user.non_integer_level"]}


def test_admin_api_users_q_needs_read_user(api):
    assert api("member").get("/users?q=x").status_code in (401, 403)


def test_admin_api_kyc_queue_q(api, make_user):
    sa = api("superadmin")
    who, _ = _searchable(make_user)
    assert [u["uid"] for u in sa.get("/users/documents/pending?q=AB123456").get_json()] == [who.uid]
    assert sa.get("/users/documents/pending?q=gracie").get_json() == []
