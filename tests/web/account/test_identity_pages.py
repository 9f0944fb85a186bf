"""Sign up, email confirmation, log in (+2FA step), log out, forgot/reset password, CSRF,
language choice and error pages of the end-user site."""
from __future__ import annotations

import html as htmllib
import re

import pytest

from barong.extensions import db
from barong.models import Activity, SessionRecord, User
from barong.services.accounts import users
from tests.helpers import DEFAULT_PASSWORD, login_as, token_from_mail
from tests.web.account.conftest import HX


def html(resp) -> str:
    return htmllib.unescape(resp.get_data(as_text=True))


def field_error(resp, field: str) -> str:
    """The error text rendered next to `field` (id="<field>-error")."""
    m = re.search(rf'id="{field}-error">([^<]*)<', resp.get_data(as_text=True))
    return htmllib.unescape(m.group(1)) if m else ""


@pytest.fixture
def not_first(app, make_user):
    """Another account exists, so a signup is a normal (pending) one."""
    make_user(email="someone@example.com")


# ---- sign up ------------------------------------------------------------------------------------

def test_signup_creates_a_pending_user_and_sends_the_confirmation_mail(client, not_first, mailbox):
    resp = client.post("/accounts/signup", data={"email": "New@Example.com", "password": DEFAULT_PASSWORD})
    assert resp.status_code == 303 and resp.headers["Location"].endswith("/accounts/confirmation/sent")
    user = users.by_email("new@example.com")
    assert user.state == "pending" and user.level == 0
    assert "_barong_session" in resp.headers.get("Set-Cookie", "")
    assert len(mailbox(to="New@Example.com")) == 1
    page = client.get("/accounts/confirmation/sent")
    assert "We sent a confirmation link to New@Example.com" in html(page)


def test_first_signup_becomes_the_active_superadmin(client):
    resp = client.post("/accounts/signup", data={"email": "root@example.com", "password": DEFAULT_PASSWORD})
    assert resp.status_code == 303 and resp.headers["Location"].endswith("/accounts/")
    assert users.by_email("root@example.com").role == "superadmin"


@pytest.mark.parametrize("email,password,field,message", [
    ("not-an-email", DEFAULT_PASSWORD, "email", "doesn't look like an email"),
    ("someone@example.com", DEFAULT_PASSWORD, "email", "already exists"),
    ("ok@example.com", "short", "password", "8 to 80 characters"),
    ("ok@example.com", "Password1", "password", "too easy to guess"),
    ("", DEFAULT_PASSWORD, "email", "required"),
])
def test_signup_refusals_are_shown_next_to_the_field(client, not_first, email, password, field, message):
    before = db.session.query(User).count()
    resp = client.post("/accounts/signup", data={"email": email, "password": password})
    assert resp.status_code == 422
    assert message in field_error(resp, field)
    assert 'aria-invalid="true"' in html(resp)
    assert db.session.query(User).count() == before  # nothing written


def test_signup_refusal_over_htmx_is_the_form_partial_with_422(client, not_first):
    resp = client.post("/accounts/signup", data={"email": "x@example.com", "password": "short"}, headers=HX)
    assert resp.status_code == 422
    body = html(resp)
    assert body.lstrip().startswith('<form id="signup-form"') and "<html" not in body
    assert 'id="flashes" hx-swap-oob="true"' in body


def test_signup_over_htmx_redirects_with_hx_redirect(client, not_first):
    resp = client.post("/accounts/signup", data={"email": "hx@example.com", "password": DEFAULT_PASSWORD},
                       headers=HX)
    assert resp.status_code == 204
    assert resp.headers["HX-Redirect"].endswith("/accounts/confirmation/sent")


def test_signup_with_an_unknown_referral_code(client, not_first):
    resp = client.post("/accounts/signup", data={"email": "r@example.com", "password": DEFAULT_PASSWORD,
                                                 "refid": "ID0000000000"})
    assert resp.status_code == 422
    assert "referral code is not valid" in field_error(resp, "refid")


@pytest.mark.parametrize("password,expect", [
    ("abc", "8 to 80 characters"),
    ("Password1", "too easy to guess"),
    (DEFAULT_PASSWORD, "Strong"),
])
def test_password_strength_hint_uses_the_signup_checker(client, password, expect):
    resp = client.post("/accounts/password/strength", data={"password": password}, headers=HX)
    assert resp.status_code == 200 and expect in html(resp)


# ---- confirmation -------------------------------------------------------------------------------

def _signup(client, email="c@example.com"):
    client.post("/accounts/signup", data={"email": email, "password": DEFAULT_PASSWORD})
    return users.by_email(email)


def test_mail_link_page_confirms_on_post(client, not_first, mailbox):
    user = _signup(client)
    token = token_from_mail(mailbox(to=user.email)[-1])
    page = client.get(f"/accounts/confirmation?token={token}&lang=en")
    assert page.status_code == 200 and f'value="{token}"' in html(page)
    assert users.by_email(user.email).state == "pending"  # a GET changes nothing
    resp = client.post("/accounts/confirmation", data={"token": token})
    assert resp.status_code == 303 and resp.headers["Location"].endswith("/accounts/")
    db.session.expire_all()
    user = users.by_email(user.email)
    assert user.state == "active" and user.level == 1
    assert db.session.query(SessionRecord).filter_by(uid=user.uid).count() == 1  # the sign-up one replaced
    again = client.post("/accounts/confirmation", data={"token": token})
    assert again.status_code == 422


def test_confirmation_with_a_bad_token_says_so(client):
    resp = client.post("/accounts/confirmation", data={"token": "not.a.jwt"})
    assert resp.status_code == 422
    assert "invalid or has expired" in html(resp) and "Send me a new link" in html(resp)
    missing = client.post("/accounts/confirmation", data={})
    assert missing.status_code == 422


def test_resend_sends_a_new_mail_without_telling_who_exists(client, not_first, mailbox):
    user = _signup(client, "resend@example.com")
    resp = client.post("/accounts/confirmation/resend", data={"email": user.email})
    assert resp.status_code == 303
    assert len(mailbox(to=user.email)) == 2
    unknown = client.post("/accounts/confirmation/resend", data={"email": "nobody@example.com"})
    assert unknown.status_code == 303  # same answer


# ---- log in / log out ---------------------------------------------------------------------------

def test_login_opens_a_session_and_records_activity(client, make_user):
    user = make_user()
    resp = client.post("/accounts/login", data={"email": user.email, "password": DEFAULT_PASSWORD})
    assert resp.status_code == 303 and resp.headers["Location"].endswith("/accounts/")
    assert db.session.query(SessionRecord).filter_by(uid=user.uid).count() == 1
    assert client.get("/accounts/").status_code == 200
    assert db.session.query(Activity).filter_by(user_id=user.id, action="login", result="succeed").count() == 1


def test_login_failure_is_one_generic_message(client, make_user):
    user = make_user()
    for email, password in ((user.email, "Wrong-Passw0rd"), ("nobody@example.com", DEFAULT_PASSWORD)):
        resp = client.post("/accounts/login", data={"email": email, "password": password})
        assert resp.status_code == 422
        assert "Wrong email or password." in html(resp)
        assert 'value="Wrong' not in html(resp)  # the password is not echoed back
    assert db.session.query(SessionRecord).count() == 0
    assert db.session.query(Activity).filter_by(user_id=user.id, result="failed").count() == 1  # durable


def test_login_with_2fa_asks_for_the_code_then_signs_in(client, make_user, totp):
    user = make_user(otp=True)
    resp = client.post("/accounts/login", data={"email": user.email, "password": DEFAULT_PASSWORD,
                                                "next": "/accounts/api-keys"})
    assert resp.status_code == 303 and "/accounts/login/code" in resp.headers["Location"]
    assert db.session.query(SessionRecord).count() == 0
    step = client.get(resp.headers["Location"])
    assert step.status_code == 200 and "Authentication code" in html(step)
    bad = client.post("/accounts/login/code?next=/accounts/api-keys", data={"code": "000000"})
    assert bad.status_code == 422 and "not valid" in field_error(bad, "code")
    ok = client.post("/accounts/login/code?next=/accounts/api-keys", data={"code": totp(user)})
    assert ok.status_code == 303 and ok.headers["Location"].endswith("/accounts/api-keys")
    assert db.session.query(SessionRecord).filter_by(uid=user.uid).count() == 1
    assert client.get("/accounts/login/code").status_code == 303  # the pending login is gone


def test_login_second_step_accepts_a_recovery_code_once(client, make_user, totp):
    from barong.services.accounts import otp
    from barong.services.infra import unit_of_work

    user = make_user(otp=True)
    codes = otp.regenerate_recovery_codes(user)
    unit_of_work.commit()
    for expected in (303, 422):
        client.post("/accounts/login", data={"email": user.email, "password": DEFAULT_PASSWORD})
        resp = client.post("/accounts/login/code", data={"code": codes[0]})
        assert resp.status_code == expected
        client.post("/accounts/logout")


def test_login_code_step_without_a_pending_login_goes_back(client):
    resp = client.get("/accounts/login/code")
    assert resp.status_code == 303 and resp.headers["Location"].endswith("/accounts/login")


def test_next_must_stay_on_this_site(client, make_user):
    user = make_user()
    resp = client.post("/accounts/login", data={"email": user.email, "password": DEFAULT_PASSWORD,
                                                "next": "https://evil.example/"})
    assert resp.headers["Location"].endswith("/accounts/")
    client.post("/accounts/logout")
    resp = client.post("/accounts/login", data={"email": user.email, "password": DEFAULT_PASSWORD,
                                                "next": "//evil.example/x"})
    assert resp.headers["Location"].endswith("/accounts/")


def test_logout_ends_the_session(client, make_user):
    user = make_user()
    login_as(client, user)
    resp = client.post("/accounts/logout")
    assert resp.status_code == 303 and resp.headers["Location"].endswith("/accounts/login")
    assert db.session.query(SessionRecord).count() == 0
    assert client.get("/accounts/").status_code == 302


def test_pages_need_a_session(client):
    resp = client.get("/accounts/api-keys")
    assert resp.status_code == 302 and "/accounts/login?next=/accounts/api-keys" in resp.headers["Location"]
    hx = client.post("/accounts/api-keys", headers=HX)
    assert hx.status_code == 401 and "/accounts/login" in hx.headers["HX-Redirect"]


# ---- password reset -----------------------------------------------------------------------------

def test_forgot_and_reset_password(client, make_user, mailbox):
    user = make_user()
    login_as(client, user)  # a session that the reset must end
    resp = client.post("/accounts/password/forgot", data={"email": user.email})
    assert resp.status_code == 200 and "we sent it a link" in html(resp)
    token = token_from_mail(mailbox(to=user.email)[-1])
    page = client.get(f"/accounts/password_reset?token={token}&lang=en")
    assert page.status_code == 200 and f'value="{token}"' in html(page)
    mismatch = client.post("/accounts/password_reset", data={"token": token, "password": "Nevv-Passw0rd-x",
                                                             "confirm_password": "other"})
    assert mismatch.status_code == 422 and "don't match" in field_error(mismatch, "confirm_password")
    weak = client.post("/accounts/password_reset", data={"token": token, "password": "Password1",
                                                         "confirm_password": "Password1"})
    assert weak.status_code == 422 and "too easy" in field_error(weak, "password")
    ok = client.post("/accounts/password_reset", data={"token": token, "password": "Nevv-Passw0rd-x",
                                                       "confirm_password": "Nevv-Passw0rd-x"})
    assert ok.status_code == 303 and ok.headers["Location"].endswith("/accounts/login")
    assert db.session.query(SessionRecord).filter_by(uid=user.uid).count() == 0
    login = client.post("/accounts/login", data={"email": user.email, "password": "Nevv-Passw0rd-x"})
    assert login.status_code == 303
    reused = client.post("/accounts/password_reset", data={"token": token, "password": "An0ther-Passw0rd",
                                                           "confirm_password": "An0ther-Passw0rd"})
    assert reused.status_code == 422 and "already used" in html(reused)


def test_forgot_password_for_an_unknown_email_looks_the_same(client, mailbox):
    resp = client.post("/accounts/password/forgot", data={"email": "nobody@example.com"})
    assert resp.status_code == 200 and "we sent it a link" in html(resp)
    assert mailbox() == []


def test_reset_page_without_a_token_is_not_found(client):
    assert client.get("/accounts/password_reset").status_code == 404


# ---- CSRF, errors, language ---------------------------------------------------------------------

def test_forms_refuse_posts_without_the_csrf_token(app, client, make_user):
    app.config["WTF_CSRF_ENABLED"] = True
    user = make_user()
    resp = client.post("/accounts/login", data={"email": user.email, "password": DEFAULT_PASSWORD})
    assert resp.status_code == 400
    assert "Your form expired" in html(resp)
    assert db.session.query(SessionRecord).count() == 0
    page = client.get("/accounts/login")
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html(page)).group(1)
    assert f'"X-CSRFToken": "{token}"' in html(page)  # htmx sends it as a header
    ok = client.post("/accounts/login", data={"email": user.email, "password": DEFAULT_PASSWORD,
                                              "csrf_token": token})
    assert ok.status_code == 303
    hx = client.post("/accounts/logout", headers={"X-CSRFToken": token, **HX})
    assert hx.status_code == 204


def test_error_pages_are_html_without_internals(client):
    resp = client.get("/accounts/nothing-here")
    assert resp.status_code == 404 and "Page not found" in html(resp)
    assert "Traceback" not in html(resp)


def test_unexpected_errors_show_a_plain_page(app, client, make_user, monkeypatch):
    from barong.web.account import overview

    def boom(user):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(overview, "checklist", boom)
    login_as(client, make_user())
    resp = client.get("/accounts/")
    assert resp.status_code == 500
    assert "secret internals" not in html(resp) and "Traceback" not in html(resp)
    assert "Something went wrong" in html(resp)


def test_language_from_the_mail_link_is_remembered(client):
    resp = client.get("/accounts/login?lang=ru")
    assert "Войти" in html(resp) and 'lang="ru"' in html(resp)
    assert "lang=ru" in resp.headers.get("Set-Cookie", "")
    assert "Войти" in html(client.get("/accounts/login"))


def test_language_from_the_browser_and_the_switcher(client):
    assert "Войти" in html(client.get("/accounts/login", headers={"Accept-Language": "ru-RU,ru;q=0.9"}))
    resp = client.get("/lang/en?next=/accounts/login")
    assert resp.status_code == 302 and resp.headers["Location"] == "/accounts/login"
    assert "Sign in" in html(client.get("/accounts/login", headers={"Accept-Language": "ru"}))
    foreign = client.get("/lang/ru?next=https://evil.example/")
    assert foreign.headers["Location"] == "/"


def test_language_from_the_users_settings(client, make_user):
    user = make_user(data='{"language": "ru"}')
    login_as(client, user)
    assert "Ваш аккаунт" in html(client.get("/accounts/"))


def test_templates_render_outside_a_request(app):
    """Mails are rendered by the events dispatcher, with no request: the site's context must not break them."""
    from flask import render_template

    from barong.services.delivery.mail import token_link

    with app.app_context():
        text = render_template("mail/email_confirmation.txt", lang="en", domain="http://x",
                               user={"email": "a@b.c"}, record={"token": "T"},
                               link=token_link("email_confirmation", "T", "en"))
    assert "token=T" in text


def test_rate_limits_count_form_posts_not_page_views(app, client):
    from barong.services.access import rate_limits

    app.config["BARONG_RATELIMIT_ENABLED"] = True
    rate_limits.reset()
    try:
        assert all(client.get("/accounts/login").status_code == 200 for _ in range(25))
        statuses = [client.post("/accounts/login", data={"email": "x@example.com", "password": "y"}).status_code
                    for _ in range(21)]
        assert statuses[:20] == [422] * 20 and statuses[20] == 429
        resp = client.post("/accounts/login", data={"email": "x@example.com", "password": "y"})
        assert resp.status_code == 429 and "Too many attempts" in html(resp)
    finally:
        rate_limits.reset()
