"""admin/metrics' per-day series come from one grouped statement (issue 18): the same maps,
day for day and in the same order, as one query per series (`metrics._series`, the definition)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import update

from barong.extensions import db
from barong.models import Activity
from barong.services.audit import activities
from barong.services.infra import unit_of_work
from barong.services.infra.request_info import RequestInfo
from barong.services.operators import metrics


def test_one_statement_gives_every_series(app, make_user):
    user = make_user()
    info = RequestInfo(ip="127.0.0.1", user_agent="t")
    made = []
    for day, rows in ((datetime(2024, 1, 3, 10), [("session", "login", "succeed"), ("session", "login::2fa", "succeed"),
                                                 ("session", "login", "failed"), ("account", "signup", "succeed")]),
                      (datetime(2024, 1, 1, 23, 59), [("session", "login", "succeed")] * 3),
                      (datetime(2024, 2, 1), [("session", "login::2fa", "failed"), ("session", "logout", "succeed"),
                                              ("account", "signup", "failed")])):
        for topic, action, result in rows:
            made.append((activities.record(user, topic, action, result, info).id, day))
    for activity_id, day in made:
        db.session.execute(update(Activity).where(Activity.id == activity_id).values(created_at=day))
    unit_of_work.commit()
    periods = [(None, None, None), (datetime(2024, 1, 2), None, None), (None, datetime(2024, 1, 31), None),
               (None, None, datetime(2024, 1, 3)), (datetime(2024, 3, 1), None, None)]
    for spec_map in (metrics.SERIES, metrics.ANY_FACTOR_SERIES):
        for start, end, before in periods:
            one = metrics._series_map(spec_map, start, end, before)
            each = {name: metrics._series(*spec, start, end, before) for name, spec in spec_map.items()}
            assert one == each and [list(v) for v in one.values()] == [list(v) for v in each.values()]
    assert metrics._series_map(metrics.ANY_FACTOR_SERIES, None, None)["sucessful_logins"]["2024-01-03"] == 2
    metrics.clear_cache()
    assert metrics.summary()["sucessful_logins"] == {"2024-01-01": 3, "2024-01-03": 1}
