"""Issue 16 (16C): dashboard logins whatever the second factor, activity filters as choices,
search that finds anyone (email, uid, name, phone, document number)."""
from __future__ import annotations

from barong.extensions import db
from barong.models import Activity
from barong.services import activities, metrics, unit_of_work


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
