"""The console lists locked accounts (issue 15): the users list's "Login lock" filter."""
from __future__ import annotations

from datetime import timedelta

from barong.extensions import db
from barong.models import User, utcnow
from barong.services.accounts import identity
from barong.services.infra import unit_of_work


def test_locked_filter(console, operator, make_user):
    admin = operator("superadmin")
    temp, perm, free = make_user(), make_user(), make_user()
    db.session.get(User, temp.id).locked_until = utcnow() + timedelta(minutes=10)
    identity.lock_account(db.session.get(User, perm.id), "test")
    db.session.get(User, free.id).locked_until = utcnow() - timedelta(minutes=1)  # an old, expired lock
    unit_of_work.commit()
    client = console(admin)
    page = client.get("/admin/users?locked=1").get_data(as_text=True)
    assert temp.uid in page and perm.uid in page and free.uid not in page and admin.uid not in page
    page = client.get("/admin/users?locked=permanent").get_data(as_text=True)
    assert perm.uid in page and temp.uid not in page
    assert "Locked accounts only" in client.get("/admin/users").get_data(as_text=True)
