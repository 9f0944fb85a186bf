"""Restrictions (reference/authz.md §3) on the gateway check and on every request served here."""
from __future__ import annotations

import pytest

from barong.extensions import db
from barong.models import Restriction
from barong.services.access import restrictions
from tests.helpers import login_as

from .support import LONDON, TOKYO, auth

OPEN = "api/v2/peatio/public/markets"  # a pass path: 200 unless a restriction refuses it


def _add(category, scope, value, code=None, state="enabled"):
    """Create the restriction (or enable the seeded row with the same category/scope/value)."""
    r = db.session.query(Restriction).filter_by(category=category, scope=scope, value=value).first()
    if r is None:
        r = restrictions.create(category, scope, value, state=state, code=code)
    else:
        restrictions.update(r, state=state, code=code)
    db.session.commit()
    return r


def _from(client, ip):
    client.environ_base["REMOTE_ADDR"] = ip
    return client


def test_blacklist_ip(client):
    _add("blacklist", "ip", "192.168.0.1")
    _add("blacklist", "ip", "192.168.0.3", state="disabled")
    # 192.168.x is a trusted proxy range: the peer address itself must carry it
    _from(client, "192.168.0.1")
    resp = auth(client, "GET", OPEN)
    assert resp.status_code == 401 and resp.get_json() == {"errors": ["authz.restrict.blacklist"]}
    assert auth(_from(client, "192.168.0.2"), "GET", OPEN).status_code == 200
    assert auth(_from(client, "192.168.0.3"), "GET", OPEN).status_code == 200


def test_blacklist_ip_via_forwarded_for(client):
    _add("blacklist", "ip", "8.8.4.4")
    resp = auth(client, "GET", OPEN, headers={"X-Forwarded-For": "8.8.4.4"})
    assert resp.status_code == 401 and resp.get_json() == {"errors": ["authz.restrict.blacklist"]}


def test_blacklist_subnet(client):
    _add("blacklist", "ip_subnet", "192.168.32.0/24")
    resp = auth(_from(client, "192.168.32.42"), "GET", OPEN)
    assert resp.status_code == 403 and resp.get_json() == {"errors": ["authz.restrict.blacklist"]}
    assert auth(_from(client, "192.168.33.3"), "GET", OPEN).status_code == 200


def test_blacklist_all(client):
    _add("blacklist", "all", "all")
    resp = auth(client, "GET", OPEN)
    assert resp.status_code == 401 and resp.get_json() == {"errors": ["authz.restrict.blacklist"]}


def test_blacklist_country(client, geoip_db):
    _add("blacklist", "country", "japan")
    resp = auth(_from(client, TOKYO), "GET", OPEN)
    assert resp.status_code == 423 and resp.get_json() == {"errors": ["authz.restrict.blacklist"]}
    assert auth(_from(client, LONDON), "GET", OPEN).status_code == 200


def test_blacklist_continent(client, geoip_db):
    _add("blacklist", "continent", "EUROPE")
    assert auth(_from(client, LONDON), "GET", OPEN).status_code == 423
    assert auth(_from(client, TOKYO), "GET", OPEN).status_code == 200


def test_iso_codes_never_match(client, geoip_db):
    _add("blacklist", "country", "JP")
    assert auth(_from(client, TOKYO), "GET", OPEN).status_code == 200


def test_without_geoip_database_geo_rules_never_match(client):
    _add("blacklist", "country", "Japan")
    _add("blacklist", "continent", "Asia")
    assert auth(_from(client, TOKYO), "GET", OPEN).status_code == 200


@pytest.mark.parametrize("code", [403, 433, 522])
def test_custom_code(client, code):
    _add("blacklist", "ip", "8.8.4.4", code=code)
    resp = auth(_from(client, "8.8.4.4"), "GET", OPEN)
    assert resp.status_code == code and resp.get_json() == {"errors": ["authz.restrict.blacklist"]}


def test_maintenance_default_and_custom_code(client):
    r = _add("maintenance", "all", "all")
    resp = auth(client, "GET", OPEN)
    assert resp.status_code == 471 and resp.get_json() == {"errors": ["authz.restrict.maintenance"]}
    restrictions.update(r, code=503)
    db.session.commit()
    assert auth(client, "GET", OPEN).status_code == 503


def test_whitelist_beats_maintenance(client):
    _add("whitelist", "ip", "8.8.4.4")
    _add("maintenance", "ip", "8.8.4.4")
    assert auth(_from(client, "8.8.4.4"), "GET", OPEN).status_code == 200
    assert auth(_from(client, "8.8.8.8"), "GET", OPEN).status_code == 200  # maintenance only for that ip


def test_whitelist_ip_beats_maintenance_all(client):
    _add("whitelist", "ip", "8.8.4.4")
    _add("maintenance", "all", "all")
    assert auth(_from(client, "8.8.4.4"), "GET", OPEN).status_code == 200
    assert auth(_from(client, "8.8.8.8"), "GET", OPEN).status_code == 471


def test_maintenance_beats_blacklist(client):
    _add("maintenance", "ip", "8.8.4.4")
    _add("blacklist", "ip", "8.8.4.4")
    resp = auth(_from(client, "8.8.4.4"), "GET", OPEN)
    assert resp.status_code == 471 and resp.get_json() == {"errors": ["authz.restrict.maintenance"]}


def test_whitelist_subnet_and_country_scopes(client, geoip_db):
    _add("whitelist", "ip_subnet", "81.2.0.0/16")
    _add("whitelist", "country", "Japan")
    _add("blacklist", "all", "all")
    assert auth(_from(client, LONDON), "GET", OPEN).status_code == 200
    assert auth(_from(client, TOKYO), "GET", OPEN).status_code == 200
    assert auth(_from(client, "8.8.8.8"), "GET", OPEN).status_code == 401


def test_blocklogin_only_for_the_sessions_path(client, geoip_db, make_user):
    user = make_user()
    _add("blocklogin", "continent", "EUROPE", code=425)
    _from(client, LONDON)
    resp = auth(client, "POST", "api/v2/barong/identity/sessions")
    assert resp.status_code == 425 and resp.get_json() == {"errors": ["authz.restrict.blocklogin"]}
    assert auth(client, "GET", OPEN).status_code == 200
    assert auth(client, "POST", "api/v2/barong/identity/users").status_code == 200
    # served here directly: the login itself is refused, other identity calls are not
    resp = client.post("/api/v2/barong/identity/sessions", json={"email": user.email, "password": "x"})
    assert resp.status_code == 425 and resp.get_json() == {"errors": ["authz.restrict.blocklogin"]}
    assert client.get("/api/v2/barong/identity/ping").status_code == 200
    assert auth(_from(client, TOKYO), "POST", "api/v2/barong/identity/sessions").status_code == 200


def test_blocklogin_refuses_the_web_login_form(client, app, make_user):
    if "account.login" not in app.view_functions:
        pytest.skip("no web login page in this tree")
    user = make_user()
    _add("blocklogin", "ip", "8.8.4.4", code=425)
    _from(client, "8.8.4.4")
    assert client.get("/accounts/login").status_code == 200  # the page itself is shown
    resp = client.post("/accounts/login", data={"email": user.email, "password": "x"})
    assert resp.status_code == 425
    assert client.post("/accounts/login", data={"email": user.email, "password": "x"},
                       environ_base={"REMOTE_ADDR": "8.8.8.8"}).status_code != 425


def test_maintenance_page_for_web_requests(client):
    _add("maintenance", "all", "all")
    resp = client.get("/")
    assert resp.status_code == 471 and resp.mimetype == "text/html"


def test_restrictions_skipped_for_the_whitelink_path(client):
    _add("maintenance", "all", "all")
    assert auth(client, "POST", "api/v2/barong/identity/users/access").status_code == 200


def test_whitelink_lets_a_maintenance_blocked_client_in(client):
    token = restrictions.issue_whitelink(60)
    db.session.commit()
    _add("maintenance", "all", "all")
    _from(client, "8.8.4.4")
    assert client.get("/api/v2/barong/identity/ping").status_code == 471
    resp = client.post("/api/v2/barong/identity/users/access", json={"whitelink_token": token})
    assert resp.status_code == 201, resp.get_json()
    assert client.get("/api/v2/barong/identity/ping").status_code == 200
    assert auth(client, "GET", OPEN).status_code == 200
    assert auth(_from(client, "8.8.8.8"), "GET", OPEN).status_code == 471


@pytest.mark.parametrize("url", ["/api/v2/barong/identity/ping", "/api/v2/barong/public/ping", "/",
                                 "/api/v2/barong/resource/users/me"])
def test_every_request_served_here_is_restricted(client, url):
    _add("blacklist", "ip", "8.8.4.4", code=403)
    resp = _from(client, "8.8.4.4").get(url)
    assert resp.status_code == 403
    if url.startswith("/api/"):
        assert resp.get_json() == {"errors": ["authz.restrict.blacklist"]}


def test_jwks_and_static_stay_reachable(client):
    _add("maintenance", "all", "all")
    assert client.get("/.well-known/jwks.json").status_code == 200
    assert client.get("/api/v2/barong/public/jwks").status_code == 200


def test_changes_apply_at_once(client):
    assert auth(client, "GET", OPEN).status_code == 200
    r = _add("blacklist", "all", "all")
    assert auth(client, "GET", OPEN).status_code == 401
    restrictions.update(r, state="disabled")
    db.session.commit()
    assert auth(client, "GET", OPEN).status_code == 200
    restrictions.update(r, state="enabled")
    db.session.commit()
    assert auth(client, "GET", OPEN).status_code == 401
    restrictions.delete(r)
    db.session.commit()
    assert auth(client, "GET", OPEN).status_code == 200


def test_direct_row_insert_invalidates_too(client):
    assert auth(client, "GET", OPEN).status_code == 200
    db.session.add(Restriction(category="blacklist", scope="all", value="all", code=418, state="enabled"))
    db.session.commit()
    assert auth(client, "GET", OPEN).status_code == 418


def test_cache_is_shared_through_the_generation_file(app):
    """Another worker's change (simulated: rows changed behind the cache, then a bump) is seen."""
    from barong.authz import process_cache

    assert restrictions.enabled() == {}
    db.session.execute(Restriction.__table__.insert().values(category="blacklist", scope="all", value="all",
                                                              code=401, state="enabled"))
    db.session.commit()
    assert restrictions.enabled() == {}  # cached: a bulk insert does not pass through the ORM hooks
    process_cache.bump()
    assert restrictions.enabled()["blacklist"]["all"] == [("all", 401)]


def test_blocklogin_deletes_sessions_and_refuses_login(client, make_user):
    user = make_user()
    login_as(client, user)
    _from(client, "8.8.4.4")
    _add("blocklogin", "ip", "8.8.4.4", code=401)
    resp = auth(client, "GET", "api/v2/barong/resource/users/me")
    assert resp.get_json() == {"errors": ["authz.invalid_session"]}
