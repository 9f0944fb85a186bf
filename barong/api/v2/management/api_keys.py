"""management api_keys (scope `write_apikeys`): keys for users (BARONG_MGN_API_KEYS_USER)
and service accounts (BARONG_MGN_API_KEYS_SA); both off by default. No 2FA here."""
from __future__ import annotations

from flask import current_app, jsonify

from barong.api import entities
from barong.api.params import Param
from barong.api.v2.management import bp, management_signed
from barong.errors import BarongError
from barong.extensions import db
from barong.models import APIKey
from barong.services.accounts import api_keys, service_accounts, users

E = "management.apikey"
UID = Param("uid", required=True, allow_blank=False, description="User (ID…) or service account (SI…) uid")
SCOPES = Param("scopes", description="comma-separated scopes")
#: beyond the original (issue 15): IPs / CIDRs the key may be used from, and its expiry
ALLOWED_IPS = Param("allowed_ips", max_length=4096, description="IPs / CIDRs, comma separated (blank: anywhere)")
EXPIRES_AT = Param("expires_at", max_length=64, description="ISO 8601 or Unix seconds, in the future (blank: never)")


def _refuse(code: str):
    raise BarongError(f"management.api_keys.{code}", 422)


def _holder(uid: str):
    uid = uid.strip()
    cfg = current_app.config
    if uid.startswith(service_accounts.UID_PREFIX):
        if not cfg.get("BARONG_MGN_API_KEYS_SA"):
            _refuse("disabled_management_endpoint")
        holder = service_accounts.by_uid(uid)
        if holder is None:
            _refuse("service_account_doesnt_exist")
        return holder
    if uid.startswith(cfg["BARONG_UID_PREFIX"]):
        if not cfg.get("BARONG_MGN_API_KEYS_USER"):
            _refuse("disabled_management_endpoint")
        holder = users.by_uid(uid)
        if holder is None:
            _refuse("user_doesnt_exist")
        return holder
    _refuse("uid_prefix_doesnt_exist")


@bp.post("/api_keys")
@management_signed("write_apikeys", E, Param("algorithm", required=True, allow_blank=False,
                                             description="HS256, HS384 or HS512"), UID, SCOPES,
                   ALLOWED_IPS, EXPIRES_AT,
                   status=201, summary="Create an API key (the response carries its secret)")
def api_keys_create(p):
    holder = _holder(p["uid"])
    key, _ = api_keys.create(holder, p["algorithm"], scope=p.get("scopes"), require_otp=False,
                             allowed_ips=p.get("allowed_ips"), expires_at=p.get("expires_at"))
    return jsonify(entities.api_key(key, with_secret=True)), 201


@bp.post("/api_keys/update")
@management_signed("write_apikeys", E, Param("kid", required=True, allow_blank=False, description="API key kid"),
                   UID, SCOPES, Param("state", values=("active", "inactive"), description="active or inactive"),
                   ALLOWED_IPS, EXPIRES_AT,
                   status=201, summary="Update an API key's state, scopes, allow-list or expiry")
def api_keys_update(p):
    holder = _holder(p["uid"])
    key = db.session.query(APIKey).filter_by(kid=p["kid"].strip(), key_holder_account_type=api_keys.holder_type(holder),
                                             key_holder_account_id=holder.id).first()
    if key is None:
        _refuse("api_key_doesnt_exist")
    api_keys.update(key, state=p.get("state") or None, scope=p.get("scopes"), allowed_ips=p.get("allowed_ips"),
                    expires_at=p.get("expires_at"))
    return jsonify(entities.api_key(key)), 201
