"""The user page's support-desk actions: the user's sessions (revoke one / all), the
password-reset and confirmation mails, required actions (force a password change / 2FA
enrolment). Each calls barong.services.operators.support_actions — the same functions as the admin
JSON API (`admin/users/sessions`, `…/password_reset`, `…/email_confirmation`,
`…/required_actions`), which check abilities and guards and write the audit row."""
from __future__ import annotations

from flask import request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from barong.errors import BarongError
from barong.services.accounts import required_actions
from barong.services.operators import support_actions
from barong.web.console import bp
from barong.web.console.helpers import (
    REFUSALS,
    actor,
    ask_first,
    console_requires,
    done,
    policy,
    refused,
)

FRAGMENT = "console/users/_support.html"
# required actions by name, as the support card shows them
ACTION_NAMES = {"change_password": _l("Change password"), "enable_2fa": _l("Enrol 2FA")}


_BROWSERS = (("Edg/", "Edge"), ("OPR/", "Opera"), ("Firefox/", "Firefox"), ("Chrome/", "Chrome"),
             ("Safari/", "Safari"))
_SYSTEMS = (("iPhone", "iOS"), ("iPad", "iPadOS"), ("Android", "Android"), ("Windows", "Windows"),
            ("Mac OS X", "macOS"), ("Linux", "Linux"))


def device(user_agent: str) -> str:
    """A short name for a user agent ("Chrome · Linux"); the full string is in the title."""
    ua = user_agent or ""
    browser = next((name for token, name in _BROWSERS if token in ua), None)
    system = next((name for token, name in _SYSTEMS if token in ua), None)
    return " · ".join(x for x in (browser, system) if x) or (ua[:40] or "—")


def support_context(user) -> dict:
    """What the support card shows (merged into the user page's context)."""
    pending = list(required_actions.pending(user.uid))
    ctx = {"required_actions": pending,
           "requirable": [a for a in required_actions.ACTIONS
                          if a not in pending and not (a == "enable_2fa" and user.otp)]}
    if policy.can(actor(), "sessions.read"):
        ctx["user_sessions"] = [(support_actions.public_id(s), s, support_actions.session_entity(s),
                                 device(s.user_agent))
                                for s in support_actions.list_sessions(user, actor=actor())]
    return ctx


def _respond(uid: str, message: str):
    from barong.web.console.users import _context, _load

    user = _load(uid)
    return done(message, FRAGMENT, fallback_url=url_for("console.users_show", uid=uid), **_context(user))


def _act(uid: str, action, message: str):
    from barong.web.console.users import _load

    user = _load(uid)
    try:
        result = action(user)
    except BarongError as err:
        return refused(err)
    if isinstance(result, list):  # the pending required actions
        result = ", ".join(str(ACTION_NAMES.get(a, a)) for a in result)
    return _respond(uid, str(message) % {"email": user.email, "result": result})


@bp.post("/users/<uid>/sessions/<sid>/revoke")
@console_requires("sessions.destroy")
def users_session_revoke(uid, sid):
    return _act(uid, lambda u: support_actions.revoke_session(u, sid, actor=actor()), _l("Session signed out."))


@bp.post("/users/<uid>/sessions/revoke-all")
@console_requires("sessions.destroy")
def users_sessions_revoke_all(uid):
    from barong.web.console.users import _load

    user = _load(uid)
    asked = ask_first(user, _("Sign %(email)s out everywhere?", email=user.email),
                      _("Every session of theirs ends at once; they must sign in again on each device."),
                      _("Revoke all sessions"), url_for("console.users_show", uid=uid))
    if asked is not None:
        return asked
    return _act(uid, lambda u: support_actions.revoke_all_sessions(u, actor=actor()),
                _l("Signed out %(result)s session(s) of %(email)s."))


@bp.post("/users/<uid>/password-reset")
@console_requires("users.password_reset")
def users_password_reset(uid):
    return _act(uid, lambda u: support_actions.send_password_reset(u, actor=actor()),
                _l("Password-reset mail sent to %(email)s."))


@bp.post("/users/<uid>/confirmation")
@console_requires("users.email_confirmation")
def users_confirmation(uid):
    return _act(uid, lambda u: support_actions.resend_confirmation(u, actor=actor()),
                _l("Confirmation mail sent to %(email)s."))


@bp.post("/users/<uid>/required-actions")
@console_requires("required_actions.update")
def users_required_actions(uid):
    wanted = [a for a in request.form.getlist("action") if a]
    return _act(uid, lambda u: support_actions.require(u, wanted, actor=actor()),
                _l("Required at the next sign-in: %(result)s."))


@bp.post("/users/<uid>/required-actions/delete")
@console_requires("required_actions.update")
def users_required_actions_delete(uid):
    action = request.form.get("action") or None
    return _act(uid, lambda u: support_actions.unrequire(u, action, actor=actor()), _l("Required action dropped."))


# ---- API keys (the side column's card, console/users/_api_keys.html) ---------------------------

API_KEYS_FRAGMENT = "console/users/_api_keys.html"
REFUSALS.update({
    "admin.apikey.doesnt_exist": _l("That API key no longer exists."),
    "admin.apikey.not_active": _l("That API key is already off."),
})


def _api_key_act(uid: str, kid: str, verb: str, consequence: str, button: str, action, message):
    from barong.web.console.users import _context, _load

    user = _load(uid)
    asked = ask_first(user, verb, consequence, button, url_for("console.users_show", uid=uid))
    if asked is not None:
        return asked
    try:
        action(user)
    except BarongError as err:
        return refused(err)
    return done(message, API_KEYS_FRAGMENT, fallback_url=url_for("console.users_show", uid=uid),
                **_context(_load(uid)))


@bp.post("/users/<uid>/api-keys/<kid>/disable")
@console_requires("api_keys.read", "api_keys.update")
def users_api_key_disable(uid, kid):
    from barong.web.console.users import _load

    email = _load(uid).email
    return _api_key_act(
        uid, kid, _("Disable API key %(kid)s of %(email)s?", kid=kid, email=email),
        _("Every request signed with this key is refused from now on, until they turn it on again with their 2FA code."),
        _("Disable API key"), lambda u: support_actions.disable_api_key(u, kid, actor=actor()),
        _("API key %(kid)s disabled.", kid=kid))


@bp.post("/users/<uid>/api-keys/<kid>/delete")
@console_requires("api_keys.read", "api_keys.destroy")
def users_api_key_delete(uid, kid):
    from barong.web.console.users import _load

    email = _load(uid).email
    return _api_key_act(
        uid, kid, _("Remove API key %(kid)s of %(email)s?", kid=kid, email=email),
        _("The key is deleted for good: every request signed with it is refused from now on and it cannot be turned on again."),
        _("Remove API key"), lambda u: support_actions.delete_api_key(u, kid, actor=actor()),
        _("API key %(kid)s removed.", kid=kid))
