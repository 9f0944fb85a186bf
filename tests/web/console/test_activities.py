"""Activities: user and admin logs, filters, CSV export (itself audited); dashboard figures; events."""
from __future__ import annotations

import csv
import io

from barong.extensions import db
from barong.models import OutboxEvent
from barong.services.audit import activities
from barong.services.infra import unit_of_work
from tests.web.console.support import admin_activities, hx


def test_user_log_filters(operator, console, make_user):
    alice, bob = make_user(email="alice@example.com"), make_user(email="bob@example.com")
    activities.record(alice, "session", "login", "failed")
    activities.record(bob, "session", "login", "succeed")
    activities.record(bob, "password", "password reset", "succeed")
    unit_of_work.commit()
    client = console(operator("superadmin"))
    body = client.get("/admin/activities?topic=session&result=failed", headers=hx()).get_data(as_text=True)
    assert "alice@example.com" in body and "bob@example.com" not in body
    body = client.get("/admin/activities?email=bob@example.com").get_data(as_text=True)
    assert "password reset" in body and "alice@example.com" not in body
    body = client.get(f"/admin/activities?uid={alice.uid}&action=login").get_data(as_text=True)
    assert "1</strong> entry" in body
    body = client.get("/admin/activities?from=2000-01-01&to=2000-01-02").get_data(as_text=True)
    assert "0</strong> entries" in body


def test_admin_log_with_target_filter(operator, console, make_user):
    me = operator("superadmin")
    target = make_user()
    activities.record_admin(me, "users", "update state", "succeed", target_uid=target.uid)
    activities.record_admin(me, "labels", "create", "succeed")
    unit_of_work.commit()
    body = console(me).get(f"/admin/activities?category=admin&target_uid={target.uid}").get_data(as_text=True)
    assert "update state" in body and target.email in body and "<td>create</td>" not in body


def test_csv_export_is_filtered_and_audited(operator, console, make_user):
    alice = make_user(email="alice@example.com")
    activities.record(alice, "session", "login", "failed", data={"reason": "=HYPERLINK(\"x\")"})
    activities.record(alice, "account", "signup", "succeed")
    unit_of_work.commit()
    me = operator("superadmin")
    resp = console(me).get("/admin/activities.csv?topic=session&result=failed")
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    assert "attachment" in resp.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(resp.get_data(as_text=True))))
    assert [(r["topic"], r["action"], r["result"], r["user_email"]) for r in rows] == [
        ("session", "login", "failed", "alice@example.com")]
    assert not rows[0]["data"].startswith("=")
    row = admin_activities(me, "activities")[-1]
    assert row.action == "export csv" and "session" in row.data


def test_admin_log_csv_needs_the_admin_log_right(operator, console):
    client = console(operator("admin"))
    assert client.get("/admin/activities.csv?category=admin").status_code == 403
    assert client.get("/admin/activities.csv").status_code == 200


def test_dashboard_counts_for_the_period(operator, console, make_user, applicant):
    user = make_user()
    activities.record(user, "account", "signup", "succeed")
    activities.record(user, "session", "login", "failed")
    activities.record(user, "session", "login", "failed")
    unit_of_work.commit()
    applicant()
    body = console(operator("compliance")).get("/admin/?period=7").get_data(as_text=True)
    assert 'data-metric="signups">1<' in body
    assert 'data-metric="failed">2<' in body
    assert 'data-metric="pending">1<' in body
    assert body.count("<svg") == 4
    old = console(operator("compliance")).get("/admin/?from=2001-01-01&to=2001-01-31", headers=hx())
    assert 'data-metric="signups">0<' in old.get_data(as_text=True)


def test_events_page_and_retry(operator, console):
    ev = OutboxEvent(event_id="e-1", name="model.user.created", payload="{}", state="failed", attempts=5,
                     last_error="broker down")
    db.session.add(ev)
    db.session.commit()
    me = operator("superadmin")
    client = console(me)
    body = client.get("/admin/events?state=failed").get_data(as_text=True)
    assert "model.user.created" in body and "broker down" in body
    resp = client.post("/admin/events/e-1/retry", headers=hx())
    assert resp.status_code == 200
    db.session.expire_all()
    assert ev.state == "pending" and admin_activities(me, "events")[-1].action == "retry"
    again = client.post("/admin/events/e-1/retry", headers=hx())
    assert again.status_code == 422


def test_console_forms_need_the_csrf_token(operator, console, make_user, app):
    app.config["WTF_CSRF_ENABLED"] = True
    client = console(operator("superadmin"))
    user = make_user()
    resp = client.post(f"/admin/users/{user.uid}/state", data={"state": "banned"})
    assert resp.status_code == 400
    db.session.expire_all()
    assert user.state == "active"
