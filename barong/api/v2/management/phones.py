"""management phones (scopes `read_phones`, `write_phones`): numbers added here are
verified at once (no code is sent) and no label is written."""
from __future__ import annotations

from flask import jsonify

from barong.api import entities
from barong.api.params import Param
from barong.api.v2.management import bp, management_signed
from barong.api.v2.management._common import user_or_422
from barong.errors import BarongError
from barong.services.accounts import phones

E = "management.phone"
UID = Param("uid", required=True, allow_blank=False, description="User uid")
NUMBER = Param("number", required=True, allow_blank=False, description="Phone number (international format)")


def _normalize(number: str) -> tuple[str, str]:
    try:
        return phones.normalize(number)
    except BarongError:
        raise BarongError("management.phone.invalid_num", 400) from None


@bp.post("/phones/get")
@management_signed("read_phones", E, UID, status=201, summary="The user's phones")
def phones_get(p):
    user = user_or_422(p["uid"])
    return jsonify([entities.phone(ph, masked=False) for ph in user.phones]), 201


@bp.post("/phones")
@management_signed("write_phones", E, UID, NUMBER, status=201, summary="Add a verified phone to a user")
def phones_create(p):
    user = user_or_422(p["uid"])
    digits, country = _normalize(p["number"])
    if phones.find_by_number(digits, verified=True):
        raise BarongError("management.phone.number_exist", 400)
    if phones.find_by_number(digits, user=user):
        raise BarongError("management.phone.exists", 400)
    phone = phones.create(user, digits, country, verified=True)
    return jsonify(entities.phone(phone, masked=False)), 201


@bp.post("/phones/delete")
@management_signed("write_phones", E, UID, NUMBER, status=201, summary="Delete a user's phone")
def phones_delete(p):
    user = user_or_422(p["uid"])
    try:
        digits, _ = phones.normalize(p["number"])
    except BarongError:
        raise BarongError("management.phone.doesnt_exists", 422) from None
    found = phones.find_by_number(digits, user=user)
    if not found:
        raise BarongError("management.phone.doesnt_exists", 422)
    body = entities.phone(found[0], masked=False)
    phones.delete(found[0])
    return jsonify(body), 201
