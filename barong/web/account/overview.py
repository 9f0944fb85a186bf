"""Account home: the user's level and the checklist to the next one (from `levels`), and
the download of all the user's data (GDPR)."""
from __future__ import annotations

from flask import send_file
from flask_login import current_user, login_required

from barong.api import entities
from barong.extensions import db
from barong.models import Level
from barong.services.access.rate_limits import limit
from barong.services.accounts import otp, profiles
from barong.services.infra.request_info import RequestInfo
from barong.services.privacy import export as data_export
from barong.web.account import bp
from barong.web.support import render_page

#: where a level's requirement is met, by label key
STEP_ENDPOINTS = {"email": "account.confirmation_resend", "phone": "account.phones_page",
                  "document": "account.documents_page", "address": "account.address", "profile": "account.profile"}


def checklist(user) -> list[dict]:
    """One step per level: done when the user holds the level's private label; the
    label's current value (e.g. `document: pending`) says where a step stands."""
    private = user.private_labels()
    steps, blocked = [], False
    for level in db.session.query(Level).order_by(Level.id):
        value = private.get(level.key)
        done = value == level.value
        steps.append({"level": level.id, "key": level.key, "value": level.value, "current": value,
                      "done": done, "available": not blocked, "endpoint": STEP_ENDPOINTS.get(level.key),
                      "description": level.description})
        blocked = blocked or not done
    return steps


def review_asks(user) -> dict[str, list[dict]]:
    """What the KYC review asks the user to send again, by label key (`document`, `address`):
    the slots in `retry` or `expired` with the reason in the page's language."""
    from flask_babel import get_locale

    from barong.services.verification import document_review

    states = document_review.document_states(user, str(get_locale() or "en"))
    return {key: [row for row in states[part]["slots"] if row["state"] in ("retry", "expired")]
            for key, part in (("document", "identity"), ("address", "address"))}


@bp.get("/")
@login_required
def home():
    user = current_user
    own = profiles.list_for(user)
    return render_page("account/home.html", user=user, steps=checklist(user), asked=review_asks(user),
                       profile=own[-1] if own else None,
                       profile_entity=entities.profile(own[-1]) if own else None,
                       recovery_left=otp.recovery_codes_left(user) if user.otp else None)


@bp.post("/data-export")
@login_required
@limit("data_export")
def data_export_download():
    """The same archive as GET resource/users/me/export (a POST: CSRF-checked, never prefetched)."""
    archive, name = data_export.build(current_user, RequestInfo.current())
    response = send_file(archive, mimetype="application/zip", as_attachment=True, download_name=name)
    response.headers["Cache-Control"] = "no-store"
    return response
