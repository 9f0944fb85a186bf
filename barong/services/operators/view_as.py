"""Read-only "view as user": an operator sees a user's account pages as the user does,
the safe form of Keycloak's impersonation.

Nothing about the login changes. The view is a mark in the kv store, named after the
operator's own session (a hash of its store id) and holding the viewed user's uid and
the moment it ends (VIEW_SECONDS after the start, not sliding). The console renders the
site's account pages for that user under `/admin/users/<uid>/view-as/<page>`
(barong.web.console.view_as); no session is created for the user and the user's sessions
and last login are never read for writing. Every page shown is one admin activity.

Ability: `read UserView` (an extension subject, barong.services.access.abilities:
superadmin, admin and support by default). A superadmin is viewed only by a superadmin.

Personal data in a viewed page is masked by the *viewer's* rights (`masks`), as on the
console's user page (barong.services.operators.pii): unmasked only for a role with `read
PersonalData` or after a live reveal, whatever BARONG_API_DATA_MASKING (the user-facing
setting) says.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

from barong.errors import BarongError
from barong.models import User
from barong.security.crypto import sha256_hex
from barong.services.access import abilities
from barong.services.audit import admin_activities
from barong.services.infra import kv

#: how long a view lasts after it starts (then it ends by itself)
VIEW_SECONDS = 15 * 60
TOPIC = "users"
ACTION_START, ACTION_PAGE, ACTION_LEAVE = "start view as user", "view as user", "leave view as user"


@dataclass(frozen=True)
class View:
    uid: str
    ends_at: int  # unix seconds

    @property
    def seconds_left(self) -> int:
        return max(0, int(self.ends_at - time.time()))


def _key(session_id: str) -> str:
    return "view_as:" + sha256_hex("view-as:" + session_id)


def authorize(actor, user: User) -> None:
    """Raise 401 admin.ability.not_permitted (no `read UserView`), 422
    admin.user.superadmin_change (a superadmin viewed by anyone else)."""
    abilities.authorize(actor, "read", "UserView")
    if user.role == "superadmin" and getattr(actor, "role", None) != "superadmin":
        raise BarongError("admin.user.superadmin_change", 422)


def masks(actor, user: User) -> bool:
    """Must the view of `user` mask their personal data for `actor` (no `read PersonalData`,
    no live reveal of all of it)?"""
    from barong.services.operators import pii

    return not pii.sees(actor, user.uid)


def masked_fields(actor, user: User) -> frozenset:
    """The parts of `user`'s personal data (pii.FIELDS) the view masks for `actor`: none with
    `read PersonalData`, all but the revealed ones after a partial reveal, all otherwise."""
    from barong.services.operators import pii

    return frozenset(f for f in pii.FIELDS if not pii.sees(actor, user.uid, f))


def start(actor, user: User, session_id: str) -> View:
    """Begin viewing `user` from the operator's session `session_id` (replacing any view
    that session had). Raises as `authorize`; audited."""
    authorize(actor, user)
    if not session_id:
        raise BarongError("admin.view_as.no_session", 422)
    view = View(user.uid, int(time.time()) + VIEW_SECONDS)
    kv.set(_key(session_id), f"{view.uid} {view.ends_at}", VIEW_SECONDS)
    admin_activities.audit(actor, TOPIC, ACTION_START, target_uid=user.uid,
                           data={"minutes": VIEW_SECONDS // 60})
    return view


def current(session_id: str | None) -> View | None:
    """The view the operator's session has open, or None (none, or it ended)."""
    if not session_id:
        return None
    raw = kv.get(_key(session_id))
    try:
        uid, ends = (raw or "").split(" ", 1)
        view = View(uid, int(ends))
    except ValueError:
        return None
    return view if view.ends_at > time.time() else None


def record_page(actor, user: User, page: str) -> None:
    """One admin activity per page shown (who: the actor, whom: target uid, which page)."""
    admin_activities.audit(actor, TOPIC, ACTION_PAGE, target_uid=user.uid, data={"page": page})


def record_refused(actor, user: User, what: str, method: str) -> None:
    """A write attempted from a view (a crafted POST): refused, and recorded as denied."""
    admin_activities.audit(actor, TOPIC, ACTION_PAGE, target_uid=user.uid, result="denied",
                           data={"page": what, "method": method})


def leave(actor, session_id: str | None) -> View | None:
    """End the session's view (if any); the view that ended. Audited when one was open."""
    view = current(session_id)
    if session_id:
        kv.delete(_key(session_id))
    if view is not None:
        admin_activities.audit(actor, TOPIC, ACTION_LEAVE, target_uid=view.uid)
    return view
