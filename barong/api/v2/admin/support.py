"""admin/users support-desk actions (this project's additions, not in Barong 2.5): a user's
sessions, the password-reset and confirmation mails, unlock, required actions.

Same shape as the original's user writes (`POST admin/users/role`): the user is named by
`uid` in the parameters, so an RBAC row can grant one action by its path prefix (the
seeds give `support` these paths). Abilities decide next (barong.services.access.abilities:
`read`/`destroy Session`, `update User`, `update RequiredAction`); the services
(barong.services.operators.support_actions) check again, apply the guards and write the audit row."""
from flask import jsonify

from barong.api import entities
from barong.api.auth import api_auth, current_user
from barong.api.params import Param, use_params
from barong.api.v2.admin import ability, bp
from barong.services.accounts import required_actions
from barong.services.operators import admin_users, support_actions

S = "admin.user"
UID = Param("uid", required=True, allow_blank=False, description="user uniq id")
ACTION_DOC = "change_password or enable_2fa"
GUARDS = "admin.user.superadmin_change, admin.user.update_himself"


def _required(user):
    return {"uid": user.uid, "required_actions": list(required_actions.pending(user.uid))}


@bp.get("/users/sessions")
@api_auth
@use_params(S, UID, summary="Returns the user's active sessions (id, user_agent, user_ip, country, times)")
@ability("read", "Session")
def support_sessions(p):
    user = admin_users.get(p["uid"])
    return jsonify([support_actions.session_entity(s) for s in
                    support_actions.list_sessions(user, actor=current_user())])


@bp.delete("/users/sessions")
@api_auth
@use_params(S, UID, Param("id", allow_blank=False, description="a session id from GET admin/users/sessions; "
                                                                "absent: every session of the user"),
            status=204, summary="Revokes one session of the user, or all of them",
            errors={404: "admin.user.doesnt_exist, admin.session.doesnt_exist", 422: GUARDS})
@ability("destroy", "Session")
def support_sessions_delete(p):
    user = admin_users.get(p["uid"])
    if p.get("id") is not None:
        support_actions.revoke_session(user, p["id"], actor=current_user())
    else:
        support_actions.revoke_all_sessions(user, actor=current_user())
    return "", 204


@bp.post("/users/password_reset")
@api_auth
@use_params(S, UID, status=201, summary="Mails the user a password-reset link",
            errors={422: f"{GUARDS}, admin.user.not_active (banned or deleted)"})
@ability("update", "User")
def support_password_reset(p):
    user = admin_users.get(p["uid"])
    support_actions.send_password_reset(user, actor=current_user())
    return jsonify(entities.user(user)), 201


@bp.post("/users/email_confirmation")
@api_auth
@use_params(S, UID, status=201, summary="Mails the user a new e-mail confirmation link",
            errors={422: f"{GUARDS}, admin.user.already_confirmed"})
@ability("update", "User")
def support_email_confirmation(p):
    user = admin_users.get(p["uid"])
    support_actions.resend_confirmation(user, actor=current_user())
    return jsonify(entities.user(user)), 201


@bp.post("/users/unlock")
@api_auth
@use_params(S, UID, status=201, summary="Lifts the user's login lockout (failed-login limit)",
            errors={422: GUARDS})
@ability("update", "User")
def support_unlock(p):
    user = admin_users.get(p["uid"])
    admin_users.unlock(user, actor=current_user())
    return jsonify(entities.user(user)), 201


@bp.get("/users/required_actions")
@api_auth
@use_params(S, UID, summary="Returns the user's pending required actions")
@ability("read", "User")
def support_required_actions(p):
    return jsonify(_required(admin_users.get(p["uid"])))


@bp.post("/users/required_actions")
@api_auth
@use_params(S, UID, Param("action", required=True, allow_blank=False, values=required_actions.ACTIONS,
                          invalid="admin.required_action.invalid", description=ACTION_DOC),
            status=201, summary="Makes the user change the password / enrol 2FA before anything else "
                                "(the API answers 403 authz.required_action.<action> until done)",
            errors={422: f"{GUARDS}, admin.required_action.invalid, admin.required_action.enable_2fa_done"})
@ability("update", "RequiredAction")
def support_required_actions_create(p):
    user = admin_users.get(p["uid"])
    support_actions.require(user, [p["action"]], actor=current_user())
    return jsonify(_required(user)), 201


@bp.delete("/users/required_actions")
@api_auth
@use_params(S, UID, Param("action", allow_blank=False, values=required_actions.ACTIONS,
                          invalid="admin.required_action.invalid", description=f"{ACTION_DOC}; absent: all"),
            summary="Drops a pending required action (or all)",
            errors={404: "admin.user.doesnt_exist, admin.required_action.doesnt_exist", 422: GUARDS})
@ability("update", "RequiredAction")
def support_required_actions_delete(p):
    user = admin_users.get(p["uid"])
    support_actions.unrequire(user, p.get("action"), actor=current_user())
    return jsonify(_required(user))


KID = Param("kid", required=True, allow_blank=False, description="the key's kid (GET admin/api_keys)")


@bp.put("/users/api_keys")
@api_auth
@use_params(S, UID, KID, Param("state", required=True, allow_blank=False, values=("inactive",),
                               invalid="admin.apikey.invalid_state",
                               description="inactive (operators turn keys off; the user turns them on "
                                           "again with a 2FA code)"),
            summary="Turns one API key of the user off",
            errors={404: "admin.user.doesnt_exist, admin.apikey.doesnt_exist",
                    422: f"{GUARDS}, admin.apikey.not_active, admin.apikey.invalid_state"})
@ability("update", "APIKey")
def support_api_keys_update(p):
    user = admin_users.get(p["uid"])
    key = support_actions.disable_api_key(user, p["kid"], actor=current_user())
    return jsonify(entities.api_key(key))


@bp.delete("/users/api_keys")
@api_auth
@use_params(S, UID, KID, status=204, summary="Removes one API key of the user for good",
            errors={404: "admin.user.doesnt_exist, admin.apikey.doesnt_exist", 422: GUARDS})
@ability("destroy", "APIKey")
def support_api_keys_delete(p):
    user = admin_users.get(p["uid"])
    support_actions.delete_api_key(user, p["kid"], actor=current_user())
    return "", 204
