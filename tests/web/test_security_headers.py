"""Security headers (barong/web/security_headers.py), sandboxed downloads of uploaded files,
and logout needing the CSRF token."""
from __future__ import annotations

from datetime import date, timedelta

import pytest

from barong.extensions import db
from barong.models import Document
from barong.services.accounts import sessions
from barong.services.infra import unit_of_work
from barong.services.verification import documents
from tests.helpers import login_as

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 32
POLYGLOT_PNG = PNG + b"<html><script>alert(document.cookie)</script></html>"
JS_PDF = b"%PDF-1.4\n1 0 obj<< /OpenAction << /S /JavaScript /JS (app.alert(1)) >> >>endobj\ntrailer<<>>\n%%EOF\n"
SANDBOX = "sandbox; default-src 'none'"


def _html_headers_ok(resp):
    h = resp.headers
    assert resp.mimetype == "text/html"
    assert h["X-Content-Type-Options"] == "nosniff"
    csp = h["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp and "default-src 'self'" in csp and "script-src 'self'" in csp
    assert "'unsafe-eval'" not in csp and "script-src 'self' 'unsafe-inline'" not in csp
    assert h["X-Frame-Options"] == "DENY"
    assert h["Referrer-Policy"] == "same-origin"
    assert h["Cache-Control"] == "no-store"


@pytest.mark.parametrize("path", ["/accounts/login", "/accounts/signup", "/accounts/password/forgot", "/",
                                  "/accounts/no-such-page"])
def test_every_html_page_has_the_headers(client, path):
    resp = client.get(path, follow_redirects=True)
    _html_headers_ok(resp)
    assert "Strict-Transport-Security" not in resp.headers  # BARONG_DOMAIN is http in tests


def test_signed_in_site_and_console_pages_are_not_stored(client, make_user):
    login_as(client, make_user(role="superadmin"))
    for path in ("/accounts/", "/accounts/security/2fa", "/accounts/api-keys", "/admin/", "/admin/users"):
        resp = client.get(path)
        assert resp.status_code == 200, path
        _html_headers_ok(resp)
    export = client.get("/admin/activities.csv")
    assert export.status_code == 200 and export.headers["Cache-Control"] == "no-store"


def test_authenticated_json_is_not_stored_public_json_may_be(client, make_user):
    login_as(client, make_user())
    me = client.get("/api/v2/barong/resource/users/me")
    assert me.status_code == 200 and me.headers["Cache-Control"] == "no-store"
    assert me.headers["X-Content-Type-Options"] == "nosniff"
    assert "X-Frame-Options" not in me.headers
    public = client.get("/api/v2/barong/public/timestamp")
    assert "no-store" not in public.headers.get("Cache-Control", "")


def test_hsts_when_the_domain_is_https(app, client):
    app.config["BARONG_DOMAIN"] = "https://auth.example.com"
    resp = client.get("/accounts/login")
    assert resp.headers["Strict-Transport-Security"].startswith("max-age=")
    assert "includeSubDomains" in resp.headers["Strict-Transport-Security"]


def test_recaptcha_hosts_only_with_recaptcha(app, client):
    assert "google" not in client.get("/accounts/login").headers["Content-Security-Policy"]
    app.config["BARONG_CAPTCHA"] = "recaptcha"
    csp = client.get("/accounts/login").headers["Content-Security-Policy"]
    assert "https://www.google.com" in csp and "frame-ancestors 'none'" in csp


def test_error_page_has_no_javascript_url(client):
    body = client.get("/accounts/no-such-page").get_data(as_text=True)
    assert "javascript:" not in body


# ---- downloads of uploaded files ---------------------------------------------------------------

def _upload(user, name, data):
    documents.create(user, [(name, data)], "Passport", doc_expire=(date.today() + timedelta(days=400)).isoformat(),
                     doc_number="AB123456")
    unit_of_work.commit()
    return db.session.query(Document).filter_by(user_id=user.id).order_by(Document.id.desc()).first()


def _sandboxed_attachment(resp, mimetype, name):
    assert resp.status_code == 200
    assert resp.mimetype == mimetype
    assert resp.headers["Content-Disposition"].startswith("attachment") and name in resp.headers["Content-Disposition"]
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["Content-Security-Policy"] == SANDBOX
    assert "no-store" in resp.headers["Cache-Control"]


@pytest.mark.parametrize("name,data,mimetype", [("id.png", POLYGLOT_PNG, "image/png"),
                                                ("id.pdf", JS_PDF, "application/pdf")])
def test_api_and_console_downloads_are_sandboxed_attachments(app, client, make_user, name, data, mimetype):
    """A PNG with HTML appended or a PDF with JavaScript never runs in our origin, on any path."""
    owner = make_user()
    doc = _upload(owner, name, data)
    login_as(client, owner)
    api = client.get(f"/api/v2/barong/resource/documents/{doc.id}/upload")
    _sandboxed_attachment(api, mimetype, name)
    assert api.data == data
    admin = app.test_client()
    admin.environ_base.update(client.environ_base)
    login_as(admin, make_user(role="superadmin"))
    console = admin.get(f"/admin/documents/{doc.id}/file")
    _sandboxed_attachment(console, mimetype, name)
    assert console.data == data


def test_download_type_comes_from_the_bytes(app, client, make_user):
    """A stored row claiming text/html still downloads as what the bytes are."""
    owner = make_user()
    doc = _upload(owner, "id.png", POLYGLOT_PNG)
    doc.content_type = "text/html"
    db.session.commit()
    login_as(client, owner)
    resp = client.get(f"/api/v2/barong/resource/documents/{doc.id}/upload")
    _sandboxed_attachment(resp, "image/png", "id.png")


# ---- logout needs the CSRF token ----------------------------------------------------------------

LOGOUT = "/api/v2/barong/identity/sessions"
ME = "/api/v2/barong/resource/users/me"


@pytest.mark.parametrize("headers,code", [({}, "authz.missing_csrf_token"),
                                          ({"X-CSRF-Token": "0" * 20}, "authz.csrf_token_mismatch")])
def test_api_logout_without_the_csrf_token_is_refused(client, make_user, headers, code):
    user = make_user()
    login_as(client, user)
    resp = client.delete(LOGOUT, headers=headers)
    assert resp.status_code == 401 and resp.get_json() == {"errors": [code]}
    assert client.get(ME).status_code == 200  # still signed in
    assert len(sessions.list_for_user(user.uid)) == 1


def test_api_logout_with_the_csrf_token(client, make_user):
    user = make_user()
    csrf = login_as(client, user)
    assert client.delete(LOGOUT, headers={"X-CSRF-Token": csrf}).status_code == 204
    assert client.get(ME).status_code == 401 and sessions.list_for_user(user.uid) == []


def test_api_logout_csrf_off_by_configuration(app, client, make_user):
    app.config["BARONG_CSRF_PROTECTION"] = False
    login_as(client, make_user())
    assert client.delete(LOGOUT).status_code == 204


def test_site_logout_is_a_post_with_the_csrf_token(app, client, make_user):
    user = make_user()
    login_as(client, user)
    assert client.get("/accounts/logout").status_code == 405  # a GET link cannot sign anyone out
    assert client.get(ME).status_code == 200
    app.config["WTF_CSRF_ENABLED"] = True
    refused = client.post("/accounts/logout")
    assert refused.status_code == 400 and client.get(ME).status_code == 200
    page = client.get("/accounts/").get_data(as_text=True)
    assert 'action="/accounts/logout"' in page and 'name="csrf_token"' in page
