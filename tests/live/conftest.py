"""Live fixtures, one set per test session (per xdist worker): an SMTP sink, Barong under
gunicorn (2 workers, as `make run`), the JWT-verifying upstream and Debian nginx in front.

* `smtp_sink`, `live_barong` (GunicornServer), `upstream_app`, `gateway` (NginxGateway);
* `admin_client`: the first user (active superadmin), logged in directly on `live_barong`;
* `new_email()`: a unique address per call.

Every test here is marked `live` automatically.
"""
from __future__ import annotations

import itertools
import uuid

import pytest

from tests.live.harness import Client, GunicornServer, NginxGateway, SmtpSink, UpstreamApp

ADMIN_EMAIL = "live-admin@example.com"


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "/tests/live/" in str(item.fspath).replace("\\", "/"):
            item.add_marker(pytest.mark.live)


@pytest.fixture(scope="session")
def smtp_sink():
    with SmtpSink() as sink:
        yield sink


@pytest.fixture(scope="session")
def live_barong(smtp_sink):
    with GunicornServer(smtp=smtp_sink, workers=2) as server:
        yield server


@pytest.fixture(scope="session")
def admin_client(live_barong):
    c = Client(live_barong.url)
    c.signup(ADMIN_EMAIL)  # first registration: active superadmin
    return c


@pytest.fixture(scope="session")
def upstream_app(live_barong):
    with UpstreamApp(live_barong.url) as up:
        yield up


@pytest.fixture(scope="session")
def gateway(live_barong, upstream_app, admin_client):
    with NginxGateway(live_barong.url, upstream_app.url) as gw:
        yield gw


_n = itertools.count(1)


@pytest.fixture
def new_email():
    return lambda prefix="user": f"{prefix}-{next(_n)}-{uuid.uuid4().hex[:6]}@example.com"


@pytest.fixture(scope="session")
def naive_gateway(live_barong, upstream_app, admin_client):
    """nginx without `proxy_method $request_method`: its auth_request subrequest is a GET."""
    with NginxGateway(live_barong.url, upstream_app.url, keep_method=False) as gw:
        yield gw
