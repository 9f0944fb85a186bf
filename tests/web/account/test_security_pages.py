"""2FA set-up/disable, password change, sessions and activity pages."""
from __future__ import annotations

import re

from barong.extensions import db
from barong.models import Activity, APIKey, SessionRecord, User
from barong.services.accounts import api_keys
from barong.services.audit import activities
from barong.services.infra import unit_of_work
from barong.services.infra.request_info import RequestInfo
from tests.helpers import DEFAULT_PASSWORD, UA, login_as
from tests.web.account.conftest import HX
from tests.web.account.pages import field_error, html


def _reload(user) -> User:
    db.session.expire_all()
    return db.session.get(User, user.id)


def test_2fa_setup_shows_the_qr_code_and_the_secret(client, signed_in):
    user = signed_in()
    page = client.get("/accounts/security/2fa")
    assert page.status_code == 200 and "Set up" in html(page)
    resp = client.post("/accounts/security/2fa/setup")
    assert resp.status_code == 200
    body = html(resp)
    assert 'src="data:image/png;base64,iVBOR' in body
    secret = re.search(r'data-secret="([A-Z2-7]+)"', body).group(1)
    from barong.services.accounts import otp

    assert otp.secret_for(_reload(user)) == secret


def test_2fa_enable_needs_a_valid_code_then_shows_recovery_codes_once(client, signed_in, totp):
    user = signed_in()
    client.post("/accounts/security/2fa/setup")
    bad = client.post("/accounts/security/2fa/enable", data={"code": "123456"}, headers=HX)
    assert bad.status_code == 422 and "not valid" in field_error(bad, "code")
    assert html(bad).lstrip().startswith('<form id="otp-enable-form"')
    assert _reload(user).otp is False
    ok = client.post("/accounts/security/2fa/enable", data={"code": totp(_reload(user))}, headers=HX)
    assert ok.status_code == 200 and ok.headers["HX-Retarget"] == "body"
    codes = re.findall(r"<li>([a-z0-9-]{6,})</li>", html(ok))
    assert len(codes) == 10
    assert _reload(user).otp is True
    assert "no-store" in ok.headers["Cache-Control"]
    page = client.get("/accounts/security/2fa")
    assert codes[0] not in html(page) and "10 unused recovery codes" in html(page)


def test_2fa_enable_without_a_generated_secret_goes_back(client, signed_in):
    signed_in()
    resp = client.post("/accounts/security/2fa/enable", data={"code": "123456"})
    assert resp.status_code == 303


def test_2fa_disable(client, make_user, totp):
    user = make_user(otp=True)
    login_as(client, user, otp_code=totp(user))
    key, _ = api_keys.create(user, "HS256", require_otp=False)
    unit_of_work.commit()
    bad = client.post("/accounts/security/2fa/disable", data={"code": "000000"})
    assert bad.status_code == 422 and "not valid" in field_error(bad, "code")
    assert _reload(user).otp is True
    ok = client.post("/accounts/security/2fa/disable", data={"code": totp(user)})
    assert ok.status_code == 303
    assert _reload(user).otp is False
    assert db.session.get(APIKey, key.id).state == "inactive"


def test_password_change(client, make_user):
    user = make_user()
    login_as(client, user)
    other = client.application.test_client()
    other.environ_base["HTTP_USER_AGENT"] = UA
    login_as(other, user)
    wrong = client.post("/accounts/security/password", data={"old_password": "Nope-Passw0rd",
                                                             "new_password": "Nevv-Passw0rd-x",
                                                             "confirm_password": "Nevv-Passw0rd-x"})
    assert wrong.status_code == 422 and "not correct" in field_error(wrong, "old_password")
    mismatch = client.post("/accounts/security/password", data={"old_password": DEFAULT_PASSWORD,
                                                                "new_password": "Nevv-Passw0rd-x",
                                                                "confirm_password": "x"})
    assert mismatch.status_code == 422 and "don't match" in field_error(mismatch, "confirm_password")
    ok = client.post("/accounts/security/password", data={"old_password": DEFAULT_PASSWORD,
                                                          "new_password": "Nevv-Passw0rd-x",
                                                          "confirm_password": "Nevv-Passw0rd-x"})
    assert ok.status_code == 303
    assert db.session.query(SessionRecord).filter_by(uid=user.uid).count() == 1  # this one kept
    assert client.get("/accounts/").status_code == 200
    assert other.get("/accounts/").status_code == 302
    assert db.session.query(Activity).filter_by(user_id=user.id, action="password change",
                                                result="failed").count() == 2


def _second_session(app, user):
    other = app.test_client()
    other.environ_base["HTTP_USER_AGENT"] = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0) Safari/604.1"
    login_as(other, user)
    return other


def test_sessions_list_and_revoke_one(app, client, make_user):
    user = make_user()
    login_as(client, user)
    other = _second_session(app, user)
    page = client.get("/accounts/sessions")
    body = html(page)
    assert "this device" in body and "Safari on iPhone" in body
    sid = re.search(r'/accounts/sessions/([0-9a-f]+)/revoke', body).group(1)
    resp = client.post(f"/accounts/sessions/{sid}/revoke", headers=HX)
    assert resp.status_code == 200 and "Safari on iPhone" not in html(resp)
    assert other.get("/accounts/").status_code == 302
    assert client.get("/accounts/").status_code == 200


def test_sessions_of_someone_else_cannot_be_revoked(app, client, make_user):
    victim = make_user()
    victim_client = _second_session(app, victim)
    login_as(client, make_user())
    from barong.security.crypto import sha256_hex

    victim_sid = sha256_hex(db.session.query(SessionRecord).filter_by(uid=victim.uid).one().id)[:20]
    assert client.post(f"/accounts/sessions/{victim_sid}/revoke").status_code == 404
    assert victim_client.get("/accounts/").status_code == 200


def test_revoke_all_other_sessions(app, client, make_user):
    user = make_user()
    login_as(client, user)
    others = [_second_session(app, user) for _ in range(2)]
    resp = client.post("/accounts/sessions/revoke-others")
    assert resp.status_code == 303
    assert db.session.query(SessionRecord).filter_by(uid=user.uid).count() == 1
    assert all(o.get("/accounts/").status_code == 302 for o in others)


def test_activity_is_paginated_and_filtered(client, make_user):
    user = make_user()
    info = RequestInfo(ip="10.0.0.1", user_agent=UA)
    for i in range(25):
        activities.record(user, "otp" if i % 5 == 0 else "session", "login", "succeed", info)
    unit_of_work.commit()
    login_as(client, user)  # one more: 26 session+otp rows
    first = client.get("/accounts/activity")
    assert "Page 1 of 2 · 26 entries" in html(first)
    second = client.get("/accounts/activity?page=2", headers=HX)
    assert second.status_code == 200 and "Page 2 of 2" in html(second) and "<html" not in html(second)
    otp_only = client.get("/accounts/activity?topic=otp")
    assert "5 entries" in html(otp_only)
    none = client.get("/accounts/activity?topic=password")
    assert "No activity yet." in html(none)
    assert client.get("/accounts/activity?topic=bogus&page=x").status_code == 200


def test_operators_get_a_link_to_the_console(client, make_user):
    login_as(client, make_user(role="superadmin"))
    assert "Operator console" in html(client.get("/accounts/"))
    client.post("/accounts/logout")
    login_as(client, make_user())
    assert "Operator console" not in html(client.get("/accounts/"))
