"""resource/service_accounts: the user's service accounts and their API keys."""
from __future__ import annotations

from flask import jsonify

from barong.api import entities
from barong.api.auth import api_auth
from barong.api.pagination import respond
from barong.api.params import Param, document, use_params
from barong.api.v2.resource import bp, cached_body, me
from barong.api.v2.resource.api_keys import ALLOWED_IPS, EXPIRES_AT
from barong.services.accounts import api_keys, service_accounts
from barong.services.infra.request_info import RequestInfo

SCOPE = "resource.serviceaccount"
GATE = "resource.service_accounts"
SA_UID = Param("service_account_uid", required=True, allow_blank=False,
               invalid="resource.service_account.non_string_service_account_uid")
TOTP = Param("totp_code", required=True, missing=f"{GATE}.missing_totp", description="Code from Google Authenticator")


@bp.get("/service_accounts")
@api_auth(load_entity=False)
@document(summary="List the current user's service accounts")
def service_accounts_index():
    return jsonify(cached_body("service_accounts",
                               lambda: [service_accounts.raw(sa) for sa in service_accounts.list_for(me())]))


@bp.get("/service_accounts/api_keys")
@api_auth
@use_params(SCOPE, SA_UID,
            Param("ordering", values=("asc", "desc"), default="asc", invalid=f"{GATE}.invalid_ordering"),
            Param("order_by", values=api_keys.ORDER_COLUMNS, default="id", invalid=f"{GATE}.invalid_attribute"),
            paginated=True, summary="List the api keys of one of the user's service accounts")
def service_account_keys_index(p):
    sa = service_accounts.owned_by(me(), p["service_account_uid"])
    return respond(api_keys.query_for(sa, p.get("order_by") or "id", p.get("ordering") or "asc"), p,
                   entities.api_key)


@bp.post("/service_accounts/api_keys")
@api_auth
@use_params(SCOPE, SA_UID, Param("algorithm", required=True, allow_blank=False),
            Param("scope", allow_blank=False, description="comma separated scopes"), TOTP, ALLOWED_IPS, EXPIRES_AT,
            status=201, summary="Create an api key for a service account (secret shown once)")
def service_account_keys_create(p):
    sa = service_accounts.owned_by(me(), p["service_account_uid"])
    key, _secret = api_keys.create(sa, p["algorithm"], p.get("scope"), p.get("totp_code"), RequestInfo.current(),
                                   otp_prefix=GATE, allowed_ips=p.get("allowed_ips"), expires_at=p.get("expires_at"))
    return jsonify(entities.api_key(key, with_secret=True)), 201


@bp.put("/service_accounts/api_keys/<kid>")
@api_auth
@use_params(SCOPE, SA_UID, Param("scope", allow_blank=False),
            Param("state", allow_blank=False), TOTP, ALLOWED_IPS, EXPIRES_AT,
            summary="Update an api key of a service account")
def service_account_keys_update(p, kid):
    user = me()
    sa = service_accounts.owned_by(user, p["service_account_uid"])
    api_keys.check_otp(user, p.get("totp_code"), GATE)
    key = api_keys.update(api_keys.find_for(sa, kid), state=p.get("state"), scope=p.get("scope"),
                          allowed_ips=p.get("allowed_ips"), expires_at=p.get("expires_at"))
    return jsonify(entities.api_key(key))


@bp.delete("/service_accounts/api_keys/<kid>")
@api_auth
@use_params(SCOPE, SA_UID, TOTP, status=204, summary="Delete an api key of a service account")
def service_account_keys_destroy(p, kid):
    user = me()
    sa = service_accounts.owned_by(user, p["service_account_uid"])
    api_keys.check_otp(user, p.get("totp_code"), GATE)
    api_keys.delete(api_keys.find_for(sa, kid))
    return "", 204


