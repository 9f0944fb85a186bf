"""End-to-end smoke: signup → mail → confirm → login → me → logout → reset."""
from barong.extensions import db
from barong.models import User
from tests.helpers import DEFAULT_PASSWORD, logout, token_from_mail


def test_signup_confirm_login_reset(client, make_user, mailbox):
    make_user()  # so the next signup is not the first (superadmin) registration
    resp = client.post("/api/v2/barong/identity/users", json={"email": "alice@example.com", "password": DEFAULT_PASSWORD})
    assert resp.status_code == 201, resp.get_json()
    body = resp.get_json()
    assert body["state"] == "pending" and body["csrf_token"]
    [msg] = mailbox("alice@example.com")
    assert msg["Subject"] == "Registration Confirmation"
    token = token_from_mail(msg)
    resp = client.post("/api/v2/barong/identity/users/email/confirm_code", json={"token": token})
    assert resp.status_code == 201, resp.get_json()
    assert resp.get_json()["state"] == "active" and resp.get_json()["level"] == 1
    resp = client.post("/api/v2/barong/identity/users/email/confirm_code", json={"token": token})
    assert resp.status_code == 422
    assert resp.get_json() == {"errors": ["identity.user.active_or_doesnt_exist"]}
    me = client.get("/api/v2/barong/resource/users/me")
    assert me.status_code == 200 and me.get_json()["email"] == "alice@example.com"
    assert logout(client).status_code == 204
    assert client.get("/api/v2/barong/resource/users/me").status_code == 401
    resp = client.post("/api/v2/barong/identity/users/password/generate_code", json={"email": "alice@example.com"})
    assert resp.status_code == 201
    reset = token_from_mail(mailbox("alice@example.com")[-1])
    resp = client.post("/api/v2/barong/identity/users/password/confirm_code",
                       json={"reset_password_token": reset, "password": "NewPass-w0rd-Ok", "confirm_password": "NewPass-w0rd-Ok"})
    assert resp.status_code == 201, resp.get_json()
    resp = client.post("/api/v2/barong/identity/sessions", json={"email": "alice@example.com", "password": "NewPass-w0rd-Ok"})
    assert resp.status_code == 201


def test_first_user_is_superadmin(client):
    resp = client.post("/api/v2/barong/identity/users", json={"email": "root@example.com", "password": DEFAULT_PASSWORD})
    assert resp.status_code == 201
    user = db.session.query(User).filter_by(email="root@example.com").one()
    assert (user.role, user.state, user.level) == ("superadmin", "active", 1)


def test_missing_params(client):
    resp = client.post("/api/v2/barong/identity/users", json={})
    assert resp.status_code == 400
    assert resp.get_json()["errors"] == ["identity.user.missing_email", "identity.user.empty_email",
                                         "identity.user.missing_password", "identity.user.empty_password"]


def test_unknown_api_path_is_json_404(client):
    resp = client.get("/api/v2/barong/nope")
    assert resp.status_code == 404 and resp.get_json() == {"errors": ["record.not_found"]}
