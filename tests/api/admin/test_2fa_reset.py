"""An operator's 2FA reset removes every second factor: TOTP, recovery codes and passkeys
(admin API, four-eyes approval; the console in tests/web/console/test_2fa_reset.py)."""
from __future__ import annotations

import json

import pytest

from barong.extensions import db
from barong.models import Activity, User, WebAuthnCredential
from barong.services.accounts import labels, otp
from barong.services.infra import unit_of_work
from tests.helpers import DEFAULT_PASSWORD

I = "/api/v2/barong/identity"


def passkeys(user, n: int) -> None:
    for i in range(n):
        db.session.add(WebAuthnCredential(user_id=user.id, credential_id=f"cred-{user.uid}-{i}",
                                          public_key=b"\xa5\x01\x02", name=f"Key {i}"))
    unit_of_work.commit()


def count(user) -> int:
    return db.session.query(WebAuthnCredential).filter_by(user_id=user.id).count()


@pytest.fixture
def four_eyes(app):
    def on(*names):
        app.config["BARONG_FOUR_EYES"] = ",".join(names)
    return on


def removal_rows(target):
    return (db.session.query(Activity)
            .filter_by(category="admin", action="remove passkeys", target_uid=target.uid).all())


def test_reset_removes_totp_recovery_codes_and_passkeys(api, make_user):
    """Does otp=false leave no factor behind, with an audit row counting the passkeys?"""
    sa = api("superadmin")
    user = make_user(otp=True)
    labels.add(user, "otp", "enabled", scope="private")
    otp.regenerate_recovery_codes(user)
    passkeys(user, 2)
    resp = sa.put("/users", json={"uid": user.uid, "otp": False})
    assert resp.status_code == 200 and resp.get_json()["otp"] is False
    db.session.expire_all()
    user = db.session.get(User, user.id)
    assert count(user) == 0 and user.otp_recovery_codes is None and user.otp_secret_encrypted is None
    assert labels.find(user, "otp", "private") is None
    rows = removal_rows(user)
    assert len(rows) == 1 and rows[0].user_id == sa.user.id and json.loads(rows[0].data)["passkeys_removed"] == 2


def test_passkey_only_user_can_be_reset_and_then_logs_in_with_the_password(api, make_user, client):
    """A user whose only factor is a passkey (otp=false): the reset is not 'no change', and
    the next login asks for nothing that no longer exists."""
    sa = api("superadmin")
    user = make_user()
    passkeys(user, 1)
    body = {"email": user.email, "password": DEFAULT_PASSWORD}
    assert client.post(f"{I}/sessions", json=body).get_json() == {"errors": ["identity.session.missing_webauthn"]}
    resp = sa.put("/users", json={"uid": user.uid, "otp": False})
    assert resp.status_code == 200, resp.get_json()
    assert count(user) == 0 and len(removal_rows(user)) == 1
    assert client.post(f"{I}/sessions", json=body).status_code == 201
    # nothing left: now it is no change
    assert sa.put("/users", json={"uid": user.uid, "otp": False}).get_json() == {"errors": ["admin.user.otp_no_change"]}


def test_reset_without_passkeys_writes_no_removal_row(api, make_user):
    sa = api("superadmin")
    user = make_user(otp=True)
    assert sa.post("/users/update", json={"uid": user.uid, "otp": False}).status_code == 201
    assert removal_rows(user) == []


def test_held_reset_removes_passkeys_on_approval(api, four_eyes, make_user):
    four_eyes("otp_reset")
    a, b = api("superadmin"), api("superadmin")
    user = make_user()
    passkeys(user, 3)
    resp = a.put("/users", json={"uid": user.uid, "otp": False})
    assert resp.status_code == 202 and count(user) == 3
    assert b.post("/approvals/approve", json={"id": resp.get_json()["id"]}).status_code == 201
    db.session.expire_all()
    assert count(user) == 0 and json.loads(removal_rows(user)[0].data) == {"passkeys_removed": 3}
