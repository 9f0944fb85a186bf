"""Account protection pages (issue 15): the new-network mail's two links, and the known
networks on the sessions page.

The mail's links open a page with one button (a GET never acts: mail scanners and link
previews fetch links); the POST calls the same service as identity/sessions/network/*.
"""
from __future__ import annotations

from flask import flash, request
from flask_babel import gettext as _
from flask_login import current_user, login_required

from barong.errors import BarongError
from barong.services.accounts import networks
from barong.services.infra.request_info import RequestInfo
from barong.web.account import bp
from barong.web.forms import ActionForm
from barong.web.messages import message_for
from barong.web.support import go, render_page


def _token() -> str:
    return (request.form.get("token") or request.args.get("token") or "").strip()


@bp.route("/network/approve", methods=["GET", "POST"])
def network_approve():
    form = ActionForm()
    if request.method == "POST" and form.validate_on_submit():
        try:
            _user, network = networks.approve(_token(), RequestInfo.current())
        except BarongError as err:
            return render_page("account/network_link.html", 422, form=form, action="approve", token="",
                               error=message_for(err.code))
        flash(_("The network %(network)s is approved. You can sign in now.", network=network), "success")
        return go("account.login")
    return render_page("account/network_link.html", form=form, action="approve", token=_token(), error=None)


@bp.route("/network/deny", methods=["GET", "POST"])
def network_deny():
    form = ActionForm()
    if request.method == "POST" and form.validate_on_submit():
        try:
            networks.deny(_token(), RequestInfo.current())
        except BarongError as err:
            return render_page("account/network_link.html", 422, form=form, action="deny", token="",
                               error=message_for(err.code))
        flash(_("Your account is locked and every session was signed out. Reset your password to unlock it."),
              "success")
        return go("account.password_forgot")
    return render_page("account/network_link.html", form=form, action="deny", token=_token(), error=None)


@bp.post("/networks/<int:network_id>/forget")
@login_required
def networks_forget(network_id):
    form = ActionForm()
    if form.validate_on_submit():
        networks.remove(current_user, network_id, RequestInfo.current())
        flash(_("The network was removed. A sign-in from it will need your approval again."), "success")
    return go("account.sessions_page")


@bp.context_processor
def _protection_context():
    def known_networks():
        return networks.list_for(current_user) if current_user.is_authenticated else []

    def in_cooldown():
        from barong.services.accounts import cooldown

        return current_user.is_authenticated and cooldown.active(current_user)

    return {"known_networks": known_networks, "in_security_cooldown": in_cooldown}
