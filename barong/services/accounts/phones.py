"""Phones: add (sends a code), resend, verify (→ private label `phone: verified`, level 2).

Numbers are normalised with `phonenumbers` (reference/data-model.md §7): every non-digit
stripped, parsed as international, stored as digits without "+" (encrypted, with a CRC32
index). Codes are 5 digits, stored as a keyed hash; the SMS provider is services.sms.
"""
from __future__ import annotations

import re

import phonenumbers

from barong.errors import BarongError, ValidationError
from barong.extensions import db
from barong.models import Phone, User, utcnow
from barong.security.crypto import crc32_index
from barong.services.delivery import sms
from barong.services.infra.request_info import RequestInfo

CHANNELS = ("sms", "call")
#: wrong codes accepted for one phone before it needs a new code (or FAILURE_WINDOW passes)
MAX_FAILURES = 5
FAILURE_WINDOW = 900


def normalize(number: str | None) -> tuple[str, str]:
    """(digits, ISO alpha-2 country) of a valid number; `+44 07418084106` → ("447418084106", "GB").

    Raises 400 resource.phone.invalid_num.
    """
    digits = re.sub(r"\D", "", str(number or ""))
    try:
        parsed = phonenumbers.parse("+" + digits) if digits else None
    except phonenumbers.NumberParseException:
        parsed = None
    if parsed is None or not phonenumbers.is_valid_number(parsed):
        raise BarongError("resource.phone.invalid_num", 400)
    e164 = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    return e164.lstrip("+"), phonenumbers.region_code_for_number(parsed) or ""


def find_by_number(digits: str, user: User | None = None, verified: bool | None = None) -> list[Phone]:
    """Phones whose (decrypted) number is `digits`, optionally of `user` / verified only."""
    q = db.session.query(Phone).filter(Phone.number_index == crc32_index(digits))
    if user is not None:
        q = q.filter(Phone.user_id == user.id)
    if verified is True:
        q = q.filter(Phone.validated_at.isnot(None))
    return [p for p in q.order_by(Phone.id) if p.number == digits]


def validate(number: str | None) -> tuple[str, str]:
    """normalize + 400 resource.phone.number_exist when any user has it verified."""
    digits, country = normalize(number)
    if find_by_number(digits, verified=True):
        raise BarongError("resource.phone.number_exist", 400)
    return digits, country


def _check_channel(channel: str | None) -> str:
    channel = channel or "sms"
    if channel not in CHANNELS:
        raise BarongError("resource.phone.invalid_channel", 422)
    return channel


def _failures_key(phone: Phone) -> str:
    return f"phone_failures:{phone.id}"


def _send_new_code(phone: Phone, channel: str) -> None:
    from barong.services.infra import kv

    if phone.id is not None and kv.get(_failures_key(phone)):
        kv.delete(_failures_key(phone))  # a fresh code gets fresh attempts
    provider = sms.provider()
    code = None
    if not provider.generates_codes:
        code = provider.new_code()
        phone.code = sms.hash_code(code)
    phone.code_sent_at = utcnow()
    db.session.flush()
    provider.send_code(phone.number, code, channel)  # a provider error (422) rolls the request back


def create(user: User, digits: str, country: str | None = None, verified: bool = False) -> Phone:
    """Insert a phone row without sending anything (management users/import, admin tools).
    Raises ValidationError(number.invalid) for a number `normalize` refuses."""
    try:
        digits, detected = normalize(digits)
    except BarongError:
        raise ValidationError("number.invalid") from None
    phone = Phone(country=country or detected, validated_at=utcnow() if verified else None)
    phone.number = digits
    user.phones.append(phone)  # via the relationship: the collection holds it exactly once
    db.session.flush()
    return phone


def delete(phone: Phone) -> None:
    """Remove a phone row (management phones/delete); the owner's `phones` collection drops it too."""
    if phone.user is not None and phone in phone.user.phones:
        phone.user.phones.remove(phone)
    db.session.delete(phone)
    db.session.flush()


def add(user: User, number: str, info: RequestInfo | None = None, channel: str = "sms") -> Phone:
    """Add a number and send it a code. Raises 400 resource.phone.invalid_num / number_exist /
    exists (the user already has it), 422 resource.phone.invalid_channel or a provider code."""
    channel = _check_channel(channel)
    digits, country = validate(number)
    if find_by_number(digits, user=user):
        raise BarongError("resource.phone.exists", 400)
    phone = Phone(country=country)
    phone.number = digits
    user.phones.append(phone)  # via the relationship: the collection holds it exactly once
    _send_new_code(phone, channel)
    return phone


def _own_phone(user: User, digits: str) -> Phone:
    found = find_by_number(digits, user=user)
    if not found:
        raise BarongError("resource.phone.doesnt_exist", 404)
    return found[0]


def resend(user: User, number: str, info: RequestInfo | None = None, channel: str = "sms") -> Phone:
    """Send a fresh code to one of the user's numbers. Raises 400 invalid_num/number_exist,
    404 resource.phone.doesnt_exist."""
    channel = _check_channel(channel)
    digits, _ = validate(number)
    phone = _own_phone(user, digits)
    _send_new_code(phone, channel)
    return phone


def verify(user: User, number: str, code: str, info: RequestInfo | None = None) -> Phone:
    """Check the code; on success set validated_at and the private label `phone: verified`
    (→ level recomputation). Raises 400 invalid_num/number_exist, 404 resource.phone.doesnt_exist,
    404 resource.phone.verification_invalid, 429 resource.phone.too_many_requests after
    MAX_FAILURES wrong codes for this phone (until a new code is sent)."""
    digits, _ = validate(number)
    phone = _own_phone(user, digits)
    from flask import current_app

    from barong.services.infra import kv
    from barong.services.infra.unit_of_work import durable

    limited = current_app.config.get("BARONG_RATELIMIT_ENABLED", True)
    if limited and kv.count(_failures_key(phone)) >= MAX_FAILURES:
        raise BarongError("resource.phone.too_many_requests", 429)
    if not sms.provider().check_code(digits, str(code or "").strip(), phone.code):
        if limited:
            durable(kv.incr, _failures_key(phone), FAILURE_WINDOW)  # counted although the request rolls back
        raise BarongError("resource.phone.verification_invalid", 404)
    changed = any(p.validated_at is not None and p is not phone for p in user.phones)
    phone.validated_at = utcnow()
    phone.code = None
    db.session.flush()
    from barong.services.accounts import labels

    labels.set_value(user, "phone", "verified", scope="private")
    if changed:  # a new number replacing a verified one: the security cooldown
        from barong.services.accounts import cooldown

        cooldown.start(user, "phone change", info)
    return phone


def message(channel: str | None) -> dict:
    return {"message": f"Code was sent successfully via {channel or 'sms'}"}
