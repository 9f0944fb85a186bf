"""schemathesis over the served OpenAPI document (issue 13, item 14).

The document is fetched from `GET /api/v2/barong/openapi.json` of a running app (the
served one, not a Python dict), and every operation in it is fuzzed in-process against the
test app, as three identities: nobody, a member and a superadmin (session cookie +
X-CSRF-Token, logged in afresh for each operation on a freshly seeded database, so an
operation that logs out, deletes the account or revokes permissions harms only itself).
A test fails on any 5xx, a status the document does not list, a response body that breaks
the documented schema (the `{"errors": [...]}` envelope), a wrong content type, or a 405
without `Allow` (schemathesis' coverage phase tries undocumented methods).

Bounded for CI: FUZZ_EXAMPLES examples per operation and identity (default 6), positive and
negative data, derandomized (the same cases every run), no shrinking. `-m fuzz` selects it.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.core import NotSet
from schemathesis.specs.openapi.checks import (allow_header_conformance, content_type_conformance,
                                               response_schema_conformance, status_code_conformance,
                                               unsupported_method)

from barong import create_app
from barong.config import test_config as make_test_config
from barong.extensions import db
from tests.helpers import UA, login_as

pytestmark = pytest.mark.fuzz

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "6"))
#: no 5xx; statuses, bodies and content types as documented; an undocumented method is a 405
#: with `Allow`, and OPTIONS lists exactly the documented methods
CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance, content_type_conformance,
          unsupported_method, allow_header_conformance]


def _served_schema(area_regex: str, coverage: bool = True):
    """The document as the server serves it (a throwaway app on its own SQLite file),
    restricted to the operations one identity is fuzzed on."""
    tmp = Path(tempfile.mkdtemp(prefix="barong-fuzz-"))
    app = create_app(make_test_config(tmp, SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp / 'doc.db'}"))
    with app.app_context():
        db.create_all()  # the request hooks (restrictions) read a table
    loaded = schemathesis.openapi.from_wsgi("/api/v2/barong/openapi.json", app)
    loaded.config.generation.update(modes=["positive", "negative"], max_examples=EXAMPLES, deterministic=True,
                                    with_security_parameters=False, no_shrink=True)
    if not coverage:
        loaded.config.phases.coverage.enabled = False
    return loaded.include(path_regex=area_regex)


FUZZ_SETTINGS = settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                         suppress_health_check=list(HealthCheck))


def _identity(app, make_user, role):
    if role is None:
        return {"headers": {"User-Agent": UA}}
    user = make_user(role=role)
    client = app.test_client()
    client.environ_base["HTTP_USER_AGENT"] = UA
    csrf = login_as(client, user)
    cookie = client.get_cookie(app.config["BARONG_SESSION_NAME"])
    return {"headers": {"User-Agent": UA, "X-CSRF-Token": csrf},
            "cookies": {app.config["BARONG_SESSION_NAME"]: cookie.value}}


#: figures for the report (tests/fuzz/conftest.py prints them): per identity, the operations
#: run, the requests sent, the 5xx answers and the failed checks
STATS: dict = {}


def _run(case, app, who, identity: str):
    figures = STATS.setdefault(identity, {"operations": set(), "requests": 0, "5xx": 0, "check_failures": 0,
                                          "statuses": {}})
    figures["operations"].add(case.operation.label)
    response = case.call(app=app, headers=dict(who["headers"]), cookies=dict(who.get("cookies", {})))
    figures["requests"] += 1
    figures["statuses"][response.status_code] = figures["statuses"].get(response.status_code, 0) + 1
    if response.status_code >= 500:
        figures["5xx"] += 1
    try:
        case.validate_response(response, checks=CHECKS, headers=dict(who["headers"]))
    except BaseException as failure:  # a FailureGroup (an exception group): one entry per failed check
        figures["check_failures"] += len(getattr(failure, "exceptions", [failure]))
        raise


@pytest.fixture
def member(app, make_user):
    return _identity(app, make_user, "member")


@pytest.fixture
def admin(app, make_user):
    return _identity(app, make_user, "superadmin")


#: who is fuzzed where: nobody on the open and the signed (management) API, a member on
#: the resource API and — refused, which still writes the audit row — on the admin API,
#: a superadmin on the admin API. Coverage cases (boundaries, NUL bytes, wrong types,
#: unexpected methods) for each pair except the refused one, which gets random cases only.
public_schema = _served_schema(r"^/api/v2/barong/(identity|public|management)/")
resource_schema = _served_schema(r"^/api/v2/barong/resource/")
admin_schema = _served_schema(r"^/api/v2/barong/admin/")
refused_schema = _served_schema(r"^/api/v2/barong/admin/", coverage=False)


@public_schema.parametrize()
@FUZZ_SETTINGS
def test_unauthenticated(case, app):
    _run(case, app, _identity(app, None, None), "unauthenticated")


@resource_schema.parametrize()
@FUZZ_SETTINGS
def test_member_on_resource(case, app, member):
    _run(case, app, member, "member (resource)")


@refused_schema.parametrize()
@FUZZ_SETTINGS
def test_member_on_admin_is_refused(case, app, member):
    _run(case, app, member, "member (admin, refused)")


@admin_schema.parametrize()
@FUZZ_SETTINGS
def test_admin_on_admin(case, app, admin):
    _run(case, app, admin, "superadmin (admin)")


def _signed_management_schema():
    """The served document with each management operation's body replaced by what is
    signed inside it (`x-barong-payload-data`): the fuzzer generates the `data`, the test
    signs it (tests/api/management/support: an independent JWS builder) — so the handlers
    behind the gate are fuzzed too, not only the gate."""
    tmp = Path(tempfile.mkdtemp(prefix="barong-fuzz-"))
    app = create_app(make_test_config(tmp, SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp / 'doc.db'}"))
    with app.app_context():
        db.create_all()
    doc = app.test_client().get("/api/v2/barong/openapi.json").get_json()
    doc["paths"] = {path: ops for path, ops in doc["paths"].items() if path.startswith("/api/v2/barong/management/")}
    for ops in doc["paths"].values():
        for op in ops.values():
            op["requestBody"] = {"required": True,
                                 "content": {"application/json": {"schema": op["x-barong-payload-data"]}}}
    loaded = schemathesis.openapi.from_dict(doc)
    loaded.config.generation.update(modes=["positive", "negative"], max_examples=EXAMPLES, deterministic=True,
                                    with_security_parameters=False, no_shrink=True)
    return loaded


signed_schema = _signed_management_schema()


@signed_schema.parametrize()
@FUZZ_SETTINGS
def test_signed_management(case, app, fuzz_keychain):
    from tests.api.management.support import claims, independent_jws, keychain_config

    figures = STATS.setdefault("management (signed)", {"operations": set(), "requests": 0, "5xx": 0,
                                                       "check_failures": 0, "statuses": {}})
    figures["operations"].add(case.operation.label)
    data = {} if isinstance(case.body, NotSet) or case.body is None else case.body
    if isinstance(data, bytes):  # a binary body: what a client could sign is its text
        data = data.decode("latin-1")
    scope = case.operation.definition.raw.get("x-barong-management-scope")
    signers = keychain_config()["scopes"].get(scope, {}).get("mandatory_signers") or ["applogic"]
    body = independent_jws(claims(data), signers)
    response = app.test_client().open(case.formatted_path, method=case.method, json=body,
                                      headers={"User-Agent": UA})
    figures["requests"] += 1
    figures["statuses"][response.status_code] = figures["statuses"].get(response.status_code, 0) + 1
    figures["5xx"] += response.status_code >= 500
    try:
        case.validate_response(response, checks=CHECKS)
    except BaseException as failure:
        figures["check_failures"] += len(getattr(failure, "exceptions", [failure]))
        raise
