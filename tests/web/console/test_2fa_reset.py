"""The console's "Reset 2FA" removes the user's passkeys too, and says so before asking."""
from __future__ import annotations

import json

from barong.extensions import db
from barong.models import Activity, WebAuthnCredential
from barong.services.infra import unit_of_work
from tests.web.console.support import hx


def test_reset_2fa_removes_passkeys_with_an_audit_row(operator, console, make_user):
    me = operator("superadmin")
    client = console(me)
    user = make_user(otp=True)
    for i in range(2):
        db.session.add(WebAuthnCredential(user_id=user.id, credential_id=f"c-{user.uid}-{i}", public_key=b"\x01",
                                          name=f"Key {i}"))
    unit_of_work.commit()
    asked = client.post(f"/admin/users/{user.uid}/otp", headers=hx())
    assert asked.status_code == 200 and "every passkey" in asked.get_data(as_text=True)
    assert db.session.query(WebAuthnCredential).filter_by(user_id=user.id).count() == 2
    resp = client.post(f"/admin/users/{user.uid}/otp", data={"confirm": "1"}, headers=hx())
    assert resp.status_code == 200
    assert db.session.query(WebAuthnCredential).filter_by(user_id=user.id).count() == 0
    row = db.session.query(Activity).filter_by(user_id=me.id, action="remove passkeys").one()
    assert row.target_uid == user.uid and json.loads(row.data) == {"passkeys_removed": 2}


def test_a_passkey_only_user_shows_the_passkeys_and_can_be_reset(operator, console, make_user):
    """otp=false but a passkey: the page must not say "2FA off" alone, and offers the reset."""
    client = console(operator("superadmin"))
    user = make_user()
    db.session.add(WebAuthnCredential(user_id=user.id, credential_id=f"c-{user.uid}", public_key=b"\x01", name="Key"))
    unit_of_work.commit()
    page = client.get(f"/admin/users/{user.uid}").get_data(as_text=True)
    assert "passkeys: 1" in page and f"/admin/users/{user.uid}/otp" in page
    resp = client.post(f"/admin/users/{user.uid}/otp", data={"confirm": "1"}, headers=hx())
    assert resp.status_code == 200
    assert db.session.query(WebAuthnCredential).filter_by(user_id=user.id).count() == 0
    assert f"/admin/users/{user.uid}/otp" not in client.get(f"/admin/users/{user.uid}").get_data(as_text=True)
