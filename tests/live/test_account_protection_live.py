"""Account protection (issue 15) through Debian nginx `auth_request` and gunicorn: an API
key's IP allow-list is checked against the client address the gateway passes on
(X-Forwarded-For walked past the trusted proxies), the refusal carries its own code and is
recorded, `last_used_at`/`last_used_ip` are written after the response; the new-network
links' tokens never reach the access log."""
from __future__ import annotations

import time

from tests.live.harness import apikey_headers, create_api_key, enable_2fa, signup_confirmed

BOT, ELSEWHERE = "203.0.113.10", "198.51.100.20"


def test_api_key_allow_list_behind_the_gateway(gateway, live_barong, smtp_sink, new_email):
    owner = signup_confirmed(gateway.url, smtp_sink, new_email("bot"))
    totp = enable_2fa(owner)
    kid, secret = create_api_key(owner, totp)
    r = owner.api("PATCH", f"resource/api_keys/{kid}", json={"totp_code": totp.next_code(),
                                                             "allowed_ips": "203.0.113.0/24"})
    assert r.status_code == 200 and r.json()["allowed_ips"] == ["203.0.113.0/24"], r.text

    import requests

    def call(ip):
        return requests.get(f"{gateway.url}/api/v2/peatio/account/balances", timeout=30,
                            headers={**apikey_headers(kid, secret), "X-Forwarded-For": ip})

    ok = call(BOT)
    assert ok.status_code == 200, ok.text
    assert ok.json()["claims"]["uid"] == owner.api("GET", "resource/users/me").json()["uid"]
    refused = call(ELSEWHERE)
    assert refused.status_code == 401
    assert refused.json() == {"errors": ["authz.apikey_ip_not_allowed"]}
    # last use (written after the response) and the recorded refusal
    deadline = time.time() + 10
    while True:
        [key] = [k for k in owner.api("GET", "resource/api_keys").json() if k["kid"] == kid]
        if key["last_used_ip"] or time.time() > deadline:
            break
        time.sleep(0.2)
    assert key["last_used_ip"] == BOT and key["last_used_at"]
    activity = owner.api("GET", "resource/users/activity/all").json()
    denied = [a for a in activity if a["topic"] == "api_key" and a["result"] == "denied"]
    assert denied and denied[0]["user_ip"] == ELSEWHERE and "ip_not_allowed" in denied[0]["data"]


def test_network_link_tokens_are_not_logged(gateway, live_barong):
    import requests

    mark = live_barong.mark_log()
    secret = "Zq8secretNetworkToken0123456789abcdef"
    r = requests.get(f"{gateway.url}/accounts/network/approve?token={secret}", timeout=30)
    assert r.status_code == 200
    assert live_barong.wait_log("/accounts/network/approve", since=mark)
    assert secret not in live_barong.log_text()
    assert "token=[FILTERED]" in live_barong.log_since(mark)
