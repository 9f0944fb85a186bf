"""Item 7 (CONTRACT §4): behind a gateway a request carries the browser's session cookie and
the `Authorization: Bearer <JWT>` the gateway added. It is still the caller's session: 2FA
enable, password change and "revoke the others" keep it (and revoke the rest)."""
from __future__ import annotations

import pyotp

from barong.extensions import db
from barong.models import User
from barong.services.accounts import otp as otp_service
from tests.helpers import DEFAULT_PASSWORD, UA, login_as

from .support import ME, auth

R = "/api/v2/barong/resource"


def _browser(app, user):
    """A test client logged in as `user` (its own cookie jar, i.e. its own session)."""
    c = app.test_client()
    c.environ_base["HTTP_USER_AGENT"] = UA
    csrf = login_as(c, user)
    return c, csrf


def _through_gateway(c, csrf, method, path, **kwargs):
    """What the gateway does: ask /api/v2/auth (cookie + CSRF), forward with cookie AND the JWT."""
    check = auth(c, method, path.lstrip("/"), headers={"X-CSRF-Token": csrf})
    assert check.status_code == 200, check.get_json()
    return c.open(path, method=method, headers={"Authorization": check.headers["Authorization"],
                                                "X-CSRF-Token": csrf}, **kwargs)


def _alive(c) -> bool:
    return c.get("/" + ME).status_code == 200


def test_password_change_keeps_the_callers_session(app, make_user):
    user = make_user()
    mine, csrf = _browser(app, user)
    other, _ = _browser(app, user)
    resp = _through_gateway(mine, csrf, "PUT", f"{R}/users/password",
                            json={"old_password": DEFAULT_PASSWORD, "new_password": "Brand-N3w-Passw0rd",
                                  "confirm_password": "Brand-N3w-Passw0rd"})
    assert resp.status_code == 201, resp.get_json()
    assert _alive(mine)            # the caller's session survives…
    assert not _alive(other)       # …every other one is revoked


def test_2fa_enable_keeps_the_callers_session(app, make_user):
    user = make_user()
    mine, csrf = _browser(app, user)
    other, _ = _browser(app, user)
    qr = _through_gateway(mine, csrf, "POST", f"{R}/otp/generate_qrcode")
    assert qr.status_code == 201
    code = pyotp.TOTP(otp_service.secret_for(db.session.get(User, user.id))).now()
    resp = _through_gateway(mine, csrf, "POST", f"{R}/otp/enable", json={"code": code})
    assert resp.status_code == 201, resp.get_json()
    assert _alive(mine) and not _alive(other)


def test_revoke_the_others_and_list_mark_the_callers_session(app, make_user):
    user = make_user()
    mine, csrf = _browser(app, user)
    other, _ = _browser(app, user)
    listed = _through_gateway(mine, csrf, "GET", f"{R}/sessions").get_json()
    assert sorted(s["current"] for s in listed) == [False, True]
    assert _through_gateway(mine, csrf, "DELETE", f"{R}/sessions").status_code == 204
    assert _alive(mine) and not _alive(other)


def test_a_cookie_of_another_user_is_not_the_current_session(app, make_user):
    alice, bob = make_user(), make_user()
    alice_c, alice_csrf = _browser(app, alice)
    bob_c, _ = _browser(app, bob)
    jwt = auth(alice_c, "GET", ME).headers["Authorization"]
    # Alice's JWT with Bob's cookie: Alice is the caller; Bob's session is not hers to keep
    bob_cookie = bob_c.get_cookie(app.config["BARONG_SESSION_NAME"]).value
    stranger = app.test_client()
    stranger.environ_base["HTTP_USER_AGENT"] = UA
    stranger.set_cookie(app.config["BARONG_SESSION_NAME"], bob_cookie)
    listed = stranger.get(f"{R}/sessions", headers={"Authorization": jwt}).get_json()
    assert [s["current"] for s in listed] == [False]
    resp = stranger.put(f"{R}/users/password", headers={"Authorization": jwt},
                        json={"old_password": DEFAULT_PASSWORD, "new_password": "Brand-N3w-Passw0rd",
                              "confirm_password": "Brand-N3w-Passw0rd"})
    assert resp.status_code == 201
    assert not _alive(alice_c)     # all of Alice's sessions revoked (none was the caller's)
    assert _alive(bob_c)           # Bob's untouched


def test_jwt_alone_still_works_and_keeps_nothing(app, make_user):
    user = make_user()
    mine, _csrf = _browser(app, user)
    jwt = auth(mine, "GET", ME).headers["Authorization"]
    bare = app.test_client()
    bare.environ_base["HTTP_USER_AGENT"] = UA
    assert bare.get("/" + ME, headers={"Authorization": jwt}).status_code == 200
    assert bare.delete(f"{R}/sessions", headers={"Authorization": jwt}).status_code == 204
    assert not _alive(mine)


def test_cookie_with_jwt_still_needs_the_csrf_token(app, make_user):
    """nginx's auth_request checks with GET (no CSRF check there): a cross-site POST carrying
    the cookie would come back with a JWT. The cookie's session then asks for its CSRF token."""
    user = make_user()
    mine, csrf = _browser(app, user)
    other, _ = _browser(app, user)
    jwt = auth(mine, "GET", ME).headers["Authorization"]  # what a GET subrequest gets
    resp = mine.delete(f"{R}/sessions", headers={"Authorization": jwt})
    assert resp.status_code == 401 and resp.get_json() == {"errors": ["authz.missing_csrf_token"]}
    resp = mine.delete(f"{R}/sessions", headers={"Authorization": jwt, "X-CSRF-Token": "0" * 20})
    assert resp.status_code == 401 and resp.get_json() == {"errors": ["authz.csrf_token_mismatch"]}
    assert _alive(other)  # nothing was revoked
    assert mine.get(f"{R}/sessions", headers={"Authorization": jwt}).status_code == 200  # reads need none
    assert mine.delete(f"{R}/sessions", headers={"Authorization": jwt, "X-CSRF-Token": csrf}).status_code == 204
    assert not _alive(other)


def test_a_cookie_from_another_browser_is_not_the_current_session(app, make_user):
    """The session is bound to its user agent: presented by another one, it is not the caller's."""
    user = make_user()
    mine, _csrf = _browser(app, user)
    jwt = auth(mine, "GET", ME).headers["Authorization"]
    cookie = mine.get_cookie(app.config["BARONG_SESSION_NAME"]).value
    elsewhere = app.test_client()
    elsewhere.environ_base["HTTP_USER_AGENT"] = "curl/8.0"
    elsewhere.set_cookie(app.config["BARONG_SESSION_NAME"], cookie)
    listed = elsewhere.get(f"{R}/sessions", headers={"Authorization": jwt}).get_json()
    assert [s["current"] for s in listed] == [False]
    # not the caller's session, so no CSRF asked for it either: the JWT alone is the credential
    assert elsewhere.delete(f"{R}/sessions", headers={"Authorization": jwt}).status_code == 204
    assert not _alive(mine)
