"""management users (scopes `read_users`, `write_users`)."""
from __future__ import annotations

import re

from flask import jsonify

from barong.api import entities
from barong.api.pagination import respond
from barong.api.params import Param
from barong.api.v2.management import bp, management_signed
from barong.api.v2.management._common import (
    EXTENDED,
    FROM,
    RANGE,
    TO,
    time_window,
    user_or_422,
)
from barong.errors import BarongError, NotFound, ValidationError
from barong.extensions import db
from barong.models import User
from barong.services.accounts import phones, profiles, users

E = "management.user"
_DIGEST = re.compile(r"^(\$2[aby]\$\d\d\$[./A-Za-z0-9]{53}|\$argon2(id|i|d)\$\S+)$")
PROFILE_PARAMS = [Param("first_name"), Param("last_name"), Param("dob", description="Birthday date (YYYY-MM-DD)"),
                  Param("address"), Param("postcode"), Param("city"), Param("country")]


def _referral(uid: str | None) -> User | None:
    if not uid:
        return None
    referrer = users.by_uid(uid)
    if referrer is None:
        raise ValidationError("referral_uid.doesnt_exist")
    return referrer


@bp.post("/users/get")
@management_signed("read_users", E, Param("uid", description="User uid"), Param("email", description="User email"),
                   Param("phone_num", description="User phone number"), status=201,
                   summary="Get users and profile information (exactly one of uid, email, phone_num)")
def users_get(p):
    given = [k for k in ("uid", "email", "phone_num") if isinstance(p.get(k), str) and p[k].strip()]
    if not given:
        raise BarongError("management.user.missing_uid_email_phone_num", 422)
    if len(given) > 1:
        raise BarongError("management.user.mutually_exclusive_uid_email_phone_num", 422)
    if given == ["uid"]:
        user = users.by_uid(p["uid"].strip())
    elif given == ["email"]:
        user = users.by_email(p["email"])
    else:
        try:
            digits, _ = phones.normalize(p["phone_num"])
        except BarongError:  # not a valid number: look the digits up as given
            digits = re.sub(r"\D", "", p["phone_num"])
        found = phones.find_by_number(digits) if digits else []
        user = found[0].user if found else None
    if user is None:
        raise NotFound()
    return jsonify(entities.management_user_with_kyc(user)), 201


@bp.post("/users/list")
@management_signed("read_users", E, EXTENDED, RANGE, FROM, TO, status=201, paginated=True, max_limit=1000,
                   summary="Returns array of users as collection")
def users_list(p):
    query = time_window(db.session.query(User), User.created_at, User.updated_at, p).order_by(User.id)
    if p.get("extended"):
        serialize = lambda u: entities.management_user_with_profile(u, masked=False)  # noqa: E731
    else:
        serialize = entities.user
    return respond(query, p, serialize), 201


@bp.post("/users")
@management_signed("write_users", E, Param("email", required=True, allow_blank=False, description="User Email"),
                   Param("password", required=True, allow_blank=False, description="User Password"),
                   Param("referral_uid", description="UID of the referrer"), status=201,
                   summary="Creates new user")
def users_create(p):
    user = users.create(p["email"], p["password"], referral=_referral(p.get("referral_uid")))
    return jsonify(entities.management_user_with_profile(user, masked=False)), 201


@bp.post("/users/update")
@management_signed("write_users", E, Param("uid", required=True, allow_blank=False, description="User uid"),
                   Param("role", description="User role"), Param("data", "json", description="JSON string"),
                   status=201, summary="Updates role and data fields of existing user")
def users_update(p):
    if not p.get("role") and not p.get("data"):
        raise BarongError("management.user.missing_role_data", 422)
    user = user_or_422(p["uid"])
    users.update_role_and_data(user, role=p.get("role") or None, data=p.get("data") or None)
    return jsonify(entities.management_user_with_profile(user, masked=False)), 201


@bp.post("/users/import")
@management_signed("write_users", E, Param("email", required=True, allow_blank=False, description="User Email"),
                   Param("password_digest", required=True, allow_blank=False,
                         description="bcrypt (or argon2id) hash of the user's password"),
                   Param("referral_uid", description="UID of the referrer"), Param("phone"), *PROFILE_PARAMS,
                   Param("state", description="Profile state (default drafted)"), status=201,
                   summary="Imports an existing user")
def users_import(p):
    digest = p["password_digest"].strip()
    if not _DIGEST.match(digest):
        raise ValidationError("password_digest.invalid")
    if users.by_email(p["email"]) is not None:
        raise ValidationError("email.taken")
    user = users.create(p["email"], password_digest=digest, referral=_referral(p.get("referral_uid")))
    if p.get("phone"):
        phones.create(user, p["phone"], verified=True)
    fields = {k.name: p.get(k.name) for k in PROFILE_PARAMS}
    profiles.create(user, fields, state=p.get("state") or None)
    return jsonify(entities.management_user_with_profile(user, masked=False)), 201
