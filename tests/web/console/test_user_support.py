"""The user page's support card: sessions (revoke one / all), password-reset and
confirmation mails, required actions — DB/store state, mail, admin audit row, refusals,
and what each role sees."""
from __future__ import annotations

import re

import pytest

from barong.services.accounts import required_actions, sessions
from tests.helpers import UA, login_as
from tests.web.console.support import admin_activities, hx


@pytest.fixture
def admin_client(operator, console):
    me = operator("superadmin")
    return console(me), me


def _session_of(app, user):
    c = app.test_client()
    c.environ_base["HTTP_USER_AGENT"] = UA
    login_as(c, user)
    return c


def _sids(body):
    return re.findall(r'data-session="([0-9a-f]+)"', body)


def test_user_page_lists_sessions(admin_client, make_user, app):
    client, _ = admin_client
    user = make_user()
    _session_of(app, user)
    body = client.get(f"/admin/users/{user.uid}").get_data(as_text=True)
    assert 'id="user-support"' in body and len(_sids(body)) == 1 and UA in body and "127.0.0.1" in body


def test_revoke_one_session(admin_client, make_user, app):
    client, me = admin_client
    user = make_user()
    first, _second = _session_of(app, user), _session_of(app, user)
    sids = _sids(client.get(f"/admin/users/{user.uid}").get_data(as_text=True))
    resp = client.post(f"/admin/users/{user.uid}/sessions/{sids[0]}/revoke", headers=hx())
    assert resp.status_code == 200 and "toast" in resp.headers["HX-Trigger"]
    assert len(_sids(resp.get_data(as_text=True))) == 1
    assert len(sessions.list_for_user(user.uid)) == 1
    assert admin_activities(me, "sessions")[-1].action == "revoke session"


def test_revoke_unknown_session_is_404(admin_client, make_user):
    client, me = admin_client
    user = make_user()
    resp = client.post(f"/admin/users/{user.uid}/sessions/deadbeef/revoke", headers=hx())
    assert resp.status_code == 404 and not admin_activities(me, "sessions")
    assert "already ended" in resp.headers["HX-Trigger"]


def test_revoke_all_sessions_without_js_redirects(admin_client, make_user, app):
    client, me = admin_client
    user = make_user()
    _session_of(app, user), _session_of(app, user)
    resp = client.post(f"/admin/users/{user.uid}/sessions/revoke-all", data={"confirm": "1"})
    assert resp.status_code == 302 and resp.headers["Location"].endswith(f"/admin/users/{user.uid}")
    assert sessions.list_for_user(user.uid) == []
    assert admin_activities(me, "sessions")[-1].action == "revoke all sessions"


def test_password_reset_mail(admin_client, make_user, mailbox):
    client, me = admin_client
    user = make_user()
    before = len(mailbox(user.email))
    resp = client.post(f"/admin/users/{user.uid}/password-reset", headers=hx())
    assert resp.status_code == 200 and len(mailbox(user.email)) == before + 1
    assert admin_activities(me, "users")[-1].action == "send password reset"


def test_confirmation_mail_button_only_for_unconfirmed(admin_client, make_user, mailbox):
    client, me = admin_client
    pending, confirmed = make_user(state="pending"), make_user()
    assert "Resend confirmation mail" in client.get(f"/admin/users/{pending.uid}").get_data(as_text=True)
    assert "Resend confirmation mail" not in client.get(f"/admin/users/{confirmed.uid}").get_data(as_text=True)
    assert client.post(f"/admin/users/{pending.uid}/confirmation", headers=hx()).status_code == 200
    assert mailbox(pending.email)
    before = len(mailbox(confirmed.email))  # the "email verified" label mail of its creation
    resp = client.post(f"/admin/users/{confirmed.uid}/confirmation", headers=hx())
    assert resp.status_code == 422 and len(mailbox(confirmed.email)) == before


def test_require_and_drop_actions(admin_client, make_user):
    client, me = admin_client
    user = make_user()
    resp = client.post(f"/admin/users/{user.uid}/required-actions",
                       data={"action": ["change_password", "enable_2fa"]}, headers=hx())
    assert resp.status_code == 200 and 'data-field="required-actions"' in resp.get_data(as_text=True)
    assert required_actions.pending(user.uid) == ("change_password", "enable_2fa")
    assert admin_activities(me, "users")[-1].action == "require action"
    assert "Required at the next sign-in" in client.get(f"/admin/users/{user.uid}").get_data(as_text=True)
    resp = client.post(f"/admin/users/{user.uid}/required-actions/delete", data={"action": "enable_2fa"},
                       headers=hx())
    assert resp.status_code == 200 and required_actions.pending(user.uid) == ("change_password",)


def test_require_nothing_is_422(admin_client, make_user):
    client, me = admin_client
    user = make_user()
    resp = client.post(f"/admin/users/{user.uid}/required-actions", data={}, headers=hx())
    assert resp.status_code == 422 and required_actions.pending(user.uid) == ()
    assert "Pick what the user must do." in resp.headers["HX-Trigger"]
    assert not admin_activities(me, "users")


def test_support_role_sees_and_uses_the_card(operator, console, make_user, app):
    client = console(operator("support"))
    user = make_user()
    _session_of(app, user)
    body = client.get(f"/admin/users/{user.uid}").get_data(as_text=True)
    assert "Revoke all sessions" in body and "Send password-reset mail" in body and "Require" in body
    assert client.post(f"/admin/users/{user.uid}/sessions/revoke-all", data={"confirm": "1"},
                       headers=hx()).status_code == 200


def test_accountant_sees_no_sessions_and_is_refused(operator, console, make_user, app):
    client = console(operator("accountant"))
    user = make_user()
    _session_of(app, user)
    body = client.get(f"/admin/users/{user.uid}").get_data(as_text=True)
    assert not _sids(body) and "Revoke all sessions" not in body and "Send password-reset mail" not in body
    assert client.post(f"/admin/users/{user.uid}/sessions/revoke-all", headers=hx()).status_code == 403
    assert client.post(f"/admin/users/{user.uid}/required-actions", data={"action": "change_password"},
                       headers=hx()).status_code == 403
    assert len(sessions.list_for_user(user.uid)) == 1 and required_actions.pending(user.uid) == ()


def test_unknown_user_is_404(admin_client):
    client, _ = admin_client
    for path in ("/admin/users/UNKNOWN1/sessions/revoke-all", "/admin/users/UNKNOWN1/password-reset",
                 "/admin/users/UNKNOWN1/required-actions"):
        assert client.post(path, data={"action": "change_password"}, headers=hx()).status_code == 404, path


def test_admin_cannot_force_a_superadmin(operator, console):
    root = operator("superadmin")
    client = console(operator("admin"))
    resp = client.post(f"/admin/users/{root.uid}/required-actions", data={"action": "change_password"},
                       headers=hx())
    assert resp.status_code == 422 and "Only a superadmin" in resp.headers["HX-Trigger"]
    assert required_actions.pending(root.uid) == ()


def test_support_forms_need_the_csrf_token(operator, console, make_user, app):
    """The card's forms carry the token; a post without it is refused and changes nothing."""
    app.config["WTF_CSRF_ENABLED"] = True
    client = console(operator("superadmin"))
    user = make_user()
    _session_of(app, user)
    body = client.get(f"/admin/users/{user.uid}").get_data(as_text=True)
    card = body[body.index('id="user-support"'):]
    assert card.count('name="csrf_token"') >= 4
    assert client.post(f"/admin/users/{user.uid}/sessions/revoke-all").status_code == 400
    assert client.post(f"/admin/users/{user.uid}/required-actions", data={"action": "enable_2fa"}).status_code == 400
    assert len(sessions.list_for_user(user.uid)) == 1 and required_actions.pending(user.uid) == ()
    token = re.search(r'name="csrf_token" value="([^"]+)"', card).group(1)
    resp = client.post(f"/admin/users/{user.uid}/required-actions", data={"action": "enable_2fa", "csrf_token": token})
    assert resp.status_code == 302 and required_actions.pending(user.uid) == ("enable_2fa",)
