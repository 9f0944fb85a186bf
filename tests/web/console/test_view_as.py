"""Read-only "view as user" (barong.web.console.view_as, barong.services.operators.view_as):
the operator sees the user's account pages as the user does, can change nothing, a banner
says so, every page shown is audited, and the view ends when left or after 15 minutes."""
from __future__ import annotations

import json
import re
import time

import pytest

from barong.extensions import db
from barong.models import Activity, APIKey, User
from barong.services.access import abilities
from barong.services.accounts import api_keys, otp, sessions
from barong.services.infra import unit_of_work
from barong.services.operators import view_as
from barong.web.console.view_as import SCREENS
from tests.conftest import UA
from tests.helpers import login_as
from tests.web.console.support import hx

BANNER = "as they see it. Read-only."


def _rows(actor, action=None, result=None):
    db.session.expire_all()
    q = db.session.query(Activity).filter_by(category="admin", user_id=actor.id, topic="users")
    if action:
        q = q.filter_by(action=action)
    if result:
        q = q.filter_by(result=result)
    return q.order_by(Activity.id).all()


def _user_signed_in_elsewhere(app, user):
    """The user's own browser: one live session of theirs."""
    c = app.test_client()
    c.environ_base["HTTP_USER_AGENT"] = UA
    login_as(c, user)
    return c


def _snapshot(user):
    db.session.expire_all()
    fresh = db.session.get(User, user.id)
    rows = sorted((s.id, s.last_seen_at, s.expire_time, s.user_agent) for s in sessions.list_for_user(user.uid))
    return rows, fresh.updated_at, fresh.failed_logins


@pytest.fixture
def viewing(operator, console, make_user):
    """viewing(role="support") → (operator, client with an open view of `user`, user)."""
    def open_view(role="support", **user_kw):
        me = operator(role)
        client = console(me)
        user = make_user(email=user_kw.pop("email", None) or f"viewed-{time.time_ns()}@example.com", **user_kw)
        resp = client.post(f"/admin/users/{user.uid}/view-as")
        assert resp.status_code == 303
        assert resp.headers["Location"].endswith(f"/admin/users/{user.uid}/view-as/overview")
        return me, client, user
    return open_view


# ---- the pages -----------------------------------------------------------------------------------

def test_every_screen_is_the_users_page_read_only_with_the_banner_and_one_audit_row(viewing, app):
    me, client, user = viewing()
    key, _secret = api_keys.create(user, "HS256", require_otp=False)
    unit_of_work.commit()
    assert [r.action for r in _rows(me)] == ["start view as user"]
    for screen in SCREENS:
        resp = client.get(f"/admin/users/{user.uid}/view-as/{screen}")
        body = resp.get_data(as_text=True)
        assert resp.status_code == 200, screen
        assert f"You are viewing {user.email} {BANNER}" in body
        assert 'action="/admin/view-as/leave"' in body  # the way out
        # the page is inside a disabled frame that htmx does not process
        assert '<fieldset class="view-as-frame" disabled hx-disable>' in body
        frame = body.split('<fieldset class="view-as-frame" disabled hx-disable>', 1)[1]
        # every form of the page posts to a view-as URL (refused), never to the site
        for action in re.findall(r'(?:action|hx-post|hx-get|hx-delete|hx-put)="([^"]+)"', frame):
            assert action.startswith(f"/admin/users/{user.uid}/view-as/"), (screen, action)
        for url in re.findall(r'="(/accounts/[^"]*)"', frame):  # href, action, data-*-url…
            pytest.fail(f"{screen}: a URL of the operator's own account {url}")
        assert f'title="{user.email}"' in body and me.email not in frame  # the user's page, not the operator's
    assert key.kid in client.get(f"/admin/users/{user.uid}/view-as/api-keys").get_data(as_text=True)
    pages = _rows(me, "view as user")
    assert [json.loads(r.data)["page"] for r in pages] == list(SCREENS) + ["api-keys"]
    assert {r.target_uid for r in pages} == {user.uid} and {r.result for r in pages} == {"succeed"}


def test_the_nav_links_stay_in_the_view_and_the_current_screen_is_marked(viewing):
    _me, client, user = viewing()
    body = client.get(f"/admin/users/{user.uid}/view-as/sessions").get_data(as_text=True)
    assert f'href="/admin/users/{user.uid}/view-as/sessions" aria-current="page"' in body
    assert f'href="/admin/users/{user.uid}/view-as/profile"' in body
    # the activity pager keeps its query through the view-as URL
    resp = client.get(f"/admin/users/{user.uid}/view-as/activity?topic=session&page=1")
    assert resp.status_code == 200


def test_no_session_for_the_user_and_their_sessions_are_untouched(viewing, app):
    _me, client, user = viewing()
    _user_signed_in_elsewhere(app, user)
    before = _snapshot(user)
    assert len(before[0]) == 1
    for screen in ("overview", "sessions", "activity", "2fa"):
        assert client.get(f"/admin/users/{user.uid}/view-as/{screen}").status_code == 200
    assert _snapshot(user) == before
    # no login of the user was recorded
    db.session.expire_all()
    logins = db.session.query(Activity).filter_by(user_id=user.id, category="user", topic="session").count()
    assert logins == 1  # their own sign-in above, nothing more


def test_the_operator_stays_the_operator(viewing):
    me, client, user = viewing()
    assert client.get(f"/admin/users/{user.uid}/view-as/overview").status_code == 200
    me_api = client.get("/api/v2/barong/resource/users/me")
    assert me_api.status_code == 200 and me_api.get_json()["email"] == me.email
    site = client.get("/accounts/").get_data(as_text=True)
    assert f'title="{me.email}"' in site and BANNER not in site
    console_page = client.get(f"/admin/users/{user.uid}").get_data(as_text=True)
    assert BANNER not in console_page


# ---- nothing can be changed ----------------------------------------------------------------------

@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
@pytest.mark.parametrize("screen", ["api-keys", "password", "api_keys_create", "sessions_revoke_others", "logout"])
def test_any_write_on_a_view_url_is_403_changes_nothing_and_is_recorded(viewing, app, method, screen):
    me, client, user = viewing()
    _user_signed_in_elsewhere(app, user)
    before = _snapshot(user)
    digest = user.password_digest
    resp = getattr(client, method)(f"/admin/users/{user.uid}/view-as/{screen}",
                                   data={"old_password": "x", "new_password": "Brand-new-Passw0rd",
                                         "confirm_password": "Brand-new-Passw0rd", "algorithm": "HS256"})
    assert resp.status_code == 403
    assert "Nothing can be changed" in resp.get_data(as_text=True)
    assert _snapshot(user) == before
    db.session.expire_all()
    assert db.session.get(User, user.id).password_digest == digest
    assert db.session.query(APIKey).count() == 0
    denied = _rows(me, "view as user", "denied")
    assert len(denied) == 1 and denied[0].target_uid == user.uid
    assert json.loads(denied[0].data) == {"page": screen, "method": method.upper()}


def test_htmx_calls_get_no_fragment_and_cannot_write(viewing):
    _me, client, user = viewing()
    resp = client.get(f"/admin/users/{user.uid}/view-as/api-keys", headers=hx())
    assert resp.status_code == 204 and resp.headers["HX-Redirect"] == f"/admin/users/{user.uid}/view-as/api-keys"
    resp = client.post(f"/admin/users/{user.uid}/view-as/api-keys", headers=hx())
    assert resp.status_code == 403


def test_with_csrf_on_a_crafted_post_carrying_the_token_is_still_403(viewing, app):
    me, client, user = viewing()
    app.config["WTF_CSRF_ENABLED"] = True
    page = client.get(f"/admin/users/{user.uid}/view-as/password").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    resp = client.post(f"/admin/users/{user.uid}/view-as/password_change",
                       data={"csrf_token": token, "old_password": "x", "new_password": "Brand-new-Passw0rd",
                             "confirm_password": "Brand-new-Passw0rd"})
    assert resp.status_code == 403
    # the leave form carries the token and works
    resp = client.post("/admin/view-as/leave", data={"csrf_token": token, "uid": user.uid})
    assert resp.status_code == 303 and view_as.ACTION_LEAVE in [r.action for r in _rows(me)]


def test_secret_material_is_never_shown(viewing, app):
    _me, client, user = viewing(otp=True)
    key, secret = api_keys.create(user, "HS512", require_otp=False)
    unit_of_work.commit()
    totp_secret = otp.secret_for(user)
    bodies = {s: client.get(f"/admin/users/{user.uid}/view-as/{s}").get_data(as_text=True) for s in SCREENS}
    for screen, body in bodies.items():
        assert secret not in body, screen
        assert totp_secret not in body and " ".join(totp_secret[i:i + 4] for i in range(0, 16, 4)) not in body
        assert "otpauth://" not in body and "data:image/png" not in body
    assert key.kid in bodies["api-keys"]


def test_a_2fa_set_up_in_progress_shows_no_secret(viewing):
    _me, client, user = viewing()
    secret, _url, _png = otp.generate_secret(user)
    unit_of_work.commit()
    body = client.get(f"/admin/users/{user.uid}/view-as/2fa").get_data(as_text=True)
    assert secret not in body and "otpauth://" not in body


# ---- who, when, how long -------------------------------------------------------------------------

@pytest.mark.parametrize("role", ["compliance", "technical", "accountant", "member"])
def test_roles_without_the_ability_are_refused(operator, console, make_user, role):
    me = operator(role)
    client = console(me)
    user = make_user()
    assert "View as" not in client.get(f"/admin/users/{user.uid}").get_data(as_text=True)
    assert client.post(f"/admin/users/{user.uid}/view-as").status_code == 403
    assert client.get(f"/admin/users/{user.uid}/view-as/overview").status_code == 403
    assert not _rows(me, "start view as user") and not _rows(me, "view as user", "succeed")


@pytest.mark.parametrize("role", ["superadmin", "admin", "support"])
def test_the_ability_defaults(role):
    assert abilities.can(User(role=role), "read", "UserView")


def test_an_abilities_file_naming_userview_decides(app, tmp_path):
    path = tmp_path / "abilities.yml"
    path.write_text("support:\n  read: [User, UserView]\nadmin:\n  manage: [User]\n")
    app.config["BARONG_ABILITIES_FILE"] = str(path)
    app.extensions.pop("barong_abilities", None)
    try:
        assert abilities.can(User(role="support"), "read", "UserView")
        assert not abilities.can(User(role="admin"), "read", "UserView")
    finally:
        app.extensions.pop("barong_abilities", None)


def test_a_superadmin_is_viewed_only_by_a_superadmin(operator, console, make_user):
    me = operator("admin")
    client = console(me)
    boss = make_user(role="superadmin")
    page = client.get(f"/admin/users/{boss.uid}").get_data(as_text=True)
    assert "View as" not in page
    resp = client.post(f"/admin/users/{boss.uid}/view-as")
    assert resp.status_code == 302 and not _rows(me, "start view as user")
    assert client.get(f"/admin/users/{boss.uid}/view-as/overview").status_code == 302  # no view open


def test_without_an_open_view_the_pages_send_back_to_the_user_page(operator, console, make_user):
    me = operator("support")
    client = console(me)
    user, other = make_user(), make_user()
    resp = client.get(f"/admin/users/{user.uid}/view-as/overview")
    assert resp.status_code == 302 and resp.headers["Location"].endswith(f"/admin/users/{user.uid}")
    # a view of one user opens nobody else's pages
    client.post(f"/admin/users/{user.uid}/view-as")
    assert client.get(f"/admin/users/{other.uid}/view-as/overview").status_code == 302
    assert not _rows(me, "view as user")


def test_another_operator_session_does_not_share_the_view(viewing, app):
    me, _client, user = viewing()
    other = app.test_client()
    other.environ_base["HTTP_USER_AGENT"] = UA
    login_as(other, me)
    assert other.get(f"/admin/users/{user.uid}/view-as/overview").status_code == 302


def test_it_ends_by_itself_after_15_minutes(viewing, monkeypatch):
    _me, client, user = viewing()
    assert client.get(f"/admin/users/{user.uid}/view-as/overview").status_code == 200
    real = time.time
    monkeypatch.setattr(view_as.time, "time", lambda: real() + view_as.VIEW_SECONDS + 1)
    resp = client.get(f"/admin/users/{user.uid}/view-as/overview")
    assert resp.status_code == 302 and resp.headers["Location"].endswith(f"/admin/users/{user.uid}")
    assert view_as.VIEW_SECONDS == 15 * 60


def test_leaving_ends_it_and_is_audited(viewing):
    me, client, user = viewing()
    resp = client.post("/admin/view-as/leave", data={"uid": user.uid})
    assert resp.status_code == 303 and resp.headers["Location"].endswith(f"/admin/users/{user.uid}")
    assert client.get(f"/admin/users/{user.uid}/view-as/overview").status_code == 302
    assert [r.action for r in _rows(me)] == ["start view as user", "leave view as user"]
    # leaving again (nothing open) is harmless and not audited
    assert client.post("/admin/view-as/leave", data={"uid": user.uid}).status_code == 303
    assert len(_rows(me)) == 2


def test_a_role_taken_away_mid_view_closes_the_pages(viewing):
    me, client, user = viewing()
    db.session.get(User, me.id).role = "compliance"
    unit_of_work.commit()
    assert client.get(f"/admin/users/{user.uid}/view-as/overview").status_code == 403


def test_unknown_screen_and_user(viewing):
    _me, client, user = viewing()
    assert client.get(f"/admin/users/{user.uid}/view-as/api_keys_create").status_code == 404
    assert client.get("/admin/users/ID0000000000/view-as/overview").status_code == 404
    assert client.post("/admin/users/ID0000000000/view-as").status_code == 404


def test_signed_out_visitors_go_to_the_login(client, make_user):
    user = make_user()
    resp = client.get(f"/admin/users/{user.uid}/view-as/overview")
    assert resp.status_code == 302 and "/accounts/login" in resp.headers["Location"]


def test_the_viewed_user_is_swapped_in_for_the_render_only_and_put_back_even_on_error(app, make_user):
    from flask import g
    from flask_login import current_user

    from barong.web.console.view_as import _rendering_for

    op, user = make_user(role="support"), make_user()
    with app.test_request_context("/admin/"):
        g._login_user = op
        with _rendering_for(user, {"uid": user.uid}):
            assert current_user.uid == user.uid and g.view_as_page["uid"] == user.uid
        assert current_user.uid == op.uid and "view_as_page" not in g
        with pytest.raises(RuntimeError), _rendering_for(user, {"uid": user.uid}):
            raise RuntimeError("boom")
        assert current_user.uid == op.uid and "view_as_page" not in g


def test_whatever_an_account_view_flushes_is_rolled_back_only_the_audit_row_stays(viewing, app, monkeypatch):
    me, client, user = viewing()
    original = app.view_functions["account.home"]

    def writing_view():
        from flask_login import current_user

        current_user.username = "written_in_view"
        db.session.flush()
        return original()

    monkeypatch.setitem(app.view_functions, "account.home", writing_view)
    assert client.get(f"/admin/users/{user.uid}/view-as/overview").status_code == 200
    db.session.expire_all()
    assert db.session.get(User, user.id).username is None
    assert len(_rows(me, "view as user")) == 1


def test_the_site_blueprints_context_processors_run_for_the_viewed_user(viewing, app, monkeypatch):
    """The site's templates rely on the account blueprint's context processors, which Flask
    runs only for that blueprint's requests: the view runs them, as the viewed user."""
    _me, client, user = viewing()
    seen = []

    def probe():
        from flask_login import current_user

        seen.append(current_user.uid)
        return {}

    monkeypatch.setitem(app.template_context_processors, "account",
                        [*app.template_context_processors.get("account", []), probe])
    assert client.get(f"/admin/users/{user.uid}/view-as/sessions").status_code == 200
    assert seen and set(seen) == {user.uid}
