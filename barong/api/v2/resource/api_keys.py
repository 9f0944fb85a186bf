"""resource/api_keys: the user's own API keys (2FA code needed to create, change, delete)."""
from __future__ import annotations

from flask import jsonify

from barong.api import entities
from barong.api.auth import api_auth
from barong.api.pagination import paginated_response
from barong.api.params import Param, use_params
from barong.api.v2.resource import bp, lists, me, me_account
from barong.services.accounts import api_keys
from barong.services.infra.request_info import RequestInfo

SCOPE = "resource.apikey"
GATE = "resource.api_key"
TOTP = Param("totp_code", required=True, missing=f"{GATE}.missing_totp", description="Code from Google Authenticator")
#: beyond the original (issue 15); invalid values → 422 allowed_ips.invalid / expires_at.invalid
ALLOWED_IPS = Param("allowed_ips", max_length=4096,
                    description="IPs / CIDRs the key may be used from, comma separated (blank: anywhere)")
EXPIRES_AT = Param("expires_at", max_length=64,
                   description="when the key stops working: ISO 8601 or Unix seconds, in the future (blank: never)")


@bp.get("/api_keys")
@api_auth(load_entity=False)
@use_params(SCOPE, Param("ordering", values=("asc", "desc"), default="asc", invalid=f"{GATE}.invalid_ordering"),
            Param("order_by", values=api_keys.ORDER_COLUMNS, default="id", invalid=f"{GATE}.invalid_attribute"),
            paginated=True, summary="List all api keys for current account.")
def api_keys_index(p):
    keys, total = lists.api_keys("User", me_account().id, p.get("order_by") or "id", p.get("ordering") or "asc",
                                 p["page"], p["limit"])
    return paginated_response(keys, total, p["page"], p["limit"], entities.api_key)


@bp.post("/api_keys")
@api_auth
@use_params(SCOPE, Param("algorithm", required=True, allow_blank=False, description="HS256, HS384 or HS512"),
            Param("kid", description="ignored (a kid is always generated)"),
            Param("scope", allow_blank=False, description="comma separated scopes"), TOTP, ALLOWED_IPS, EXPIRES_AT,
            status=201, summary="Create an api key (the secret is shown only in this response)")
def api_keys_create(p):
    key, _secret = api_keys.create(me(), p["algorithm"], p.get("scope"), p.get("totp_code"),
                                   RequestInfo.current(), allowed_ips=p.get("allowed_ips"),
                                   expires_at=p.get("expires_at"))
    return jsonify(entities.api_key(key, with_secret=True)), 201


@bp.patch("/api_keys/<kid>")
@api_auth
@use_params(SCOPE, Param("scope", allow_blank=False, description="comma separated scopes"),
            Param("state", allow_blank=False, description="active or inactive"), TOTP, ALLOWED_IPS, EXPIRES_AT,
            summary="Updates an api key")
def api_keys_update(p, kid):
    user = me()
    api_keys.check_otp(user, p.get("totp_code"), GATE)
    key = api_keys.update(api_keys.find_for(user, kid), state=p.get("state"), scope=p.get("scope"),
                          allowed_ips=p.get("allowed_ips"), expires_at=p.get("expires_at"))
    return jsonify(entities.api_key(key))


@bp.delete("/api_keys/<kid>")
@api_auth
@use_params(SCOPE, TOTP, status=204, summary="Delete an api key")
def api_keys_destroy(p, kid):
    user = me()
    api_keys.check_otp(user, p.get("totp_code"), GATE)
    api_keys.delete(api_keys.find_for(user, kid))
    return "", 204
