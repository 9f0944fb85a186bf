"""Events: the outbox of Barong's Event API (barong.services.delivery.outbox) — counts, the
latest events, retry of failed ones."""
from __future__ import annotations

from flask import request
from flask_babel import gettext as _

from barong.errors import BarongError
from barong.services.delivery import outbox
from barong.web.console import bp
from barong.web.console.helpers import (
    Page,
    audit,
    console_requires,
    done,
    int_arg,
    refused,
    render_page_or_partial,
)


def _ctx() -> dict:
    state = request.values.get("state") or "all"
    page_no = int_arg(request.values, "page", 1, 1, 10**6)
    try:
        result = outbox.list_events(state, page_no, 50)
    except BarongError:
        state, result = "all", outbox.list_events(None, page_no, 50)
    page = Page(result.items, result.total, result.page, result.limit, {"state": state})
    return dict(stats=outbox.stats(), page=page, state=state, states=("all", *outbox.STATES), active="outbox")


@bp.get("/events")
@console_requires("outbox.read")
def outbox_index():
    return render_page_or_partial("console/outbox.html", "console/_outbox_body.html", **_ctx())


@bp.post("/events/<event_id>/retry")
@console_requires("outbox.read")
def outbox_retry(event_id):
    try:
        event = outbox.retry(event_id)
    except BarongError as err:
        return refused(err)
    audit("events", "retry", data={"event_id": event.event_id, "name": event.name})
    return done(_("Event %(name)s queued again.", name=event.name), "console/_outbox_body.html", **_ctx())
