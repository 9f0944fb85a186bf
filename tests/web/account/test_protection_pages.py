"""Site pages of account protection (issue 15): the new-network refusal on the login form,
the mail links' pages (a GET never acts), known networks on the sessions page, API-key
allow-list and expiry on the API keys page, the cooldown notice on the overview."""
from __future__ import annotations

import re

import pytest

from barong.extensions import db
from barong.models import APIKey, KnownNetwork, SessionRecord, User
from barong.services.accounts import cooldown
from barong.services.infra import unit_of_work
from tests.helpers import DEFAULT_PASSWORD, login_as, totp_now

HOME, AWAY = "203.0.113.5", "198.51.100.7"


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html)
    return found.group(1) if found else ""  # the suite runs with WTF_CSRF_ENABLED=False


def site_login(client, email, ip):
    page = client.get("/accounts/login", environ_base={"REMOTE_ADDR": ip}).get_data(as_text=True)
    return client.post("/accounts/login", data={"email": email, "password": DEFAULT_PASSWORD,
                                                "csrf_token": csrf_of(page)}, environ_base={"REMOTE_ADDR": ip})


@pytest.fixture
def approval(app):
    app.config["BARONG_LOGIN_NEW_NETWORK_APPROVAL"] = True


def tokens(mailbox, user):
    mail = [m for m in mailbox(user.email) if m["Subject"] == "Sign-in from a new network"][-1]
    text = mail.get_body(preferencelist=("plain",)).get_content()
    return dict(re.findall(r"/accounts/network/(approve|deny)\?token=([\w-]+)", text))


def test_login_form_explains_the_refusal_and_the_link_page_approves(client, app, make_user, approval, mailbox):
    user = make_user()
    assert site_login(client, user.email, HOME).status_code in (302, 303)
    other = app.test_client()
    resp = site_login(other, user.email, AWAY)
    assert resp.status_code == 422
    assert "network this account has not used before" in resp.get_data(as_text=True)
    t = tokens(mailbox, user)
    page = other.get(f"/accounts/network/approve?token={t['approve']}")
    assert page.status_code == 200 and "approve the network" in page.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.query(KnownNetwork).filter_by(user_id=user.id).count() == 1  # the GET did nothing
    html = page.get_data(as_text=True)
    resp = other.post("/accounts/network/approve", data={"csrf_token": csrf_of(html), "token": t["approve"]})
    assert resp.status_code in (302, 303) and resp.headers["Location"].endswith("/accounts/login")
    db.session.expire_all()
    assert db.session.query(KnownNetwork).filter_by(user_id=user.id).count() == 2
    again = other.post("/accounts/network/approve", data={"csrf_token": csrf_of(html), "token": t["approve"]})
    assert again.status_code == 422 and "already used" in again.get_data(as_text=True)
    assert site_login(other, user.email, AWAY).status_code in (302, 303)


def test_deny_page_locks(client, app, make_user, approval, mailbox):
    user = make_user()
    site_login(client, user.email, HOME)
    site_login(app.test_client(), user.email, AWAY)
    t = tokens(mailbox, user)
    other = app.test_client()
    html = other.get(f"/accounts/network/deny?token={t['deny']}").get_data(as_text=True)
    resp = other.post("/accounts/network/deny", data={"csrf_token": csrf_of(html), "token": t["deny"]})
    assert resp.status_code in (302, 303)
    db.session.expire_all()
    assert db.session.get(User, user.id).locked_until.year == 9999
    assert db.session.query(SessionRecord).filter_by(uid=user.uid).count() == 0


def test_sessions_page_lists_and_removes_networks(client, make_user, approval):
    user = make_user()
    site_login(client, user.email, HOME)
    page = client.get("/accounts/sessions", environ_base={"REMOTE_ADDR": HOME}).get_data(as_text=True)
    assert "203.0.0.0/16" in page and "opens no session" in page
    net = db.session.query(KnownNetwork).filter_by(user_id=user.id).one()
    resp = client.post(f"/accounts/networks/{net.id}/forget", data={"csrf_token": csrf_of(page)},
                       environ_base={"REMOTE_ADDR": HOME})
    assert resp.status_code in (302, 303)
    db.session.expire_all()
    assert db.session.query(KnownNetwork).filter_by(user_id=user.id).count() == 0


def test_api_keys_page_sets_allow_list_and_expiry(client, make_user):
    user = make_user(otp=True)
    page = client.get("/accounts/login").get_data(as_text=True)
    login_as(client, user, otp_code=totp_now(user))
    fresh = db.session.get(User, user.id)
    fresh.otp_last_step = None
    db.session.commit()
    html = client.get("/accounts/api-keys").get_data(as_text=True)
    assert "trading bot" in html
    nonce = re.search(r'name="form_nonce" type="hidden" value="([^"]+)"', html)
    data = {"csrf_token": csrf_of(html), "algorithm": "HS256", "allowed_ips": "203.0.113.7, 198.51.100.0/24",
            "expires_at": "2999-01-31", "totp_code": totp_now(user)}
    if nonce:
        data["form_nonce"] = nonce.group(1)
    resp = client.post("/accounts/api-keys", data=data)
    assert resp.status_code == 200, resp.get_data(as_text=True)[:500]
    key = db.session.query(APIKey).filter_by(key_holder_account_id=user.id).one()
    assert key.allowed_ips == "203.0.113.7/32,198.51.100.0/24" and key.expires_at.year == 2999
    listed = client.get("/accounts/api-keys").get_data(as_text=True)
    assert "203.0.113.7/32, 198.51.100.0/24" in listed and "Never used" in listed
    assert page  # the login page rendered


def test_overview_shows_the_cooldown(client, make_user):
    user = make_user()
    cooldown.start(db.session.get(User, user.id), "password change")
    unit_of_work.commit()
    login_as(client, user)
    html = client.get("/accounts/").get_data(as_text=True)
    assert 'id="security-cooldown"' in html and "Withdrawals are paused" in html


def test_the_2fa_step_explains_the_refusal_too(client, app, make_user, approval, mailbox):
    user = make_user(otp=True)
    login_as(client, user, otp_code=totp_now(user))  # the first network (HOME is not used: loopback)
    fresh = db.session.get(User, user.id)
    fresh.otp_last_step = None
    db.session.commit()
    other = app.test_client()
    first = site_login(other, user.email, AWAY)
    assert first.status_code in (302, 303) and "/accounts/login/code" in first.headers["Location"]
    resp = other.post("/accounts/login/code", data={"code": totp_now(user)}, environ_base={"REMOTE_ADDR": AWAY},
                      follow_redirects=True)
    assert "network this account has not used before" in resp.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.query(SessionRecord).filter_by(uid=user.uid).count() == 1  # only the first one
    assert len([m for m in mailbox(user.email) if m["Subject"] == "Sign-in from a new network"]) == 1
