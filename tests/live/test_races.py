"""Races against the real server (gunicorn, 2 workers, the session's shared database): what
must happen once happens once, and a lost race is the endpoint's 4xx, never a 500."""
from __future__ import annotations

import threading

from tests.live.harness import Client, enable_2fa, signup_confirmed

N = 20


def _together(n, call):
    """call(i) in n threads released together; returns the results by i."""
    barrier = threading.Barrier(n)
    results: list = [None] * n

    def worker(i):
        barrier.wait()
        try:
            results[i] = call(i)
        except Exception as exc:  # noqa: BLE001 - reported below
            results[i] = exc

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not any(isinstance(r, Exception) for r in results), results
    return results


def _clone(c: Client) -> Client:
    """Another connection with the same cookie and CSRF token (one requests.Session per thread)."""
    other = Client(c.base_url)
    other.cookies.update(c.cookies)
    other.csrf = c.csrf
    return other


def test_one_totp_code_creates_one_api_key(live_barong, smtp_sink, admin_client, new_email):
    member = signup_confirmed(live_barong.url, smtp_sink, new_email("race-otp"))
    totp = enable_2fa(member)
    code = totp.next_code()
    clients = [_clone(member) for _ in range(N)]
    results = _together(N, lambda i: clients[i].api("POST", "resource/api_keys",
                                                    json={"algorithm": "HS256", "totp_code": code}))
    statuses = sorted(r.status_code for r in results)
    assert statuses == [201] + [422] * (N - 1), [(r.status_code, r.text[:120]) for r in results]
    assert all(r.json() == {"errors": ["resource.api_key.invalid_totp"]} for r in results if r.status_code == 422)
    keys = member.api("GET", "resource/api_keys")
    assert keys.status_code == 200 and len(keys.json()) == 1


def test_parallel_duplicate_signups(live_barong, admin_client, new_email):
    address = new_email("race-signup")
    body = {"email": address, "password": "Str0ng-Passw0rd-42!"}
    clients = [Client(live_barong.url) for _ in range(N)]
    results = _together(N, lambda i: clients[i].api("POST", "identity/users", json=body))
    statuses = sorted(r.status_code for r in results)
    assert statuses == [201] + [422] * (N - 1), [(r.status_code, r.text[:120]) for r in results]
    assert all(r.json() == {"errors": ["email.taken"]} for r in results if r.status_code == 422)
    found = admin_client.api("GET", "admin/users", params={"email": address})
    assert found.status_code == 200 and [u["email"] for u in found.json()] == [address]
