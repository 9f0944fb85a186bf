"""The in-process entry point (`@api_auth` on resource/ and admin/): the same restrictions,
credentials and permissions as the gateway, plus `Authorization: Bearer <JWT>`."""
from __future__ import annotations

import time

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from barong.api.auth import api_auth, current_user
from barong.errors import BarongError
from barong.extensions import db
from barong.models import Activity
from barong.security import access_tokens
from barong.security.jwt_keys import keypair
from tests.helpers import UA, login_as

from .support import ME, auth, signed

ADMIN_PATH = "/api/v2/barong/admin/users"


def _cookie(client, app) -> str:
    return client.get_cookie(app.config["BARONG_SESSION_NAME"]).value


def _call(app, path, method="GET", headers=None):
    """Run an `@api_auth` view for `path` in a request context; returns the caller or raises."""
    with app.test_request_context(path, method=method, headers={"User-Agent": UA, **(headers or {})}):
        return api_auth(lambda: current_user())()


def test_member_calling_admin_is_denied(client, app, make_user):
    user = make_user()
    login_as(client, user)
    cookie = {"Cookie": f"{app.config['BARONG_SESSION_NAME']}={_cookie(client, app)}"}
    with pytest.raises(BarongError) as err:
        _call(app, ADMIN_PATH, headers=cookie)
    assert (err.value.codes, err.value.status) == (["authz.invalid_permission"], 401)
    assert _call(app, "/" + ME, headers=cookie).uid == user.uid


def test_member_calling_a_real_admin_endpoint(client, app, make_user):
    if not any(r.rule.startswith("/api/v2/barong/admin/") for r in app.url_map.iter_rules()):
        pytest.skip("no admin endpoint registered in this tree")
    user = make_user()
    login_as(client, user)
    resp = client.get(ADMIN_PATH)
    assert resp.status_code == 401 and resp.get_json() == {"errors": ["authz.invalid_permission"]}
    acts = db.session.query(Activity).filter_by(category="admin", user_id=user.id).all()
    assert [(a.result, a.topic, a.action) for a in acts] == [("denied", "users", "read")]


def test_in_process_csrf(client, app, make_user):
    csrf = login_as(client, make_user())
    cookie = {"Cookie": f"{app.config['BARONG_SESSION_NAME']}={_cookie(client, app)}"}
    with pytest.raises(BarongError) as err:
        _call(app, "/" + ME, "POST", headers=cookie)
    assert err.value.codes == ["authz.missing_csrf_token"]
    with pytest.raises(BarongError) as err:
        _call(app, "/" + ME, "POST", headers={**cookie, "X-CSRF-Token": "bad"})
    assert err.value.codes == ["authz.csrf_token_mismatch"]
    assert _call(app, "/" + ME, "POST", headers={**cookie, "X-CSRF-Token": csrf}) is not None


def test_no_credentials(client):
    resp = client.get("/" + ME)
    assert resp.status_code == 401 and resp.get_json() == {"errors": ["authz.invalid_session"]}


@pytest.fixture
def token(client, make_user):
    user = make_user()
    login_as(client, user)
    return user, auth(client, "GET", ME).headers["Authorization"].removeprefix("Bearer ")


def _bearer(app, value):
    return app.test_client().get("/" + ME, headers={"Authorization": value})


def test_bearer_jwt(app, token):
    user, raw = token
    resp = _bearer(app, f"Bearer {raw}")
    assert resp.status_code == 200 and resp.get_json()["uid"] == user.uid


@pytest.mark.parametrize("mangle", [
    lambda t: t[:-4] + ("AAAA" if not t.endswith("AAAA") else "BBBB"),  # signature
    lambda t: t.split(".")[0] + "." + jwt.utils.base64url_encode(b'{"uid":"x"}').decode() + "." + t.split(".")[2],
    lambda t: "not-a-jwt",
])
def test_tampered_jwt(app, token, mangle):
    resp = _bearer(app, f"Bearer {mangle(token[1])}")
    assert resp.status_code == 401 and resp.get_json() == {"errors": ["jwt.decode_and_verify"]}


@pytest.mark.parametrize("scheme", ["Token", "bearer", "Basic"])
def test_other_scheme(app, token, scheme):
    resp = _bearer(app, f"{scheme} {token[1]}")
    assert resp.get_json() == {"errors": ["jwt.decode_and_verify"]}


def _forge(app, user, key=None, **overrides):
    now = int(time.time())
    payload = {**access_tokens.claims_for(user), "iat": now, "exp": now + 60, "sub": "session", "iss": "barong",
               "aud": ["peatio", "barong"], "jti": "a" * 20, **overrides}
    payload = {k: v for k, v in payload.items() if v is not None}
    return jwt.encode(payload, key or keypair().private_key, algorithm="RS256")


def test_expired_jwt(app, token):
    user, _ = token
    resp = _bearer(app, "Bearer " + _forge(app, user, iat=int(time.time()) - 7200, exp=int(time.time()) - 10))
    assert resp.status_code == 401 and resp.get_json() == {"errors": ["jwt.decode_and_verify"]}


@pytest.mark.parametrize("overrides", [{"iss": "someone"}, {"aud": ["peatio"]}, {"sub": "api"}, {"jti": None},
                                       {"iat": int(time.time()) + 3600, "exp": int(time.time()) + 7200}])
def test_claims_checked(app, token, overrides):
    user, _ = token
    resp = _bearer(app, "Bearer " + _forge(app, user, **overrides))
    assert resp.get_json() == {"errors": ["jwt.decode_and_verify"]}


def test_foreign_key_rejected(app, token):
    user, _ = token
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    resp = _bearer(app, "Bearer " + _forge(app, user, key=other))
    assert resp.get_json() == {"errors": ["jwt.decode_and_verify"]}


def test_forged_well_signed_token_is_accepted(app, token):
    """Sanity check of the forging helper: with our key and valid claims it passes."""
    user, _ = token
    assert _bearer(app, "Bearer " + _forge(app, user)).status_code == 200


def test_jwt_of_a_banned_user(app, token):
    user, raw = token
    user.state = "banned"
    db.session.commit()
    resp = _bearer(app, f"Bearer {raw}")
    assert resp.status_code == 401 and resp.get_json() == {"errors": ["authz.user_not_active"]}


def test_jwt_of_an_unknown_uid(app, token):
    user, _ = token
    resp = _bearer(app, "Bearer " + _forge(app, user, uid="IDNOBODY"))
    assert resp.get_json() == {"errors": ["jwt.decode_and_verify"]}


def test_api_key_beats_authorization_header(client, app, make_user, make_api_key):
    holder = make_user(otp=True)
    key, secret = make_api_key(holder)
    resp = client.get("/" + ME, headers={**signed(key.kid, secret), "Authorization": "Bearer junk"})
    assert resp.status_code == 200 and resp.get_json()["uid"] == holder.uid
