"""Destructive actions ask first: a POST without confirm=1 changes nothing and answers a
confirmation naming the user and the consequence (a page without JS, the htmx target in
place); the confirmation's form re-posts the fields with confirm=1 + CSRF, which acts."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from barong.extensions import db
from barong.models import User
from barong.services.accounts import labels, sessions
from barong.services.infra import unit_of_work
from tests.helpers import login_as
from tests.web.console.support import admin_activities, hx


def _state(uid):
    db.session.expire_all()
    return db.session.query(User).filter_by(uid=uid).one()


def _session_of(app, user):
    c = app.test_client()
    login_as(c, user)
    return c


def _setup(kind, user, app):
    if kind == "otp":
        user.otp = True
        labels.add(user, "otp", "enabled", scope="private")
    if kind == "label":
        labels.add(user, "phone", "verified", scope="private")
    unit_of_work.commit()
    if kind == "revoke_all":
        _session_of(app, user)


# kind, path, form, the consequence shown, "acted?" check
CASES = [
    ("ban", "state", {"state": "banned"}, "cannot log in", lambda u: _state(u.uid).state == "banned"),
    ("delete", "state", {"state": "deleted"}, "account is closed", lambda u: _state(u.uid).state == "deleted"),
    ("role", "role", {"role": "compliance"}, "abilities of compliance", lambda u: _state(u.uid).role == "compliance"),
    ("otp", "otp", {}, "must set 2FA up again", lambda u: _state(u.uid).otp is False),
    ("label", "labels/delete", {"key": "phone", "scope": "private"}, "recomputed",
     lambda u: labels.find(_state(u.uid), "phone", "private") is None),
    ("revoke_all", "sessions/revoke-all", {}, "Every session", lambda u: sessions.list_for_user(u.uid) == []),
]


@pytest.mark.parametrize("kind,path,form,consequence,acted", CASES, ids=[c[0] for c in CASES])
def test_without_confirm_nothing_changes_and_the_confirmation_names_the_user(
        operator, console, make_user, app, kind, path, form, consequence, acted):
    me = operator("superadmin")
    client = console(me)
    user = make_user(email=f"victim-{kind.replace('_', '-')}@example.com")
    _setup(kind, user, app)

    # no JS: a confirmation page, nothing changed, nothing audited
    resp = client.post(f"/admin/users/{user.uid}/{path}", data=form)
    body = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "<html" in body
    assert user.email in body and user.uid in body and consequence in body
    assert 'name="confirm" value="1"' in body and 'name="csrf_token"' in body
    for k, v in form.items():
        assert f'name="{k}" value="{v}"' in body
    assert not acted(user) and not admin_activities(me)

    # htmx: the confirmation replaces the target in place (same id), nothing changed
    resp = client.post(f"/admin/users/{user.uid}/{path}", data=form, headers=hx(**{"HX-Target": "user-summary"}))
    body = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "<html" not in body and 'id="user-summary"' in body
    assert user.email in body and 'hx-target="#user-summary"' in body
    assert not acted(user) and not admin_activities(me)

    # the confirmation's POST (confirm=1) acts and is audited
    resp = client.post(f"/admin/users/{user.uid}/{path}", data={**form, "confirm": "1"})
    assert resp.status_code == 302 and acted(user) and admin_activities(me)


def test_confirmation_carries_a_working_csrf_token(operator, console, make_user, app):
    app.config["WTF_CSRF_ENABLED"] = True
    client = console(operator("superadmin"))
    user = make_user()
    page = client.get(f"/admin/users/{user.uid}").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    body = client.post(f"/admin/users/{user.uid}/state", data={"state": "banned", "csrf_token": token}).get_data(
        as_text=True)
    assert "Ban " + user.email in body and _state(user.uid).state == "active"
    token = re.search(r'name="csrf_token" value="([^"]+)"', body).group(1)
    resp = client.post(f"/admin/users/{user.uid}/state", data={"state": "banned", "confirm": "1", "csrf_token": token})
    assert resp.status_code == 302 and _state(user.uid).state == "banned"


def test_harmless_state_change_does_not_ask(operator, console, make_user):
    client = console(operator("superadmin"))
    user = make_user(state="banned")
    resp = client.post(f"/admin/users/{user.uid}/state", data={"state": "active"})
    assert resp.status_code == 302 and _state(user.uid).state == "active"


def test_refused_before_asking_when_not_allowed(operator, console, make_user):
    """The guard comes first: a role without the ability gets 403, not a confirmation."""
    client = console(operator("compliance"))
    user = make_user()
    resp = client.post(f"/admin/users/{user.uid}/role", data={"role": "admin"})
    assert resp.status_code == 403 and _state(user.uid).role == "member"


def test_unknown_user_is_404_not_a_confirmation(operator, console):
    client = console(operator("superadmin"))
    for path in ("state", "otp", "role", "labels/delete", "sessions/revoke-all"):
        assert client.post(f"/admin/users/UNKNOWN1/{path}", data={"state": "banned"}).status_code == 404, path


def test_kyc_keys_open_a_decision_and_never_decide(operator, console, applicant):
    """The review screen (issue 14): `a` / `r` only open a document's decision form
    (static/kyc_review.js); no outcome is preselected, so a keystroke alone decides nothing."""
    client = console(operator("superadmin"))
    user = applicant()
    body = client.get(f"/admin/kyc/{user.uid}").get_data(as_text=True)
    assert "kyc_review.js" in body
    assert 'name="outcome" value="approve"' in body and 'value="approve" checked' not in body
    js = (Path(__file__).resolve().parents[3] / "static" / "kyc_review.js").read_text()
    assert 'openDecision(key === "a" ? "approve" : "retry")' in js and ".submit()" not in js.split("keydown")[1][:600]
