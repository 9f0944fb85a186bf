"""The console's Reveal form limits the reveal to the ticked fields: the others stay masked
(the document files too, until `documents` is revealed); an unknown field is a 422 form error."""
from __future__ import annotations

from barong.extensions import db
from barong.models import Activity
from tests.web.console.support import hx


def _reveals(actor):
    db.session.expire_all()
    return db.session.query(Activity).filter_by(category="admin", user_id=actor.id, topic="pii",
                                                action="reveal").all()


def test_ticked_fields_only(operator, console, applicant):
    me, user = operator("compliance"), applicant()
    client = console(me)
    form = client.get(f"/admin/users/{user.uid}").get_data(as_text=True)
    assert 'name="fields" value="names"' in form and 'name="fields" value="documents"' in form
    resp = client.post(f"/admin/users/{user.uid}/reveal", data={"reason": "AML case 7", "fields": ["names", "dob"]})
    assert resp.status_code in (302, 303)
    page = client.get(f"/admin/users/{user.uid}").get_data(as_text=True)
    assert "Lovelace" in page and "1990-01-02" in page
    assert "AB123456" not in page and "AB****56" in page and "1 Main St" not in page
    assert 'name="reason"' in page  # the rest can still be revealed
    doc = user.documents[0]
    assert client.get(f"/admin/documents/{doc.id}/file").status_code == 403
    client.post(f"/admin/users/{user.uid}/reveal", data={"reason": "AML case 7: the passport", "fields": "documents"})
    assert client.get(f"/admin/documents/{doc.id}/file").status_code == 200
    page = client.get(f"/admin/users/{user.uid}").get_data(as_text=True)
    assert "AB123456" in page and "Lovelace" in page and "1 Main St" not in page
    assert len(_reveals(me)) == 2


def test_unknown_field_is_a_form_error(operator, console, applicant):
    me, user = operator("compliance"), applicant()
    client = console(me)
    resp = client.post(f"/admin/users/{user.uid}/reveal", data={"reason": "x", "fields": ["names", "salary"]},
                       headers=hx())
    body = resp.get_data(as_text=True)
    assert resp.status_code == 422 and 'id="pii-fields-error"' in body
    assert 'value="names" checked' in body and _reveals(me) == []
    assert "Lovelace" not in client.get(f"/admin/users/{user.uid}").get_data(as_text=True)


def test_the_kyc_screen_follows_a_partial_reveal(operator, console, applicant):
    me, user = operator("compliance"), applicant()
    client = console(me)
    client.post(f"/admin/users/{user.uid}/reveal", data={"reason": "AML case 8", "fields": "names"})
    kyc = client.get(f"/admin/kyc/{user.uid}").get_data(as_text=True)
    assert "Lovelace" in kyc and "1 Main St" not in kyc and "AB123456" not in kyc and "AB****56" in kyc
    assert "File hidden until the personal data is revealed." in kyc
    client.post(f"/admin/users/{user.uid}/reveal", data={"reason": "AML case 8", "fields": ["address", "documents"]})
    kyc = client.get(f"/admin/kyc/{user.uid}").get_data(as_text=True)
    assert "1 Main St" in kyc and "AB123456" in kyc and "File hidden until" not in kyc
