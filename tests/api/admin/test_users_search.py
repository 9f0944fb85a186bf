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


def _profile(user, **fields):
    from barong.extensions import db
    from barong.models import Profile

    profile = Profile(user_id=user.id, country=fields.pop("country", None))
    for name, value in fields.items():
        setattr(profile, name, value)
    db.session.add(profile)
    return profile


def test_total_counts_each_matching_user_once(api, make_user):
    """Is `Total` (counted on the matching ids alone, for `q` or `country` alone) a count of
    users — one for a user matched by two readings of `q`, or with two profiles in the country?"""
    from barong.services.infra import unit_of_work

    sa = api("superadmin")
    both = make_user(email="kovalenko@example.com")
    _profile(both, country="UA", last_name="Kovalenko")   # email part and last name
    _profile(both, country="UA", first_name="Kovalenko")   # and first name, in a second profile
    other = make_user(email="other@example.com")
    _profile(other, country="UA", last_name="Shevchenko")
    make_user(email="elsewhere@example.com")
    unit_of_work.commit()
    resp = sa.get("/users?q=kovalenko")
    assert [u["uid"] for u in resp.get_json()] == [both.uid] and resp.headers["Total"] == "1"
    resp = sa.get("/users?country=UA")
    assert [u["uid"] for u in resp.get_json()] == [both.uid, other.uid] and resp.headers["Total"] == "2"
    assert both.level == other.level
    resp = sa.get(f"/users?country=UA&level={both.level}&limit=1&page=2")
    assert [u["uid"] for u in resp.get_json()] == [other.uid] and resp.headers["Total"] == "2"
    resp = sa.get("/users?q=shevchenko&country=UA")
    assert [u["uid"] for u in resp.get_json()] == [other.uid] and resp.headers["Total"] == "1"


def test_pages_cut_in_the_order_of_the_whole_list(api, make_user):
    """Pages (the page's ids cut first, then joined to their users) follow the list's order,
    the `id` tie-break ascending in both directions, on every page."""
    from datetime import datetime

    from barong.services.infra import unit_of_work

    sa = api("superadmin")
    same, later = datetime(2026, 1, 1, 12, 0, 0), datetime(2026, 1, 2, 12, 0, 0)
    people = [make_user(email=f"{name}@pages.example.com") for name in ("dora", "abe", "cleo", "bo", "eve")]
    for person, stamp in zip(people, (same, later, same, same, later)):
        person.created_at = stamp
    unit_of_work.commit()
    rows = [(p.uid, p.id, p.email, p.created_at) for p in people]
    expected = {
        ("id", "asc"): sorted(rows, key=lambda r: r[1]),
        ("id", "desc"): sorted(rows, key=lambda r: -r[1]),
        ("email", "asc"): sorted(rows, key=lambda r: r[2]),
        ("email", "desc"): sorted(rows, key=lambda r: r[2], reverse=True),
        ("created_at", "asc"): sorted(rows, key=lambda r: (r[3], r[1])),
        ("created_at", "desc"): sorted(rows, key=lambda r: (-r[3].timestamp(), r[1])),
    }
    for (column, direction), order in expected.items():
        got = []
        for page in (1, 2, 3):
            resp = sa.get(f"/users?q=pages.example&order_by={column}&ordering={direction}&limit=2&page={page}")
            assert resp.headers["Total"] == "5"
            got += [u["uid"] for u in resp.get_json()]
        assert got == [r[0] for r in order], (column, direction)
