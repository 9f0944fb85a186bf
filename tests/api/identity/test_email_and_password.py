"""Email confirmation (generate/confirm) and password reset (generate/confirm), with the
token error table of reference/identity-public.md §Tokens."""
from __future__ import annotations

import base64
import json
import time

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from barong.extensions import db
from barong.models import KVEntry, SessionRecord
from barong.security import tokens
from barong.security.jwt_keys import keypair
from barong.services.accounts import sessions
from tests.helpers import DEFAULT_PASSWORD, login_as, token_from_mail

from .support import API, activities_of, counts, events_named, user_by_email

NEW_PASSWORD = "Brand-New-Passw0rd"


@pytest.fixture
def pending(make_user):
    make_user()  # not the first registration
    return make_user(state="pending")


def confirm(client, token):
    return client.post(f"{API}/users/email/confirm_code", json={"token": token})


def reset(client, token, password=NEW_PASSWORD, confirm_password=None):
    return client.post(f"{API}/users/password/confirm_code", json={
        "reset_password_token": token, "password": password,
        "confirm_password": password if confirm_password is None else confirm_password})


def forge(claims, key=None, alg="RS256", headers=None):
    return jwt.encode(claims, key or keypair().private_key, algorithm=alg, headers=headers)


def base_claims(user, sub="confirmation", **extra):
    now = int(time.time())
    return {"sub": sub, "iss": "barong", "aud": ["peatio", "barong"], "iat": now, "exp": now + 600,
            "jti": "a" * 20, "email": user.email, "uid": user.uid, **extra}


# ---- email/generate_code ----------------------------------------------------------------------

class TestEmailGenerate:
    def test_pending_user_gets_a_mail(self, client, pending, mailbox):
        resp = client.post(f"{API}/users/email/generate_code", json={"email": pending.email})
        assert resp.status_code == 201 and resp.data == b""
        [msg] = mailbox(pending.email)
        assert msg["Subject"] == "Registration Confirmation"
        assert "token=" in msg.get_body(preferencelist=("plain",)).get_content()

    @pytest.mark.parametrize("who", ["unknown", "active"])
    def test_unknown_or_active_201_nothing_sent(self, client, make_user, mailbox, who):
        email = "ghost@example.com" if who == "unknown" else make_user().email
        before, mails_before = counts(), len(mailbox())
        resp = client.post(f"{API}/users/email/generate_code", json={"email": email})
        assert resp.status_code == 201
        assert len(mailbox()) == mails_before and counts() == before

    @pytest.mark.parametrize("body,codes", [
        ({}, ["identity.user.missing_email", "identity.user.empty_email"]),
        ({"email": ""}, ["identity.user.empty_email"]),
    ])
    def test_missing_400(self, client, body, codes):
        resp = client.post(f"{API}/users/email/generate_code", json=body)
        assert resp.status_code == 400 and resp.get_json() == {"errors": codes}


# ---- email/confirm_code -----------------------------------------------------------------------

class TestEmailConfirm:
    def test_confirm_activates_and_opens_session(self, client, pending, mailbox):
        client.post(f"{API}/users/email/generate_code", json={"email": pending.email})
        token = token_from_mail(mailbox(pending.email)[-1])
        resp = confirm(client, token)
        assert resp.status_code == 201, resp.get_json()
        body = resp.get_json()
        assert (body["state"], body["level"]) == ("active", 1) and body["csrf_token"]
        assert ("email", "verified", "private") in [(l["key"], l["value"], l["scope"]) for l in body["labels"]]
        assert [e["record"]["user"]["uid"] for e in events_named("system.user.email.confirmed")] == [pending.uid]
        assert db.session.query(SessionRecord).filter_by(uid=pending.uid).count() == 1
        assert client.get("/api/v2/barong/resource/users/me").status_code == 200

    def test_token_is_single_use(self, client, pending):
        token = tokens.issue("confirmation", 3600, email=pending.email, uid=pending.uid)
        assert confirm(client, token).status_code == 201
        user = user_by_email(pending.email)
        user.state = "pending"  # Barong's spec resets the state between the two uses
        db.session.commit()
        resp = confirm(client, token)
        assert resp.status_code == 422 and resp.get_json() == {"errors": ["identity.user.utilized_token"]}

    def test_active_user_422(self, client, make_user):
        user = make_user()
        resp = confirm(client, tokens.issue("confirmation", 3600, email=user.email, uid=user.uid))
        assert resp.status_code == 422 and resp.get_json() == {"errors": ["identity.user.active_or_doesnt_exist"]}

    def test_unknown_email_422(self, client, make_user):
        resp = confirm(client, tokens.issue("confirmation", 3600, email="ghost@example.com", uid="ID0000000000"))
        assert resp.status_code == 422 and resp.get_json() == {"errors": ["identity.user.active_or_doesnt_exist"]}

    def test_reset_token_cannot_confirm(self, client, pending):
        token = tokens.issue("reset", 3600, email=pending.email, uid=pending.uid, reset_token="x" * 20)
        resp = confirm(client, token)
        assert resp.status_code == 422 and resp.get_json() == {"errors": ["jwt.decode_and_verify.reset"]}

    @pytest.mark.parametrize("body,codes", [
        ({}, ["identity.user.missing_token", "identity.user.empty_token"]),
        ({"token": ""}, ["identity.user.empty_token"]),
    ])
    def test_missing_400(self, client, body, codes):
        resp = client.post(f"{API}/users/email/confirm_code", json=body)
        assert resp.status_code == 400 and resp.get_json() == {"errors": codes}

    def test_failed_confirmation_changes_nothing(self, client, pending):
        before = counts()
        assert confirm(client, "invalid token").status_code == 422
        assert counts() == before
        assert user_by_email(pending.email).state == "pending"


class TestTokenErrors:
    """jwt.decode_and_verify.<suffix> (identity-public.md §Tokens)."""

    def expect(self, client, token, suffix):
        resp = confirm(client, token)
        assert resp.status_code == 422, resp.get_json()
        assert resp.get_json() == {"errors": [f"jwt.decode_and_verify.{suffix}"]}

    def test_segments(self, client, pending):
        self.expect(client, "invalid token", "segments")
        self.expect(client, "a.b", "segments")

    def test_expired(self, client, pending):
        claims = base_claims(pending, exp=int(time.time()) - 10, iat=int(time.time()) - 100)
        self.expect(client, forge(claims), "expired")

    def test_expired_is_checked_before_utilized(self, client, pending):
        claims = base_claims(pending, exp=int(time.time()) - 10, iat=int(time.time()) - 100)
        db.session.add(KVEntry(key=f"utilized:{claims['jti']}", value="utilized", expires_at=int(time.time()) + 99))
        db.session.commit()
        self.expect(client, forge(claims), "expired")

    def test_bad_signature(self, client, pending):
        other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.expect(client, forge(base_claims(pending), key=other), "raised")

    def test_wrong_sub(self, client, pending):
        self.expect(client, forge(base_claims(pending, sub="session")), "session")

    def test_missing_sub(self, client, pending):
        claims = base_claims(pending)
        del claims["sub"]
        self.expect(client, forge(claims), "<none>")

    def test_wrong_iss(self, client, pending):
        self.expect(client, forge(base_claims(pending, iss="evil")), "evil")

    def test_missing_jti(self, client, pending):
        claims = base_claims(pending)
        del claims["jti"]
        self.expect(client, forge(claims), "jti")

    def test_iat_in_future(self, client, pending):
        self.expect(client, forge(base_claims(pending, iat=int(time.time()) + 300)), "iat")

    def test_wrong_algorithm(self, client, pending):
        self.expect(client, forge(base_claims(pending), key="a-shared-secret-of-enough-length-123", alg="HS256"),
                    "algorithm")

    def test_undecodable(self, client, pending):
        good = forge(base_claims(pending))
        header, payload, sig = good.split(".")
        self.expect(client, f"{header}.A.{sig}", "encoding")


# ---- password/generate_code -------------------------------------------------------------------

class TestPasswordGenerate:
    def test_known_email_sends_reset_mail(self, client, make_user, mailbox):
        user = make_user()
        resp = client.post(f"{API}/users/password/generate_code", json={"email": user.email})
        assert resp.status_code == 201 and resp.data == b""
        [msg] = [m for m in mailbox(user.email) if m["Subject"] == "Password Reset"]
        token = token_from_mail(msg)
        claims = jwt.decode(token, options={"verify_signature": False})
        assert claims["sub"] == "reset" and len(claims["reset_token"]) == 20 and claims["uid"] == user.uid
        assert activities_of(user) == [("password", "request password reset", "succeed")]
        assert len(events_named("system.user.password.reset.token")) == 1

    def test_unknown_email_201_nothing(self, client, make_user, mailbox):
        make_user()
        before, mails_before = counts(), len(mailbox())
        resp = client.post(f"{API}/users/password/generate_code", json={"email": "ghost@example.com"})
        assert resp.status_code == 201 and len(mailbox()) == mails_before and counts() == before

    @pytest.mark.parametrize("state", ["pending", "banned"])
    def test_any_state_may_reset(self, client, make_user, mailbox, state):
        user = make_user(state=state)
        assert client.post(f"{API}/users/password/generate_code", json={"email": user.email}).status_code == 201
        assert [m["Subject"] for m in mailbox(user.email)][-1] == "Password Reset"

    @pytest.mark.parametrize("body,codes", [
        ({}, ["identity.user.missing_email", "identity.user.empty_email"]),
        ({"email": " "}, ["identity.user.empty_email"]),
    ])
    def test_missing_400(self, client, body, codes):
        resp = client.post(f"{API}/users/password/generate_code", json=body)
        assert resp.status_code == 400 and resp.get_json() == {"errors": codes}


# ---- password/confirm_code --------------------------------------------------------------------

def reset_token_for(client, user, mailbox):
    client.post(f"{API}/users/password/generate_code", json={"email": user.email})
    return token_from_mail(mailbox(user.email)[-1])


class TestPasswordConfirm:
    def test_reset_sets_password_and_revokes_sessions(self, client, app, make_user, mailbox):
        user = make_user()
        other = app.test_client()
        other.environ_base["HTTP_USER_AGENT"] = "another-device"
        login_as(other, user)
        assert len(sessions.list_for_user(user.uid)) == 1
        token = reset_token_for(client, user, mailbox)
        resp = reset(client, token)
        assert resp.status_code == 201 and resp.data == b""
        assert sessions.list_for_user(user.uid) == []
        assert other.get("/api/v2/barong/resource/users/me").status_code == 401
        assert ("password", "password reset", "succeed") in activities_of(user)
        assert len(events_named("system.user.password.reset")) == 1
        login = lambda pw: client.post(f"{API}/sessions", json={"email": user.email, "password": pw}).status_code
        assert login(DEFAULT_PASSWORD) == 401
        assert login(NEW_PASSWORD) == 201
        # single use
        resp = reset(client, token, "Third-Passw0rd-xyz")
        assert resp.status_code == 422 and resp.get_json() == {"errors": ["identity.user.utilized_token"]}

    def test_only_the_latest_token_works(self, client, make_user, mailbox):
        user = make_user()
        first = reset_token_for(client, user, mailbox)
        second = reset_token_for(client, user, mailbox)
        resp = reset(client, first)
        assert resp.status_code == 422 and resp.get_json() == {"errors": ["identity.user.utilized_token"]}
        assert reset(client, second).status_code == 201

    def test_passwords_must_match_before_token_is_checked(self, client):
        resp = reset(client, "invalid", NEW_PASSWORD, "Different-Passw0rd")
        assert resp.status_code == 422 and resp.get_json() == {"errors": ["identity.user.passwords_doesnt_match"]}

    def test_invalid_token(self, client):
        resp = reset(client, "invalid")
        assert resp.status_code == 422 and resp.get_json() == {"errors": ["jwt.decode_and_verify.segments"]}

    def test_confirmation_token_cannot_reset(self, client, make_user):
        user = make_user()
        resp = reset(client, tokens.issue("confirmation", 3600, email=user.email, uid=user.uid))
        assert resp.status_code == 422 and resp.get_json() == {"errors": ["jwt.decode_and_verify.confirmation"]}

    def test_expired_token(self, client, make_user, mailbox):
        user = make_user()
        claims = base_claims(user, sub="reset", reset_token="r" * 20, exp=int(time.time()) - 1,
                             iat=int(time.time()) - 100)
        resp = reset(client, forge(claims))
        assert resp.status_code == 422 and resp.get_json() == {"errors": ["jwt.decode_and_verify.expired"]}

    @pytest.mark.parametrize("weak,codes", [("Simple", ["password.requirements"]),
                                            ("Password1", ["password.weak"])])
    def test_weak_password_422_keeps_token_usable(self, client, make_user, mailbox, weak, codes):
        user = make_user()
        token = reset_token_for(client, user, mailbox)
        resp = reset(client, token, weak)
        assert resp.status_code == 422 and resp.get_json() == {"errors": codes}
        assert ("password", "password reset", "failed") in activities_of(user)
        assert reset(client, token).status_code == 201  # the refusal consumed nothing

    def test_all_blank_400(self, client):
        resp = client.post(f"{API}/users/password/confirm_code",
                           json={"reset_password_token": "", "password": "", "confirm_password": ""})
        assert resp.status_code == 400
        assert resp.get_json() == {"errors": ["identity.user.empty_reset_password_token", "identity.user.empty_password",
                                              "identity.user.empty_confirm_password"]}

    def test_all_missing_400(self, client):
        resp = client.post(f"{API}/users/password/confirm_code", json={})
        assert resp.status_code == 400
        assert resp.get_json() == {"errors": [
            "identity.user.missing_pass_token", "identity.user.empty_reset_password_token",
            "identity.user.missing_password", "identity.user.empty_password",
            "identity.user.missing_confirm_password", "identity.user.empty_confirm_password"]}
