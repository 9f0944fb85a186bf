"""`make run` with `BARONG_SERVER=granian` (barong/granian_app.py): the gateway tests of
test_gateway.py again, with Barong on granian behind Debian nginx `auth_request`; plus what
the wrapper takes over from gunicorn — the redacted access log, mail delivered by each
worker's background deliverer and a clean stop on SIGTERM (the proxy's scheme:
tests/test_granian_entry.py)."""
from __future__ import annotations

import signal
import subprocess
import time

import pytest
import requests

from tests.live.harness import Client, GunicornServer, NginxGateway, UpstreamApp, link_token
from tests.live.test_gateway import *  # noqa: F401,F403 — the same gateway tests, on granian


@pytest.fixture(scope="module")
def live_barong(smtp_sink):
    with GunicornServer(env={"BARONG_SERVER": "granian"}, smtp=smtp_sink, workers=2, name="granian") as server:
        yield server


@pytest.fixture(scope="module")
def admin_client(live_barong):
    c = Client(live_barong.url)
    c.signup("granian-admin@example.com")  # first registration: active superadmin
    return c


@pytest.fixture(scope="module")
def upstream_app(live_barong):
    with UpstreamApp(live_barong.url) as up:
        yield up


@pytest.fixture(scope="module")
def gateway(live_barong, upstream_app, admin_client):
    with NginxGateway(live_barong.url, upstream_app.url) as gw:
        yield gw


@pytest.fixture(scope="module")
def naive_gateway(live_barong, upstream_app, admin_client):
    with NginxGateway(live_barong.url, upstream_app.url, keep_method=False) as gw:
        yield gw


def test_served_by_granian_with_a_redacted_access_log(live_barong, admin_client):
    r = requests.get(live_barong.url + "/api/v2/barong/identity/ping?reset_token=s3cr3t-value&x=1", timeout=5)
    assert r.status_code == 200 and r.json() == {"ping": "pong"}
    assert r.headers["Server"] == "granian" and r.headers["X-Content-Type-Options"] == "nosniff"
    deadline = time.monotonic() + 5
    while "reset_token=[FILTERED]&x=1" not in live_barong.log_text() and time.monotonic() < deadline:
        time.sleep(0.1)
    log = live_barong.log_text()
    assert '"GET /api/v2/barong/identity/ping?reset_token=[FILTERED]&x=1 HTTP/1.1" 200 16' in log
    assert "s3cr3t-value" not in log


def test_mail_goes_out_from_the_background_deliverer_and_its_token_is_never_logged(live_barong, smtp_sink,
                                                                                    new_email):
    addr = new_email("granian")
    c = Client(live_barong.url)
    assert c.signup(addr).status_code == 201
    [msg] = smtp_sink.wait_for(to=addr, subject="Registration Confirmation")
    token = link_token(msg)
    assert c.confirm_email(token).status_code == 201
    page = requests.get(f"{live_barong.url}/accounts/confirmation?confirmation_token={token}", timeout=5,
                        allow_redirects=False)
    assert page.status_code < 500
    c.login(addr)
    assert c.api("GET", "resource/users/me").json()["email"] == addr
    assert token not in live_barong.log_text() and "confirmation_token=[FILTERED]" in live_barong.log_text()


def test_sigterm_stops_every_process(smtp_sink):
    server = GunicornServer(env={"BARONG_SERVER": "granian"}, smtp=smtp_sink, workers=2, name="granian-stop")
    server.start()
    try:
        pid = server.proc.pid
        server.proc.send_signal(signal.SIGTERM)
        assert server.proc.wait(timeout=30) in (0, -signal.SIGTERM)
        time.sleep(0.5)
        left = subprocess.run(["pgrep", "-g", str(pid)], capture_output=True, text=True).stdout.split()
        assert left == []
    finally:
        server.cleanup()
