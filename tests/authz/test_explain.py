"""Authorization explain and dry-run (barong.authz.explain, admin/authz/*): the trace, and
— over random permission tables, restrictions and requests — never a disagreement with
the real gateway (`/api/v2/auth/<path>`)."""
from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from barong.authz import explain as explainer
from barong.authz.process_cache import invalidate
from barong.extensions import db
from barong.models import Activity, Permission, Restriction
from barong.services.access import restrictions
from barong.services.infra import unit_of_work
from tests.helpers import login_as

from .support import auth


@pytest.fixture
def api(app, make_user):
    from tests.api.admin.conftest import AdminClient
    from tests.helpers import UA

    def factory(role="superadmin"):
        user = make_user(role=role)
        c = app.test_client()
        c.environ_base["HTTP_USER_AGENT"] = UA
        return AdminClient(c, login_as(c, user), user)

    return factory

PREFIXES = ["api/v2", "api/v2/peatio", "api/v2/peatio/account", "api/v2/peatio/account/withdraws",
            "api/v2/barong/resource", "api/v2/barong/identity", "api/v2/barong/management", "api/v2/ranger"]
VERBS = ["GET", "POST", "PUT", "DELETE", "PATCH"]
ROW = st.tuples(st.sampled_from(VERBS + ["ALL"]), st.sampled_from(PREFIXES),
                st.sampled_from(["ACCEPT", "DROP", "AUDIT"]))
RESTRICTION = st.one_of(st.none(), st.tuples(st.sampled_from(["blacklist", "maintenance", "whitelist"]),
                                             st.sampled_from(["127.0.0.1", "10.9.9.9"])))


def _set_table(role: str, rows) -> None:
    db.session.query(Permission).filter_by(role=role).delete()
    for verb, path, action in rows:
        db.session.add(Permission(role=role, verb=verb, path=path, action=action, topic="t"))
    db.session.commit()
    invalidate()


def _set_restriction(r) -> None:
    db.session.query(Restriction).delete()
    db.session.commit()
    if r is not None:
        restrictions.create(r[0], "ip", r[1])
        unit_of_work.commit()
    restrictions.invalidate_cache()


@pytest.fixture
def tester(app, make_user, client):
    _set_table("tester", [("GET", "api/v2", "ACCEPT")])
    user = make_user(role="tester")
    csrf = login_as(client, user)
    return user, csrf


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data(), restriction=RESTRICTION, verb=st.sampled_from(VERBS), prefix=st.sampled_from(PREFIXES),
       suffix=st.sampled_from(["", "/x", "/x/y"]))
def test_explain_never_disagrees_with_the_gateway(app, client, tester, data, restriction, verb, prefix, suffix):
    """Rows are drawn mostly from what can match the request (its verb or ALL, a prefix
    of its path), so ACCEPT/DROP/AUDIT combinations on the request itself are common."""
    user, csrf = tester
    path = prefix + suffix
    near = [p for p in PREFIXES if path.startswith(p)] + ["api/v2/peatio/other"]
    row = st.tuples(st.sampled_from([verb, "ALL", "GET" if verb != "GET" else "POST"]), st.sampled_from(near),
                    st.sampled_from(["ACCEPT", "DROP", "AUDIT"]))
    rows = data.draw(st.lists(st.one_of(row, ROW), max_size=6), label="rows")
    _set_table("tester", rows)
    _set_restriction(restriction)
    resp = auth(client, verb, path, headers={"X-CSRF-Token": csrf})
    trace = explainer.explain(verb, path, "127.0.0.1", uid=user.uid)
    got = (resp.status_code, (resp.get_json(silent=True) or {}).get("errors", [None])[0])
    assert (trace.status, trace.code) == got, (rows, restriction, verb, path, trace.steps)


def test_the_trace_names_the_winning_row(app, tester):
    user, _ = tester
    _set_table("tester", [("ALL", "api/v2", "ACCEPT"), ("POST", "api/v2/peatio/account/withdraws", "DROP")])
    t = explainer.explain("POST", "api/v2/peatio/account/withdraws", "127.0.0.1", uid=user.uid).as_dict()
    assert (t["status"], t["code"], t["result"]) == (401, "authz.invalid_permission", "refused")
    perm = next(s for s in t["steps"] if s["step"] == "permissions")
    assert perm["winner"] == {"verb": "POST", "path": "api/v2/peatio/account/withdraws", "action": "DROP",
                              "topic": "t"}
    assert len(perm["matched"]) == 2 and perm["reason"] == "a DROP row matched"
    ok = explainer.explain("GET", "api/v2/peatio/account/withdraws", "127.0.0.1", role="tester").as_dict()
    assert ok["status"] == 200 and ok["steps"][2] == {"step": "caller", "outcome": "role only", "role": "tester"}


def test_restriction_rules_and_caller_steps(app, tester, make_user):
    user, _ = tester
    restrictions.create("blacklist", "ip_subnet", "10.0.0.0/8")
    unit_of_work.commit()
    t = explainer.explain("GET", "api/v2/peatio/x", "10.1.2.3", uid=user.uid).as_dict()
    assert t["code"] == "authz.restrict.blacklist"
    assert t["steps"][0] == {"step": "restrictions", "outcome": "refused", "code": "authz.restrict.blacklist",
                             "status": 403, "category": "blacklist", "scope": "ip_subnet", "value": "10.0.0.0/8"}
    assert explainer.explain("GET", "api/v2/barong/management/x", "1.1.1.1", uid=user.uid).code == \
        "authz.permission_denied"
    assert explainer.explain("GET", "api/v2/barong/identity/x", "1.1.1.1", uid=user.uid).steps[-1]["outcome"] == "pass"
    banned = make_user(state="banned")
    assert explainer.explain("GET", "api/v2/x", "1.1.1.1", uid=banned.uid).code == "authz.user_not_active"
    assert explainer.explain("GET", "api/v2/x", "1.1.1.1", uid="IDNOBODY").code == "authz.invalid_session"
    assert explainer.explain("GET", "api/v2/x", "1.1.1.1", kid="nokey").code == "authz.unexistent_apikey"


def test_the_admin_api(api, tester):
    user, _ = tester
    sa = api("superadmin")
    resp = sa.get("/authz/explain", query_string={"uid": user.uid, "verb": "GET", "path": "api/v2/peatio/x"})
    assert resp.status_code == 200 and resp.get_json()["result"] == "allowed"
    both = sa.get("/authz/explain", query_string={"uid": user.uid, "role": "x", "verb": "GET", "path": "api/v2"})
    assert both.status_code == 422 and both.get_json()["errors"] == ["admin.authz.one_of_uid_kid_role"]
    bad = sa.get("/authz/explain", query_string={"role": "x", "verb": "BREW", "path": "api/v2"})
    assert bad.status_code == 422 and bad.get_json()["errors"] == ["admin.authz.invalid_verb"]
    assert api("support").get("/authz/explain", query_string={"role": "x", "verb": "GET",
                                                              "path": "api/v2"}).status_code == 401


def test_dry_run_lists_the_decisions_a_change_would_flip_and_writes_nothing(app, api, client, tester):
    user, csrf = tester
    _set_table("tester", [("ALL", "api/v2", "ACCEPT"), ("ALL", "api/v2", "AUDIT")])
    for path in ("api/v2/peatio/account/withdraws", "api/v2/peatio/market/orders"):
        assert auth(client, "POST", path, headers={"X-CSRF-Token": csrf}).status_code == 200
    audited = db.session.query(Activity).filter_by(user_id=user.id, category="admin").count()
    assert audited == 2
    permissions_before = db.session.query(Permission).count()
    restrictions_before = db.session.query(Restriction).count()
    sa = api("superadmin")
    resp = sa.get("/authz/dry_run", query_string={"kind": "permission", "op": "create", "role": "tester",
                                                  "verb": "post", "path": "api/v2/peatio/account/withdraws",
                                                  "action": "drop"})
    assert resp.status_code == 200
    body = resp.get_json()
    assert [(f["method"], f["path"], f["before"], f["after"]) for f in body["flips"]] == \
        [("POST", "api/v2/peatio/account/withdraws", "allowed", "refused")]
    assert body["flips"][0]["uid"] == user.uid
    assert db.session.query(Permission).count() == permissions_before
    # removing the ACCEPT row would refuse both
    accept = db.session.query(Permission).filter_by(role="tester", action="ACCEPT").one()
    body = sa.get("/authz/dry_run", query_string={"kind": "permission", "op": "delete", "id": accept.id}).get_json()
    assert len(body["flips"]) == 2
    # a blacklist of the callers' address refuses them
    body = sa.get("/authz/dry_run", query_string={"kind": "restriction", "op": "create", "category": "blacklist",
                                                  "scope": "ip", "value": "127.0.0.1"}).get_json()
    assert {f["activity_id"] for f in body["flips"]} >= {a.id for a in db.session.query(Activity)
                                                         .filter_by(user_id=user.id, category="admin")}
    assert db.session.query(Restriction).count() == restrictions_before
    missing = sa.get("/authz/dry_run", query_string={"kind": "permission", "op": "delete", "id": 999999})
    assert missing.status_code == 404
    assert json.loads(json.dumps(body))["decisions_checked"] >= 2


def test_the_console_form(app, make_user, tester):
    user, _ = tester
    c = app.test_client()
    login_as(c, make_user(role="superadmin"))
    page = c.get(f"/admin/authz?uid={user.uid}&verb=GET&path=api/v2/peatio/x").get_data(as_text=True)
    assert 'id="trace"' in page and "permissions" in page and "200" in page
    page = c.get("/admin/authz?role=tester&uid=x&verb=GET&path=api/v2").get_data(as_text=True)
    assert 'role="alert"' in page and 'id="trace"' not in page
    page = c.get("/admin/authz?dry_kind=permission&dry_op=create&dry_role=tester&dry_verb=GET&dry_path=api/v2"
                 "&dry_action=DROP").get_data(as_text=True)
    assert 'id="dry-run"' in page
    support = app.test_client()
    login_as(support, make_user(role="support"))
    assert support.get("/admin/authz").status_code in (302, 401, 403)


@pytest.mark.parametrize("query, code", [
    ({"kind": "restriction", "op": "create"}, "category.blank"),
    ({"kind": "restriction", "op": "create", "category": "nope", "scope": "ip", "value": "1.1.1.1"},
     "admin.restriction.invalid_category"),
    ({"kind": "permission", "op": "create", "role": "x"}, "verb.blank"),
])
def test_dry_run_refuses_an_incomplete_change(api, query, code):
    resp = api("superadmin").get("/authz/dry_run", query_string=query)
    assert resp.status_code == 422 and code in resp.get_json()["errors"]
