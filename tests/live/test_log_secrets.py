"""Item 1: no secret reaches any log line of the real server (gunicorn access log, error log,
the app's own log) — tokens in mail links and query strings, cookies, CSRF tokens, API-key
signatures and secrets, passwords."""
from __future__ import annotations

import re

from tests.live.harness import (PASSWORD, Client, apikey_headers, create_api_key, enable_2fa, link_token,
                                signup_confirmed)

NEW_PASSWORD = "N3w-Str0ng-Passw0rd!"


def test_no_secret_in_the_log(live_barong, gateway, smtp_sink, admin_client, new_email):
    secrets: dict[str, str] = {}
    addr = new_email("logged")

    # sign-up; the confirmation link opened in the site (token in the URL, then as Referer)
    c = Client(live_barong.url)
    c.signup(addr)
    secrets["signup csrf"] = c.csrf
    secrets["signup cookie"] = c.session_cookie()
    mail = smtp_sink.wait_for(to=addr, subject="confirm")[-1]
    token = link_token(mail)
    assert link_token(mail, "confirmation_token") == token
    secrets["confirmation token"] = token
    link = re.search(r"https?://\S*confirmation\?\S+", mail.get_body(("plain",)).get_content()).group(0)
    page = c.get(link.replace("http://127.0.0.1:", "http://127.0.0.1:").split("#")[0])
    assert page.status_code == 200 and token in page.text  # the form carries it (POST confirms)
    assert c.get("/static/css/app.css", headers={"Referer": link}).status_code in (200, 404)
    # confirmed with the token in the query string (parameters are read from the query too)
    r = c.api("POST", f"identity/users/email/confirm_code?token={token}")
    assert r.status_code == 201, r.text

    # password reset: the link page, then the confirm call with every secret in the query
    assert c.api("POST", "identity/users/password/generate_code", json={"email": addr}).status_code == 201
    reset_mail = smtp_sink.wait_for(to=addr, subject="reset")[-1]
    reset = link_token(reset_mail)
    assert link_token(reset_mail, "reset_token") == reset
    secrets["reset token"] = reset
    assert c.get(f"/accounts/password_reset?token={reset}&reset_token={reset}&lang=en").status_code == 200
    r = c.api("POST", f"identity/users/password/confirm_code?reset_password_token={reset}"
                      f"&password={NEW_PASSWORD}&confirm_password={NEW_PASSWORD}")
    assert r.status_code == 201, r.text
    secrets["new password"] = NEW_PASSWORD
    secrets["old password"] = PASSWORD

    # login with the password in the query; cookie + CSRF on state-changing calls, direct and via nginx
    r = c.api("POST", f"identity/sessions?email={addr}&password={NEW_PASSWORD}")
    assert r.status_code == 201, r.text
    secrets["session cookie"] = c.session_cookie()
    secrets["csrf token"] = c.csrf
    totp = enable_2fa(c)
    secrets["otp secret"] = totp.totp.secret
    kid, api_secret = create_api_key(c, totp)
    secrets["api key secret"] = api_secret
    for base in (live_barong.url, gateway.url):
        headers = apikey_headers(kid, api_secret)
        secrets[f"signature {base}"] = headers["X-Auth-Signature"]
        r = Client(base).get("/api/v2/barong/resource/users/me", headers=headers)
        assert r.status_code == 200, r.text
    g = Client(gateway.url)
    g.cookies.update(c.cookies)
    g.csrf = c.csrf
    assert g.api("GET", f"resource/users/me?otp_code={totp.next_code()}").status_code == 200
    assert g.api("POST", "resource/users/me?csrf_token=" + c.csrf, csrf=False).status_code in (401, 404, 405)

    assert live_barong.wait_log(r"/api/v2/auth/api/v2/barong/resource/users/me\?otp_code=")
    log = live_barong.log_text()
    # the access log is on and shows the requests, with the values filtered
    assert "GET /accounts/password_reset?token=[FILTERED]&reset_token=[FILTERED]&lang=en" in log
    assert "identity/users/password/confirm_code?reset_password_token=[FILTERED]&password=[FILTERED]" in log
    assert "identity/sessions?email=" in log
    for what, value in secrets.items():
        assert value and value not in log, f"{what} found in the server log"
    assert "eyJ" not in log  # no JWT (confirmation/reset tokens, minted access tokens)
