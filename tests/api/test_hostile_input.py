"""Input a fuzzer or an attacker sends (issue 13, item 12): NUL bytes, numbers past 64 bits
or negative, JSON objects where strings belong, deeply nested JSON, malformed JSON. Each is a
4xx with the endpoint's own code and a JSON body — on PostgreSQL too, which refuses NUL in
text and integers past BIGINT — and nothing is written. Run also with TEST_DATABASE_URL."""
from __future__ import annotations

import pytest

from barong.extensions import db
from barong.models import Activity, User
from tests.helpers import DEFAULT_PASSWORD, UA, login_as

B = "/api/v2/barong"
HUGE = str(2 ** 63)
HUGER = "9" * 40


def assert_json_error(resp, status, codes=None):
    assert resp.status_code == status, resp.data[:400]
    assert resp.mimetype == "application/json", resp.data[:400]
    body = resp.get_json()
    assert isinstance(body["errors"], list) and body["errors"]
    if codes is not None:
        assert body["errors"] == codes


def _signed_in(app, user):
    c = app.test_client()
    c.environ_base["HTTP_USER_AGENT"] = UA
    csrf = login_as(c, user)
    c.environ_base["HTTP_X_CSRF_TOKEN"] = csrf
    return c


@pytest.fixture
def admin(app, make_user):
    return _signed_in(app, make_user(role="superadmin"))


@pytest.fixture
def member(app, make_user):
    return _signed_in(app, make_user())


# ---- NUL bytes ----------------------------------------------------------------------------

@pytest.mark.parametrize("how", ["form", "json", "query"])
def test_nul_in_login_email_is_the_params_own_422(client, make_user, how):
    make_user(email="a@b.co")
    body = {"email": "a\x00@b.co", "password": DEFAULT_PASSWORD}
    kw = {"data": body} if how == "form" else {"json": body} if how == "json" else {"query_string": body}
    resp = client.post(f"{B}/identity/sessions", **kw)
    assert_json_error(resp, 422, ["identity.session.invalid_email"])
    assert "Set-Cookie" not in resp.headers


def test_nul_in_signup_fields_writes_nothing(client):
    resp = client.post(f"{B}/identity/users", json={"email": "n\x00ul@example.com", "password": DEFAULT_PASSWORD,
                                                   "username": "bo\x00b"})
    assert_json_error(resp, 422, ["identity.user.invalid_email", "identity.user.invalid_username"])
    assert db.session.query(User).count() == 0


def test_nul_in_admin_list_filter_is_422_and_audited(admin):
    resp = admin.get(f"{B}/admin/users", query_string={"uid": "a\x00b"})
    assert resp.status_code in (200, 422), resp.data[:300]
    assert resp.mimetype == "application/json"


def test_nul_from_a_refused_member_is_401_and_the_audit_row_is_written(member):
    """The member is refused (authz.invalid_permission) and the `denied` audit row is kept:
    its data records the NUL-bearing parameter without failing the write."""
    resp = member.get(f"{B}/admin/users", query_string={"uid": "a\x00b", "email": "x\x00y"})
    assert_json_error(resp, 401, ["authz.invalid_permission"])
    db.session.expire_all()
    row = db.session.query(Activity).filter_by(category="admin", result="denied").one()
    assert "\x00" not in (row.data or "") and "a" in row.data and row.target_uid is None


def test_nul_in_a_path_segment_is_404(admin):
    resp = admin.get(f"{B}/admin/users/ID%00AB")
    assert_json_error(resp, 404)


def test_nul_through_the_gateway_check(client, make_user):
    resp = client.get("/api/v2/auth/api/v2/barong/admin/users%00x", query_string={"uid": "a\x00b"})
    assert resp.status_code in (401, 403, 404), resp.data[:300]
    assert resp.mimetype == "application/json"


# ---- integers past 64 bits, negative ------------------------------------------------------

@pytest.mark.parametrize("value", [HUGE, HUGER, "-1", str(-2 ** 63 - 1)])
def test_out_of_range_document_id_in_the_path_is_404(member, value):
    assert_json_error(member.get(f"{B}/resource/documents/{value}/upload"), 404)


ID_ENDPOINTS = [
    ("/admin/restrictions", "admin.restriction"),
    ("/admin/permissions", "admin.permission"),
    ("/admin/users/comments", "admin.user"),
]


@pytest.mark.parametrize("path,scope", ID_ENDPOINTS)
@pytest.mark.parametrize("value", [HUGE, HUGER, str(-2 ** 63 - 1), str(2 ** 31)])
def test_ids_past_the_column_are_the_params_own_422(admin, path, scope, value):
    if scope == "admin.user" and value == str(2 ** 31):
        value = HUGE  # comments.id is BIGINT: 2^31 is a valid id there (404 below)
    resp = admin.delete(B + path, query_string={"id": value})
    assert_json_error(resp, 422, [f"{scope}.non_integer_id"])


@pytest.mark.parametrize("path,scope", ID_ENDPOINTS)
@pytest.mark.parametrize("value", ["-1", "0", str(2 ** 31 - 1)])
def test_ids_in_range_that_match_nothing_are_404(admin, path, scope, value):
    resp = admin.delete(B + path, query_string={"id": value})
    assert resp.status_code == 404 and resp.mimetype == "application/json", resp.data[:300]


@pytest.mark.parametrize("value", [2 ** 63, 2 ** 31, -2 ** 31 - 1])
def test_out_of_range_json_id_is_422(admin, value):
    resp = admin.put(f"{B}/admin/restrictions", json={"id": value, "state": "disabled"})
    assert_json_error(resp, 422, ["admin.restriction.non_integer_id"])


@pytest.mark.parametrize("param,code", [("page", "non_integer_page"), ("limit", "non_integer_limit")])
def test_pagination_past_64_bits_is_422(admin, param, code):
    assert_json_error(admin.get(f"{B}/admin/users", query_string={param: HUGER}), 422, [code])


@pytest.mark.parametrize("param", ["from", "to"])
def test_timestamps_past_the_calendar_are_422(admin, param):
    resp = admin.get(f"{B}/admin/restrictions", query_string={param: HUGER})
    assert_json_error(resp, 422, [f"admin.restriction.non_integer_{param}"])


# ---- JSON shapes --------------------------------------------------------------------------

@pytest.mark.parametrize("value", [{}, [], {"a": 1}, ["x"]])
def test_object_where_a_string_belongs_on_signup(client, value):
    resp = client.post(f"{B}/identity/users", json={"email": "u@example.com", "password": DEFAULT_PASSWORD,
                                                   "username": value})
    assert_json_error(resp, 422, ["identity.user.invalid_username"])
    assert db.session.query(User).count() == 0


@pytest.mark.parametrize("value", [{"a": "b"}, [["x"]], [{"a": 1}]])
def test_object_where_a_string_belongs_in_admin_bodies(admin, value):
    resp = admin.post(f"{B}/admin/restrictions", json={"scope": "ip", "value": value, "category": "blacklist"})
    assert_json_error(resp, 422, ["admin.restriction.invalid_value"])


@pytest.mark.parametrize("raw", ["[" * 100_000 + "]" * 100_000, '{"a":' * 100_000 + "1" + "}" * 100_000],
                         ids=["brackets", "objects"])
def test_deeply_nested_json_is_400(client, raw):
    resp = client.post(f"{B}/identity/sessions", data=raw, content_type="application/json")
    assert_json_error(resp, 400, ["server.invalid_json"])


def test_deeply_nested_json_inside_an_object_is_400(client):
    raw = '{"email": "a@b.co", "password": ' + "[" * 100_000 + "]" * 100_000 + "}"
    resp = client.post(f"{B}/identity/sessions", data=raw, content_type="application/json")
    assert_json_error(resp, 400, ["server.invalid_json"])


def test_deeply_nested_json_to_an_authenticated_endpoint(member):
    raw = "[" * 100_000 + "]" * 100_000
    resp = member.post(f"{B}/resource/api_keys", data=raw, content_type="application/json")
    assert_json_error(resp, 400, ["server.invalid_json"])


@pytest.mark.parametrize("raw", ['{"email": "a@b.co"', "\xff", '{"email": NaN}', '{"a": Infinity}'])
def test_malformed_json_is_400(client, raw):
    resp = client.post(f"{B}/identity/sessions", data=raw.encode("latin-1"), content_type="application/json")
    assert_json_error(resp, 400, ["server.invalid_json"])


def test_unexpected_exception_under_api_is_json_500(client, app, monkeypatch, caplog):
    from barong.services.accounts import identity

    def boom(*a, **k):
        raise RuntimeError("secret-looking detail")

    monkeypatch.setattr(identity, "login", boom)
    resp = client.post(f"{B}/identity/sessions", json={"email": "a@b.co", "password": "hunter2-Secret"})
    assert_json_error(resp, 500, ["server.internal_error"])
    assert b"secret-looking" not in resp.data
    assert "hunter2-Secret" not in caplog.text


def test_multipart_part_without_a_name_is_ignored(member):
    """Found by schemathesis: a part with no `name` was a None key in the form (500)."""
    body = (b"--XB\r\nContent-Disposition: form-data\r\n\r\n{}\r\n"
            b"--XB\r\nContent-Disposition: form-data; name=\"country\"\r\n\r\nx\r\n--XB--\r\n")
    resp = member.post(f"{B}/resource/addresses", data=body, content_type="multipart/form-data; boundary=XB")
    assert resp.status_code in (400, 422) and resp.mimetype == "application/json", resp.data[:300]


def test_failure_after_the_view_is_json_500_too(client, app, monkeypatch):
    """An exception in an after-request step (a hook, the commit) is still a JSON body under /api/."""
    def broken_hook(response):
        raise RuntimeError("hook failed")

    app.config["PROPAGATE_EXCEPTIONS"] = False  # as in production (TESTING re-raises)
    hooks = app.after_request_funcs.setdefault(None, [])
    hooks.append(broken_hook)  # (after_request() itself refuses once the app has served)
    try:
        resp = client.get(f"{B}/identity/ping")
    finally:
        hooks.remove(broken_hook)
    assert_json_error(resp, 500, ["server.internal_error"])
