"""services/outbox: what the console's Outbox page and `flask events` show and do."""
from __future__ import annotations

import pytest

from barong.errors import BarongError, NotFound
from barong.extensions import db
from barong.models import OutboxEvent
from barong.services.delivery import events, outbox
from barong.services.infra import unit_of_work


def _set(event, **values):
    db.session.query(OutboxEvent).filter_by(id=event.id).update(values)
    db.session.commit()
    db.session.expire_all()


@pytest.fixture
def rows(app):
    db.session.query(OutboxEvent).delete()
    made = [events.emit("model.user.created", {"uid": f"ID{i:010d}"}) for i in range(5)]
    unit_of_work.commit()
    _set(made[0], state="sent")
    _set(made[1], state="failed", attempts=10, last_error="nack")
    _set(made[2], mail_state="pending", mail_attempts=2)
    _set(made[3], mail_state="failed", mail_attempts=30, mail_error="SMTP down")
    _set(made[4], mail_state="sent")
    return made


def test_stats_counts_events_and_mails(rows):
    data = outbox.stats()
    assert {k: data[k] for k in ("pending", "sent", "failed", "mail_pending", "mail_sent", "mail_failed", "total")} \
        == {"pending": 3, "sent": 1, "failed": 1, "mail_pending": 1, "mail_sent": 1, "mail_failed": 1, "total": 5}
    assert data["oldest_pending_at"] is not None and data["broker_configured"] is False


def test_list_filters_newest_first_and_pages(rows):
    page = outbox.list_events()
    assert page.total == 5 and [e.id for e in page.items] == sorted((e.id for e in rows), reverse=True)
    assert [e.id for e in outbox.list_events("failed").items] == [rows[1].id]
    assert [e.id for e in outbox.list_events("mail_failed").items] == [rows[3].id]
    assert outbox.list_events("pending").total == 3
    second = outbox.list_events("all", page=2, limit=2)
    assert second.total == 5 and second.pages == 3 and [e.id for e in second.items] == [rows[2].id, rows[1].id]
    with pytest.raises(BarongError) as err:
        outbox.list_events("bogus")
    assert err.value.codes == ["admin.outbox.invalid_state"] and err.value.status == 422


def test_retry_puts_failed_event_and_failed_mail_back(rows):
    event = outbox.retry(rows[1].event_id)
    assert (event.state, event.attempts, event.last_error) == ("pending", 0, None)
    mail = outbox.retry(str(rows[3].id))  # numeric id works too (console links)
    assert (mail.mail_state, mail.mail_attempts, mail.mail_error) == ("pending", 0, None)
    db.session.commit()
    assert outbox.stats()["failed"] == 0 and outbox.stats()["mail_failed"] == 0


def test_retry_refuses_what_did_not_fail_and_unknown_ids(rows):
    with pytest.raises(BarongError) as err:
        outbox.retry(rows[0].event_id)
    assert err.value.codes == ["admin.outbox.not_failed"]
    with pytest.raises(NotFound):
        outbox.retry("00000000-0000-0000-0000-000000000000")


def test_retry_all_failed(rows):
    assert outbox.retry_all_failed() == 2
    db.session.commit()
    assert outbox.stats()["failed"] == 0 and outbox.stats()["mail_failed"] == 0


def test_emit_logs_the_exchange_and_routing_key_it_will_be_published_to(app, caplog):
    with caplog.at_level("INFO", logger="barong.services.delivery.events"):
        event = events.emit("system.user.password.reset", {"uid": "ID0000000001"})
    assert f"event system.user.password.reset id={event.event_id} exchange=barong.events.system " \
           "routing_key=user.password.reset" in caplog.text
