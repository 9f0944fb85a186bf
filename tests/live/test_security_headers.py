"""Security headers and logout CSRF on the real server, directly and through the nginx gateway."""
from __future__ import annotations

import pytest

from tests.live.harness import Client, signup_confirmed


def _html_ok(resp):
    assert resp.status_code == 200 and resp.headers["Content-Type"].startswith("text/html")
    h = resp.headers
    assert h["X-Content-Type-Options"] == "nosniff" and h["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in h["Content-Security-Policy"]
    assert h["Referrer-Policy"] == "same-origin" and h["Cache-Control"] == "no-store"


@pytest.mark.parametrize("via", ["direct", "gateway"])
def test_pages_carry_the_security_headers(via, live_barong, gateway, admin_client):
    base = live_barong.url if via == "direct" else gateway.url
    _html_ok(Client(base).get("/accounts/login"))
    console = Client(base)
    console.cookies.update(admin_client.cookies)
    _html_ok(console.get("/admin/users"))


def test_logout_needs_the_csrf_token_through_the_gateway(gateway, smtp_sink, new_email):
    c = signup_confirmed(gateway.url, smtp_sink, new_email("logout"))
    r = c.api("DELETE", "identity/sessions", csrf=False)
    assert r.status_code == 401 and r.json() == {"errors": ["authz.missing_csrf_token"]}
    assert c.api("GET", "resource/users/me").status_code == 200  # still signed in
    assert c.get("/accounts/logout").status_code == 405  # a GET link signs nobody out
    assert c.api("GET", "resource/users/me").status_code == 200
    assert c.api("DELETE", "identity/sessions").status_code == 204
    assert c.api("GET", "resource/users/me").status_code == 401
