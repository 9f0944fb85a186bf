"""Issue 17 in the console: a compliance operator sees a user's personal data masked, reveals it
with a reason (one audit row), then sees it; document files are refused until then and every
file shown is one audit row."""
from __future__ import annotations

from barong.extensions import db
from barong.models import Activity
from tests.web.console.support import hx


def _pii_rows(actor, action=None):
    db.session.expire_all()
    q = db.session.query(Activity).filter_by(category="admin", user_id=actor.id, topic="pii")
    if action:
        q = q.filter_by(action=action)
    return q.order_by(Activity.id).all()


def test_compliance_masked_reveal_with_reason(operator, console, applicant):
    me, user = operator("compliance"), applicant()
    client = console(me)
    page = client.get(f"/admin/users/{user.uid}").get_data(as_text=True)
    assert "Lovelace" not in page and "L*******" in page
    assert "1990-01-02" not in page and "1990-01-**" in page
    assert "AB123456" not in page and "AB****56" in page
    assert "1 Main St" not in page
    assert 'name="reason"' in page
    doc = user.documents[0]
    assert client.get(f"/admin/documents/{doc.id}/file").status_code == 403
    kyc_resp = client.get(f"/admin/kyc/{user.uid}")
    assert kyc_resp.status_code == 200
    kyc = kyc_resp.get_data(as_text=True)
    assert "L*******" in kyc and "AB****56" in kyc
    assert "Lovelace" not in kyc and "AB123456" not in kyc
    assert _pii_rows(me) == []

    resp = client.post(f"/admin/users/{user.uid}/reveal", data={"reason": ""})
    assert resp.status_code == 422 and "Give a reason" in resp.get_data(as_text=True)
    assert client.post(f"/admin/users/{user.uid}/reveal", data={"reason": "x" * 256}).status_code == 422
    assert _pii_rows(me) == []

    resp = client.post(f"/admin/users/{user.uid}/reveal", data={"reason": "AML case 7"})
    assert resp.status_code in (302, 303)
    rows = _pii_rows(me)
    assert len(rows) == 1 and rows[0].action == "reveal" and rows[0].target_uid == user.uid
    assert "AML case 7" in rows[0].data
    page = client.get(f"/admin/users/{user.uid}").get_data(as_text=True)
    assert "Lovelace" in page and "AB123456" in page and "1990-01-02" in page
    assert len(_pii_rows(me)) == 1  # reading after the reveal writes nothing more


def test_htmx_reveal_refreshes_the_page(operator, console, applicant):
    me, user = operator("compliance"), applicant()
    client = console(me)
    resp = client.post(f"/admin/users/{user.uid}/reveal", data={"reason": "ticket 9"}, headers=hx())
    assert resp.status_code == 200 and resp.headers.get("HX-Refresh") == "true"
    bad = client.post(f"/admin/users/{user.uid}/reveal", data={"reason": " "}, headers=hx())
    assert bad.status_code == 422 and 'id="pii-reveal"' in bad.get_data(as_text=True)
    assert len(_pii_rows(me, "reveal")) == 1


def test_every_document_file_view_is_one_audit_row(operator, console, applicant):
    me, user = operator("superadmin"), applicant()
    client = console(me)
    doc = user.documents[0]
    for n in (1, 2, 3):
        assert client.get(f"/admin/documents/{doc.id}/file").status_code == 200
        rows = _pii_rows(me, "document_file")
        assert len(rows) == n and rows[-1].target_uid == user.uid
        assert f'"document_id": {doc.id}' in rows[-1].data or f'"document_id":{doc.id}' in rows[-1].data


def test_support_masked_without_reveal_form(operator, console, applicant):
    me, user = operator("support"), applicant()
    client = console(me)
    page = client.get(f"/admin/users/{user.uid}").get_data(as_text=True)
    assert "Lovelace" not in page and "Personal data is masked for your role." in page
    assert 'name="reason"' not in page
    assert client.post(f"/admin/users/{user.uid}/reveal", data={"reason": "curious"}).status_code == 403
    assert client.get(f"/admin/documents/{user.documents[0].id}/file").status_code == 403
    assert _pii_rows(me) == []


def test_admin_sees_unmasked(operator, console, applicant):
    me, user = operator("admin"), applicant()
    page = console(me).get(f"/admin/users/{user.uid}").get_data(as_text=True)
    assert "Lovelace" in page and "AB123456" in page and 'name="reason"' not in page


def test_reveal_form_and_errors_in_russian(operator, console, applicant):
    me, user = operator("compliance"), applicant()
    client = console(me)
    client.set_cookie("lang", "ru")
    page = client.get(f"/admin/users/{user.uid}").get_data(as_text=True)
    assert "Персональные данные скрыты." in page and "Раскрыть" in page
    assert "Файл скрыт, пока персональные данные не раскрыты." in page
    assert "Personal data is masked" not in page
    bad = client.post(f"/admin/users/{user.uid}/reveal", data={"reason": ""}).get_data(as_text=True)
    assert "Укажите причину раскрытия" in bad and "Раскрытие персональных данных" in bad
    support = console(operator("support"))
    assert "Для вашей роли персональные данные скрыты." in support.get(f"/admin/users/{user.uid}").get_data(as_text=True)
