"""management service_accounts (scopes `read_service_accounts`, `write_service_accounts`)."""
from __future__ import annotations

from flask import jsonify

from barong.api import entities
from barong.api.pagination import respond
from barong.api.params import INT32, Param
from barong.api.v2.management import bp, management_signed
from barong.errors import BarongError, NotFound
from barong.services.accounts import service_accounts, users

E = "management.serviceaccount"
UID = Param("uid", required=True, allow_blank=False, description="Service account uid")


def _owner(uid: str | None):
    if not uid:
        return None
    owner = users.by_uid(uid.strip())
    if owner is None:
        raise BarongError("user.doesnt_exist", 422)
    return owner


@bp.post("/service_accounts/get")
@management_signed("read_service_accounts", E, Param("uid", description="Service account uid"),
                   Param("email", description="Service account email"), status=201,
                   summary="Get a service account by uid or email")
def service_accounts_get(p):
    given = [k for k in ("uid", "email") if isinstance(p.get(k), str) and p[k].strip()]
    if not given:
        raise BarongError("management.serviceaccount.missing_uid_email", 422)
    if len(given) > 1:
        raise BarongError("management.serviceaccount.mutually_exclusive_uid_email", 422)
    sa = service_accounts.by_uid(p["uid"].strip()) if "uid" in given else \
        service_accounts.query(email=p["email"].strip()).first()
    if sa is None:
        raise NotFound()
    return jsonify(entities.service_account(sa)), 201


@bp.post("/service_accounts/list")
@management_signed("read_service_accounts", E, Param("owner_uid", description="Owner uid"),
                   Param("owner_email", description="Owner email"), status=201, paginated=True,
                   summary="Service accounts (of an owner, or all)")
def service_accounts_list(p):
    owner = users.by_uid((p.get("owner_uid") or "").strip()) or users.by_email(p.get("owner_email"))
    return respond(service_accounts.query(owner), p, entities.service_account), 201


@bp.post("/service_accounts/create")
@management_signed("write_service_accounts", E,
                   Param("service_account_role", required=True, allow_blank=False, description="Role"),
                   Param("owner_uid", description="Owner uid (state and level are copied from the owner)"),
                   Param("service_account_uid", description="uid (SI…, generated when absent)"),
                   Param("service_account_email", description="email (default <owner local>+<uid>@<owner domain>)"),
                   Param("service_account_state", description="state without an owner (default pending)"),
                   Param("service_account_level", int, description="level without an owner (default 0)",
                         minimum=INT32[0], maximum=INT32[1]),
                   status=201, summary="Create a service account")
def service_accounts_create(p):
    owner = _owner(p.get("owner_uid"))
    sa = service_accounts.create(
        owner, role=p["service_account_role"].strip(), email=p.get("service_account_email") or None,
        uid=(p.get("service_account_uid") or "").strip() or None,
        level=None if owner else p.get("service_account_level"),
        state=None if owner else (p.get("service_account_state") or None))
    return jsonify(entities.service_account(sa)), 201


@bp.post("/service_accounts/update")
@management_signed("write_service_accounts", E, UID, Param("owner_uid", description="New owner uid"),
                   status=201, summary="Re-parent a service account (level and state follow the owner)")
def service_accounts_update(p):
    sa = service_accounts.by_uid(p["uid"].strip())
    if sa is None:
        raise BarongError("service_account.doesnt_exist", 422)
    owner = _owner(p.get("owner_uid")) or sa.owner
    if owner is not None:
        sa.owner = owner
        sa = service_accounts.update(sa, level=owner.level, state=owner.state)
    return jsonify(entities.service_account(sa)), 201


@bp.post("/service_accounts/delete")
@management_signed("write_service_accounts", E, UID, status=201,
                   summary="Disable a service account (its keys become inactive)")
def service_accounts_delete(p):
    sa = service_accounts.by_uid(p["uid"].strip())
    if sa is None:
        raise NotFound()
    sa = service_accounts.update(sa, state="disabled")
    return jsonify(entities.service_account(sa)), 201
