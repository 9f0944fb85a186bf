"""The harness itself: server up, mail through the sink, gateway in front, upstream verifying."""
from __future__ import annotations

from tests.live.harness import Client, link_token, signup_confirmed


def test_server_answers_and_logs_access(live_barong):
    mark = live_barong.mark_log()
    r = Client(live_barong.url).get("/api/v2/barong/identity/ping")
    assert r.status_code == 200
    assert live_barong.wait_log(r"GET /api/v2/barong/identity/ping", since=mark)
    assert "/api/v2/barong/identity/ping" in live_barong.log_since(mark)


def test_signup_confirm_login_through_smtp(live_barong, smtp_sink, admin_client, new_email):
    addr = new_email()
    c = signup_confirmed(live_barong.url, smtp_sink, addr)
    me = c.api("GET", "resource/users/me")
    assert me.status_code == 200 and me.json()["email"] == addr and me.json()["state"] == "active"


def test_gateway_passes_verified_jwt_to_upstream(gateway, live_barong, smtp_sink, new_email):
    addr = new_email()
    c = Client(gateway.url)
    c.signup(addr)
    c.confirm_email(link_token(smtp_sink.wait_for(to=addr)[-1]))
    c.login(addr)
    r = c.get("/api/v2/peatio/account/balances")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["claims"]["email"] == addr and body["claims"]["iss"] == "barong"
    anon = Client(gateway.url).get("/api/v2/peatio/account/balances")
    assert anon.status_code == 401
    assert anon.json()["errors"] == ["authz.invalid_session"]
