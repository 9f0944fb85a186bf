"""Passkey challenges are single use under races: one assertion sent by 10 parallel logins
opens one session; one registration attestation sent 10 times stores one credential.
Real threads against one app (SQLite WAL or TEST_DATABASE_URL's PostgreSQL)."""
from __future__ import annotations

from barong.extensions import db
from barong.models import SessionRecord, WebAuthnCredential
from tests.helpers import DEFAULT_PASSWORD, UA, login_as
from tests.services.test_races import _race, _signed_in, _statuses
from tests.soft_authenticator import SoftAuthenticator

I = "/api/v2/barong/identity"
R = "/api/v2/barong/resource"


def test_one_assertion_opens_one_session(app, make_user):
    user = make_user()
    db.session.commit()
    c = app.test_client()
    c.environ_base["HTTP_USER_AGENT"] = UA
    csrf = login_as(c, user)
    authn = SoftAuthenticator(app.config["BARONG_DOMAIN"], counting=False)  # counter 0: only the challenge guards
    opts = c.post(f"{R}/webauthn/credentials/options", headers={"X-CSRF-Token": csrf}).get_json()
    assert c.post(f"{R}/webauthn/credentials", headers={"X-CSRF-Token": csrf},
                  json={"name": "Key", "credential": authn.create(opts), "password": DEFAULT_PASSWORD}).status_code == 201
    db.session.query(SessionRecord).delete()
    db.session.commit()
    opts = c.post(f"{I}/sessions/webauthn/options", json={"email": user.email}).get_json()
    assertion = authn.get(opts)
    body = {"email": user.email, "password": DEFAULT_PASSWORD, "webauthn_assertion": assertion}
    results = _race(app, 10, lambda i, cl: cl.post(f"{I}/sessions", json=body))
    assert _statuses(results) == [201] + [403] * 9, [r.get_json() for r in results]
    assert all(r.get_json() == {"errors": ["identity.session.invalid_webauthn"]} for r in results
               if r.status_code == 403)
    db.session.expire_all()
    assert db.session.query(SessionRecord).filter_by(uid=user.uid).count() == 1


def test_one_attestation_registers_one_credential(app, make_user):
    user = make_user()
    db.session.commit()
    headers = _signed_in(app, user)
    c = app.test_client(use_cookies=False)
    c.environ_base["HTTP_USER_AGENT"] = UA
    opts = c.post(f"{R}/webauthn/credentials/options", headers=headers).get_json()
    authns = [SoftAuthenticator(app.config["BARONG_DOMAIN"]) for _ in range(10)]
    creds = [a.create(opts) for a in authns]  # ten different keys, one challenge
    results = _race(app, 10, lambda i, cl: cl.post(f"{R}/webauthn/credentials", headers=headers,
                                                   json={"name": f"Key {i}", "credential": creds[i],
                                                         "password": DEFAULT_PASSWORD}))
    assert _statuses(results) == [201] + [422] * 9, [r.get_json() for r in results]
    db.session.expire_all()
    assert db.session.query(WebAuthnCredential).filter_by(user_id=user.id).count() == 1
