"""A reveal's `fields` are enforced (admin/users/reveal): only the named parts of the user's
personal data are unmasked for the operator, the others stay masked; unknown names are 422
admin.pii.invalid_field and reveal nothing."""
from __future__ import annotations

import pytest

from tests.api.admin.test_pii_reveal import CLEAR, _admin_rows, _pii, person  # noqa: F401 - fixture

MASKED = ("A**", "L*******", "1990-01-**", "1********", "N*", "44******3456", "AB****56")
# _pii's columns: first, last, dob, address, postcode, phone, document number
COLUMNS = {"names": (0, 1), "dob": (2,), "address": (3, 4), "phones": (5,), "documents": (6,)}


def expected(*fields):
    shown = {i for f in fields for i in COLUMNS[f]}
    return tuple(CLEAR[i] if i in shown else MASKED[i] for i in range(len(CLEAR)))


@pytest.mark.parametrize("fields", ["names", "dob", "address", "phones", "documents", "names,documents",
                                    " phones , dob "])
def test_only_the_named_fields_are_unmasked(api, person, fields):
    c = api("compliance")
    assert _pii(c.get(f"/users/{person.uid}").get_json()) == MASKED
    resp = c.post("/users/reveal", json={"uid": person.uid, "reason": "AML case 42", "fields": fields})
    assert resp.status_code == 201, resp.get_json()
    names = [f.strip() for f in fields.split(",")]
    assert _pii(resp.get_json()) == expected(*names)
    assert _pii(c.get(f"/users/{person.uid}").get_json()) == expected(*names)  # the mark, later requests


def test_no_fields_reveals_everything_and_a_second_reveal_adds(api, person):
    c = api("compliance")
    c.post("/users/reveal", json={"uid": person.uid, "reason": "case 1", "fields": "names"})
    c.post("/users/reveal", json={"uid": person.uid, "reason": "case 1, the address too", "fields": "address"})
    assert _pii(c.get(f"/users/{person.uid}").get_json()) == expected("names", "address")
    c.post("/users/reveal", json={"uid": person.uid, "reason": "case 2"})
    assert _pii(c.get(f"/users/{person.uid}").get_json()) == CLEAR


@pytest.mark.parametrize("fields", ["names,salary", "NAMES", ["names"], {"names": True}, 5])
def test_unknown_fields_are_422_and_reveal_nothing(api, person, fields):
    c = api("compliance")
    resp = c.post("/users/reveal", json={"uid": person.uid, "reason": "ok", "fields": fields})
    assert resp.status_code == 422 and resp.get_json() == {"errors": ["admin.pii.invalid_field"]}
    assert _pii(c.get(f"/users/{person.uid}").get_json()) == MASKED


def test_the_reveal_row_names_the_fields(app, make_user, person):
    from barong.services.infra import unit_of_work
    from barong.services.operators import pii

    me = make_user(role="compliance")
    pii.reveal(me, person.uid, "case 3", "documents,names")
    unit_of_work.commit()
    rows = [r for r in _admin_rows(me) if r.action == "reveal"]
    assert len(rows) == 1 and '"fields": ["names", "documents"]' in rows[0].data
    assert pii.sees(me, person.uid, "names") and not pii.sees(me, person.uid, "dob")
    assert not pii.sees(me, person.uid)  # "all of it" needs every field
