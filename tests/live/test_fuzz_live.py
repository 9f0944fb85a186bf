"""schemathesis against the real server (gunicorn, 2 workers, as `make run`), over HTTP:
the document is read from the served URL; the open API (identity, public) as nobody and the
admin API's reads as the superadmin (session cookie; GET only, so the shared server's other
tests keep their data). Random cases only, few of them: the in-process suite
(tests/fuzz) does the coverage cases; this one proves the served document and the real
server agree (no 5xx, statuses, bodies and content types as documented, through gunicorn)."""
from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (content_type_conformance, response_schema_conformance,
                                               status_code_conformance)

from tests.live.conftest import ADMIN_EMAIL
from tests.live.harness import Client

pytestmark = pytest.mark.fuzz

CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance, content_type_conformance]
LIVE_SETTINGS = settings(max_examples=3, deadline=None, derandomize=True, database=None,
                         suppress_health_check=list(HealthCheck))


@pytest.fixture
def live_schema(live_barong, admin_client):  # admin_client first: the first signup is the superadmin
    loaded = schemathesis.openapi.from_url(live_barong.url + "/api/v2/barong/openapi.json")
    loaded.config.generation.update(modes=["positive", "negative"], max_examples=3, deterministic=True,
                                    with_security_parameters=False, no_shrink=True)
    loaded.config.phases.coverage.enabled = False
    return loaded


@pytest.fixture
def live_admin(live_barong):
    c = Client(live_barong.url)
    c.login(ADMIN_EMAIL)
    return {"headers": {"User-Agent": c.headers["User-Agent"], "X-CSRF-Token": c.csrf},
            "cookies": {"_barong_session": c.session_cookie()}}


lazy = schemathesis.pytest.from_fixture("live_schema")


@lazy.include(path_regex=r"^/api/v2/barong/(identity|public)/").parametrize()
@LIVE_SETTINGS
def test_open_api_over_gunicorn(case):
    case.call_and_validate(checks=CHECKS, headers={"User-Agent": "Mozilla/5.0 live-fuzz"}, timeout=30)


@lazy.include(path_regex=r"^/api/v2/barong/admin/", method="GET").parametrize()
@LIVE_SETTINGS
def test_admin_reads_over_gunicorn(case, live_admin):
    case.call_and_validate(checks=CHECKS, headers=dict(live_admin["headers"]), cookies=dict(live_admin["cookies"]),
                           timeout=30)
