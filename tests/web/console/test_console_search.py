"""Issue 16 (16C): dashboard logins whatever the second factor, activity filters as choices,
search that finds anyone (email, uid, name, phone, document number)."""
from __future__ import annotations

from barong.extensions import db
from barong.models import Activity
from barong.services.audit import activities
from barong.services.infra import unit_of_work
from barong.services.operators import metrics


def test_dashboard_counts_2fa_logins_but_the_api_metrics_do_not(operator, console, make_user):
    client = console(operator("superadmin"))
    db.session.query(Activity).delete()
    unit_of_work.commit()
    plain, twofa = make_user(), make_user()
    activities.record(plain, "session", "login", "succeed")
    activities.record(twofa, "session", "login::2fa", "succeed")
    activities.record(twofa, "session", "login::2fa", "succeed")
    activities.record(twofa, "session", "login::2fa", "failed")
    activities.record(plain, "session", "login", "failed")
    unit_of_work.commit()
    metrics.clear_cache()
    body = client.get("/admin/?period=7").get_data(as_text=True)
    assert 'data-metric="logins">3<' in body
    assert 'data-metric="failed">2<' in body
    api = metrics.summary()
    assert sum(api["sucessful_logins"].values()) == 1 and sum(api["failed_logins"].values()) == 1


def _options(body: str, name: str) -> list[str]:
    import re

    block = re.search(rf'<select name="{name}".*?</select>', body, re.S).group(0)
    return re.findall(r'<option value="([^"]*)"', block)


def test_activity_topic_and_action_filters_are_choices_of_existing_values(operator, console, make_user):
    client = console(operator("superadmin"))
    alice = make_user(email="alice@example.com")
    activities.record(alice, "session", "login::2fa", "succeed")
    activities.record(alice, "password", "password reset", "succeed")
    unit_of_work.commit()
    body = client.get("/admin/activities").get_data(as_text=True)
    topics, actions = _options(body, "topic"), _options(body, "action")
    assert topics[0] == "" and {"session", "password"} <= set(topics)
    assert {"login", "login::2fa", "password reset"} <= set(actions)
    body = client.get("/admin/activities?topic=password").get_data(as_text=True)
    assert _options(body, "action") == ["", "password reset"]
    assert '<option value="password" selected>' in body
    # under htmx the table comes with the topic's action choices, swapped in out of band
    from tests.web.console.support import hx

    part = client.get("/admin/activities?topic=password", headers=hx()).get_data(as_text=True)
    assert 'id="action-choice"' in part and 'hx-swap-oob="true"' in part
    assert _options(part, "action") == ["", "password reset"]
    assert 'hx-swap-oob' not in body
    # a value from a link that no row has yet stays selected (and finds nothing)
    body = client.get("/admin/activities?topic=nosuch").get_data(as_text=True)
    assert '<option value="nosuch" selected>' in body and "0</strong> entries" in body


def test_activity_choices_are_cached_briefly(operator, console, make_user):
    from barong.services.audit import admin_activities

    client = console(operator("superadmin"))
    client.get("/admin/activities")
    activities.record(make_user(), "kyc", "brand new action", "succeed")
    unit_of_work.commit()
    assert "brand new action" not in _options(client.get("/admin/activities").get_data(as_text=True), "action")
    admin_activities._choices.clear()
    assert "brand new action" in _options(client.get("/admin/activities").get_data(as_text=True), "action")


def test_activity_user_filter_from_the_user_page_and_filtered_export(operator, console, make_user):
    import csv
    import io

    client = console(operator("superadmin"))
    alice, bob = make_user(email="alice@example.com"), make_user(email="bob@example.com")
    activities.record(alice, "session", "login::2fa", "succeed")
    activities.record(alice, "password", "password reset", "succeed")
    activities.record(bob, "session", "login::2fa", "succeed")
    unit_of_work.commit()
    page = client.get(f"/admin/users/{alice.uid}").get_data(as_text=True)
    assert f"/admin/activities?uid={alice.uid}" in page
    body = client.get(f"/admin/activities?uid={alice.uid}&topic=session").get_data(as_text=True)
    assert "1</strong> entry" in body
    resp = client.get(f"/admin/activities.csv?uid={alice.uid}&topic=session&action=login::2fa")
    assert resp.status_code == 200
    rows = list(csv.DictReader(io.StringIO(resp.get_data(as_text=True))))
    assert [(r["user_email"], r["action"]) for r in rows] == [("alice@example.com", "login::2fa")]


def test_activity_filter_choices_for_the_admin_log_need_the_right(operator, console):
    client = console(operator("admin"))
    assert client.get("/admin/activities?category=admin").status_code == 403


def _searchable(make_user, applicant=None):
    from datetime import date, timedelta

    from barong.models import Phone
    from barong.services.accounts import profiles
    from barong.services.verification import documents
    from tests.web.console.support import png_bytes

    who = make_user(email="Grace.Hopper@example.com")
    profiles.create(who, {"first_name": "Grace", "last_name": "Brewster Murray", "dob": "1906-12-09",
                          "country": "US", "city": "New York", "address": "1 Main St", "postcode": "10001"},
                    confirm=True)
    documents.create(who, [("passport.png", png_bytes())], "Passport",
                     doc_expire=(date.today() + timedelta(days=400)).isoformat(), doc_number="AB123456")
    phone = Phone(user_id=who.id, country="GB")
    phone.number = "447700900123"
    db.session.add(phone)
    other = make_user(email="someone@example.org", username="gracie")
    unit_of_work.commit()
    return who, other


def _uids(client, q: str) -> set[str]:
    import re
    from urllib.parse import quote

    resp = client.get(f"/admin/users?q={quote(q)}")
    assert resp.status_code == 200
    return set(re.findall(r"/admin/users/(ID[0-9A-F]+)\"", resp.get_data(as_text=True)))


def test_one_box_finds_by_email_uid_username_phone_and_document(operator, console, make_user, applicant):
    client = console(operator("superadmin"))
    who, other = _searchable(make_user, applicant)
    assert _uids(client, "grace.hopper@EXAMPLE.com") == {who.uid}
    assert _uids(client, "hopper") == {who.uid}
    assert _uids(client, who.uid.lower()) == {who.uid}
    assert _uids(client, "gracie") == {other.uid}
    assert _uids(client, "+44 7700 900123") == {who.uid}
    assert _uids(client, "(44) 7700-900-123") == {who.uid}
    assert _uids(client, "AB123456") == {who.uid}
    assert _uids(client, "ab123456") == {who.uid}
    assert _uids(client, "grace") == {who.uid}          # first name (not "gracie")
    assert _uids(client, "BREWSTER  murray") == {who.uid}  # last name, any case and spacing
    assert _uids(client, "Grace Brewster Murray") == {who.uid}
    assert _uids(client, "brewster murray grace") == {who.uid}


def test_profile_name_index_is_written_with_the_name(make_user):
    from barong.models import Profile
    from barong.security.crypto import crc32_index
    from barong.services.accounts import profiles

    user = make_user()
    profiles.create(user, {"first_name": "  Ada ", "last_name": "LOVELACE", "country": "GB"})
    unit_of_work.commit()
    row = db.session.query(Profile).filter(Profile.user_id == user.id).one()
    assert row.first_name_index == crc32_index("ada") and row.last_name_index == crc32_index("lovelace")
    row.last_name = None
    assert row.last_name_index is None


def test_one_box_no_match_and_partial_secrets_do_not_match(operator, console, make_user, applicant):
    client = console(operator("superadmin"))
    _searchable(make_user, applicant)
    assert _uids(client, "nobody-at-all") == set()
    assert _uids(client, "7700900") == set()     # part of a phone number: exact numbers only
    assert _uids(client, "AB1234") == set()      # part of a document number
    assert _uids(client, "brews") == set()       # part of a name: whole names only
    assert _uids(client, "murray grace") == set()  # not first + last
    assert _uids(client, "100%_") == set()       # LIKE wildcards are literal


def test_one_box_combines_with_the_other_filters(operator, console, make_user, applicant):
    client = console(operator("superadmin"))
    who, _ = _searchable(make_user, applicant)
    assert _uids(client, "AB123456") == {who.uid}
    resp = client.get("/admin/users?q=AB123456&state=banned")
    assert who.uid not in resp.get_data(as_text=True)



def test_migration_0002_backfills_the_name_index(make_user):
    import importlib.util

    from barong.config import ROOT
    from barong.models import Profile
    from barong.security.crypto import crc32_index
    from barong.services.accounts import profiles

    user = make_user()
    profiles.create(user, {"first_name": "Ada", "last_name": "Lovelace", "country": "GB"})
    unit_of_work.commit()
    db.session.query(Profile).update({"first_name_index": None, "last_name_index": None})
    spec = importlib.util.spec_from_file_location("m0002", ROOT / "migrations/versions/0002_profile_name_index.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.backfill(db.session.connection(), chunk=1) >= 1
    db.session.commit()
    row = db.session.query(Profile).filter(Profile.user_id == user.id).one()
    assert (row.first_name_index, row.last_name_index) == (crc32_index("ada"), crc32_index("lovelace"))
