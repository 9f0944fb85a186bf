"""resource/users: me (get, update data, delete, export), password, activity."""
from __future__ import annotations

from flask import g, jsonify, send_file

from barong import authz
from barong.api import entities, user_bodies
from barong.api.auth import api_auth
from barong.api.pagination import paginated_response
from barong.api.params import UNIX_SECONDS, Param, document, no_content, use_params
from barong.api.v2.resource import bp, lists, me, me_account
from barong.errors import BarongError
from barong.services.access.rate_limits import limit
from barong.services.accounts import account
from barong.services.infra.request_info import RequestInfo
from barong.services.privacy import export as data_export

SCOPE = "resource.user"


@bp.get("/users/me")
@api_auth(load_entity=False)
@document(summary="Returns current user")
def users_me():
    account = g.current_user
    if isinstance(account, authz.Account) and account.is_user:  # the cached body (barong/api/user_bodies.py)
        return jsonify(user_bodies.user_full(account.id, lambda: entities.user_full(me())))
    return jsonify(entities.user_full(me()))


@bp.get("/users/me/export")
@api_auth
@limit("data_export")
@document(summary="Downloads all of the current user's data (GDPR): a zip of JSON files, the documents, "
                  "and manifest.json with their SHA-256 sums", produces=("application/zip",),
          errors={429: "resource.user.too_many_requests (3 a minute, 10 an hour)"})
def users_me_export():
    archive, name = data_export.build(me(), RequestInfo.current())
    response = send_file(archive, mimetype="application/zip", as_attachment=True, download_name=name)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.put("/users/me")
@api_auth
@use_params(SCOPE, Param("data", required=True, allow_blank=False, max_length=100_000,
                         description="Any additional key: value pairs in json string format"),
            summary="Updates current user data field")
def users_me_update(p):
    user = account.update_data(me(), p["data"])
    return jsonify(entities.user_full(user))


@bp.delete("/users/me")
@api_auth
@use_params(SCOPE, Param("password", required=True, allow_blank=False, location="query"),
            Param("otp_code", location="query", description="Code from Google Authenticator (when 2FA is on)"),
            status=204, summary="Blocks (deletes) current user")
def users_me_delete(p):
    user = me()
    if "otp_code" in p and p["otp_code"] is not None and not str(p["otp_code"]).strip() and not user.otp:
        raise BarongError("resource.user.empty_otp_code", 400)  # Barong's allow_blank: false on otp_code
    account.delete_me(user, p["password"], p.get("otp_code"), RequestInfo.current())
    return "", 204


@bp.put("/users/password")
@api_auth
@use_params(SCOPE, Param("old_password", required=True, allow_blank=False),
            Param("new_password", required=True, allow_blank=False),
            Param("confirm_password", required=True, allow_blank=False),
            status=201, summary="Sets new account password (other sessions are revoked)")
@no_content
def users_password(p):
    account.change_password(me(), p["old_password"], p["new_password"], p["confirm_password"],
                            RequestInfo.current(), keep_session_id=g.get("barong_session_id"))
    return "", 201


@bp.get("/users/activity/<topic>")
@api_auth(load_entity=False)
@use_params(SCOPE,
            Param("time_from", int, allow_blank=False,
                  invalid=f"{SCOPE}.non_integer_time_from", location="query",
                  description="unix seconds; activities created at or after",
                  minimum=UNIX_SECONDS[0], maximum=UNIX_SECONDS[1]),
            Param("time_to", int, allow_blank=False,
                  invalid=f"{SCOPE}.non_integer_time_to", location="query",
                  description="unix seconds; activities created before",
                  minimum=UNIX_SECONDS[0], maximum=UNIX_SECONDS[1]),
            Param("result", allow_blank=False,
                  invalid=f"{SCOPE}.non_string_result", location="query",
                  description="succeed, failed or denied"),
            paginated=True, summary="Returns user activity (topic: all, session, otp, password, account)")
def users_activity(p, topic):
    if topic not in account.TOPICS:
        raise BarongError("resource.user.wrong_topic", 422)
    items, total = lists.activities(me_account().id, topic, p, p["page"], p["limit"])
    if not total:  # account.activity's check (nothing matches), without a statement of its own
        raise BarongError("resource.user.no_activity", 422)
    return paginated_response(items, total, p["page"], p["limit"], entities.activity)
