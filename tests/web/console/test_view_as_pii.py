"""Personal data in "view as user" is masked by the viewer's own rights (read PersonalData,
or a live reveal), whatever BARONG_API_DATA_MASKING says (the user-facing setting)."""
from __future__ import annotations

import pytest

from barong.services.accounts import phones, profiles
from barong.services.infra import unit_of_work
from barong.services.operators import pii

PLAIN = ("Lovelace", "1990-01-02", "1 Main St", "AB123456", "380501234567", "Ada")
MASKED = ("L*******", "1990-01-**", "AB****56")
SCREENS = ("overview", "profile", "phone", "documents")


@pytest.fixture
def person(applicant):
    user = applicant()
    phones.create(user, "380501234567", verified=True)
    unit_of_work.commit()
    return user


def _pages(client, user) -> str:
    assert client.post(f"/admin/users/{user.uid}/view-as").status_code == 303
    bodies = []
    for screen in SCREENS:
        resp = client.get(f"/admin/users/{user.uid}/view-as/{screen}")
        assert resp.status_code == 200, screen
        bodies.append(resp.get_data(as_text=True))
    return "\n".join(bodies)


@pytest.mark.parametrize("api_masking", [False, True])
def test_support_sees_the_users_pages_masked(operator, console, person, app, api_masking):
    app.config["BARONG_API_DATA_MASKING"] = api_masking
    body = _pages(console(operator("support")), person)
    assert [p for p in PLAIN if p in body] == []
    assert all(m in body for m in MASKED) and "A**" in body and "+380" in body and "4567" in body


@pytest.mark.parametrize("api_masking", [False, True])
def test_admin_sees_them_unmasked(operator, console, person, app, api_masking):
    app.config["BARONG_API_DATA_MASKING"] = api_masking
    body = _pages(console(operator("admin")), person)
    assert all(p in body for p in PLAIN), [p for p in PLAIN if p not in body]


def test_a_draft_profile_form_is_masked_for_support(operator, console, make_user, app):
    app.config["BARONG_API_DATA_MASKING"] = False
    user = make_user()
    profiles.create(user, {"first_name": "Ada", "last_name": "Lovelace", "dob": "1990-01-02", "country": "GB",
                           "city": "London", "address": "1 Main St", "postcode": "N1"})
    unit_of_work.commit()
    client = console(operator("support"))
    client.post(f"/admin/users/{user.uid}/view-as")
    body = client.get(f"/admin/users/{user.uid}/view-as/profile").get_data(as_text=True)
    assert 'value="L*******"' in body and "Lovelace" not in body and "1 Main St" not in body
    assert "1990-01-02" not in body and "London" in body


def test_a_live_reveal_unmasks_the_view(operator, console, person, app, monkeypatch):
    """A role that may view and reveal (not a default one) sees the data once it revealed it."""
    from barong.services.access import abilities

    monkeypatch.setitem(abilities.EXTENSION_ABILITIES, "support",
                        {**abilities.EXTENSION_ABILITIES["support"], "reveal": ["PersonalData"]})
    app.config["BARONG_API_DATA_MASKING"] = False
    me = operator("support")
    client = console(me)
    assert "Lovelace" not in _pages(client, person)
    pii.reveal(me, person.uid, "ticket 42")
    unit_of_work.commit()
    assert all(p in _pages(client, person) for p in PLAIN)


@pytest.mark.parametrize("fields, shown, hidden", [
    (["names"], ("Lovelace", "Ada"), ("1990-01-02", "1 Main St", "AB123456", "380501234567")),
    (["dob", "phones"], ("1990-01-02", "380501234567"), ("Lovelace", "1 Main St", "AB123456")),
    (["address", "documents"], ("1 Main St", "AB123456"), ("Lovelace", "1990-01-02", "380501234567")),
])
def test_a_partial_reveal_unmasks_only_its_parts(operator, console, person, app, monkeypatch, fields, shown, hidden):
    """A reveal naming some fields (pii.FIELDS) unmasks those parts of the viewed pages, and
    only those — as on the console's own user page."""
    from barong.services.access import abilities

    monkeypatch.setitem(abilities.EXTENSION_ABILITIES, "support",
                        {**abilities.EXTENSION_ABILITIES["support"], "reveal": ["PersonalData"]})
    app.config["BARONG_API_DATA_MASKING"] = False
    me = operator("support")
    client = console(me)
    pii.reveal(me, person.uid, "ticket 43", fields=fields)
    unit_of_work.commit()
    body = _pages(client, person)
    assert [p for p in shown if p not in body] == []
    assert [p for p in hidden if p in body] == []


def test_a_partial_reveal_of_names_fills_the_draft_profile_form_with_them_only(operator, console, make_user, app,
                                                                                monkeypatch):
    from barong.services.access import abilities

    monkeypatch.setitem(abilities.EXTENSION_ABILITIES, "support",
                        {**abilities.EXTENSION_ABILITIES["support"], "reveal": ["PersonalData"]})
    user = make_user()
    profiles.create(user, {"first_name": "Ada", "last_name": "Lovelace", "dob": "1990-01-02", "country": "GB",
                           "city": "London", "address": "1 Main St", "postcode": "N1"})
    unit_of_work.commit()
    me = operator("support")
    client = console(me)
    pii.reveal(me, user.uid, "ticket 44", fields=["names"])
    unit_of_work.commit()
    client.post(f"/admin/users/{user.uid}/view-as")
    body = client.get(f"/admin/users/{user.uid}/view-as/profile").get_data(as_text=True)
    assert 'value="Lovelace"' in body and 'value="Ada"' in body
    assert "1 Main St" not in body and "1990-01-02" not in body
