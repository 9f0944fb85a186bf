"""PUT|DELETE admin/users/api_keys (this project's addition): an operator turns a user's API
key off or removes it — abilities (update / destroy APIKey), guards, 4xx paths, DB state,
audit row, and the key refused at once."""
from __future__ import annotations

import hashlib
import hmac
import json
import time

import pytest

from barong.extensions import db
from barong.models import Activity, APIKey
from barong.services.accounts import api_keys
from barong.services.infra import unit_of_work


def _key(user):
    key, secret = api_keys.create(user, "HS256", require_otp=False)
    unit_of_work.commit()
    return key.kid, secret


def _works(app, kid, secret) -> bool:
    nonce = str(int(time.time() * 1000))
    sig = hmac.new(secret.encode(), (nonce + kid).encode(), hashlib.sha256).hexdigest()
    headers = {"X-Auth-Apikey": kid, "X-Auth-Nonce": nonce, "X-Auth-Signature": sig}
    return app.test_client().get("/api/v2/barong/resource/users/me", headers=headers).status_code == 200


def _state(kid):
    db.session.expire_all()
    key = db.session.query(APIKey).filter_by(kid=kid).first()
    return key.state if key else None


def _audit(target):
    """The admin rows about `target` (API calls are audited once: by authz's AUDIT permission
    for the seeded operator roles, else by the service)."""
    db.session.expire_all()
    return db.session.query(Activity).filter_by(category="admin", target_uid=target.uid).all()


def test_disable_then_delete(sa, make_user, app):
    user = make_user(otp=True)
    kid, secret = _key(user)
    resp = sa.put("/users/api_keys", json={"uid": user.uid, "kid": kid, "state": "inactive"})
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["kid"] == kid and body["state"] == "inactive" and "secret" not in body
    assert _state(kid) == "inactive" and not _works(app, kid, secret)
    rows = _audit(user)
    assert len(rows) == 1 and rows[0].action == "update" and json.loads(rows[0].data)["kid"] == kid
    resp = sa.put("/users/api_keys", json={"uid": user.uid, "kid": kid, "state": "inactive"})
    assert resp.status_code == 422 and resp.get_json() == {"errors": ["admin.apikey.not_active"]}

    resp = sa.delete("/users/api_keys", json={"uid": user.uid, "kid": kid})
    assert resp.status_code == 204 and resp.data == b""
    assert _state(kid) is None and [r.action for r in _audit(user)][-1] == "delete"
    resp = sa.delete("/users/api_keys", json={"uid": user.uid, "kid": kid})
    assert resp.status_code == 404 and resp.get_json() == {"errors": ["admin.apikey.doesnt_exist"]}


def test_delete_makes_the_key_refused_at_once(sa, make_user, app):
    user = make_user(otp=True)
    kid, secret = _key(user)
    assert _works(app, kid, secret)
    assert sa.delete("/users/api_keys", json={"uid": user.uid, "kid": kid}).status_code == 204
    assert not _works(app, kid, secret)


@pytest.mark.parametrize("params,status,code", [
    ({"kid": "K", "state": "inactive"}, 400, "admin.user.missing_uid"),
    ({"uid": "UNKNOWN1", "kid": "K", "state": "inactive"}, 404, "admin.user.doesnt_exist"),
    ({"uid": "U", "state": "inactive"}, 400, "admin.user.missing_kid"),
    ({"uid": "U", "kid": "", "state": "inactive"}, 400, "admin.user.empty_kid"),
    ({"uid": "U", "kid": "K"}, 400, "admin.user.missing_state"),
    ({"uid": "U", "kid": "K", "state": "active"}, 422, "admin.apikey.invalid_state"),
    ({"uid": "U", "kid": "0000000000000000", "state": "inactive"}, 404, "admin.apikey.doesnt_exist"),
])
def test_put_refusals(sa, make_user, params, status, code):
    user = make_user(otp=True)
    kid, _ = _key(user)
    payload = {k: {"U": user.uid, "K": kid}.get(v, v) for k, v in params.items()}
    resp = sa.put("/users/api_keys", json=payload)
    assert resp.status_code == status and code in resp.get_json()["errors"], resp.get_json()
    assert _state(kid) == "active"
    assert all(r.result != "succeed" or r.action != "disable api key" for r in _audit(user))


def test_another_users_kid_is_not_found(sa, make_user):
    user, other = make_user(otp=True), make_user(otp=True)
    kid, _ = _key(other)
    resp = sa.delete("/users/api_keys", json={"uid": user.uid, "kid": kid})
    assert resp.status_code == 404 and resp.get_json() == {"errors": ["admin.apikey.doesnt_exist"]}
    assert _state(kid) == "active"


def test_guards(api, make_user):
    admin = api("admin")
    boss = make_user(role="superadmin", otp=True)
    kid, _ = _key(boss)
    resp = admin.delete("/users/api_keys", json={"uid": boss.uid, "kid": kid})
    assert resp.status_code == 422 and resp.get_json() == {"errors": ["admin.user.superadmin_change"]}
    own_kid, _ = _key(admin.user)
    resp = admin.delete("/users/api_keys", json={"uid": admin.user.uid, "kid": own_kid})
    assert resp.status_code == 422 and resp.get_json() == {"errors": ["admin.user.update_himself"]}
    assert _state(kid) == "active" and _state(own_kid) == "active"


def test_a_role_without_the_ability_is_refused(api, make_user):
    compliance = api("compliance")  # the seeds let it call admin/users/*; its abilities have no APIKey
    user = make_user(otp=True)
    kid, _ = _key(user)
    for call in (lambda: compliance.delete("/users/api_keys", json={"uid": user.uid, "kid": kid}),
                 lambda: compliance.put("/users/api_keys", json={"uid": user.uid, "kid": kid, "state": "inactive"})):
        resp = call()
        assert resp.status_code == 401 and resp.get_json() == {"errors": ["admin.ability.not_permitted"]}
    assert _state(kid) == "active"


def test_roles_the_permission_table_stops(api, make_user):
    user = make_user(otp=True)
    kid, _ = _key(user)
    for role in ("support", "technical", "accountant"):
        resp = api(role).delete("/users/api_keys", json={"uid": user.uid, "kid": kid})
        assert resp.status_code in (401, 403), (role, resp.status_code)
    assert _state(kid) == "active"
