"""resource/phones: add a number, resend its code, verify it."""
from __future__ import annotations

from flask import jsonify

from barong.api import entities
from barong.api.auth import api_auth
from barong.api.params import Param, document, use_params
from barong.api.v2.resource import bp, cached_body, me
from barong.services.access.rate_limits import limit
from barong.services.accounts import phones
from barong.services.infra.request_info import RequestInfo

SCOPE = "resource.phone"
NUMBER = Param("phone_number", required=True, allow_blank=False, description="Phone number with country code")
CHANNEL = Param("channel", values=phones.CHANNELS, default="sms", invalid=f"{SCOPE}.invalid_channel",
                description="The verification method to use: sms or call")


@bp.get("/phones")
@api_auth(load_entity=False)
@document(summary="Returns list of user's phones")
def phones_index():
    return jsonify(cached_body("phones", lambda: [entities.phone(ph) for ph in me().phones]))


@bp.post("/phones")
@limit("phone")
@api_auth
@use_params(SCOPE, NUMBER, CHANNEL, status=201, summary="Add new phone (a code is sent)")
def phones_create(p):
    return _code_sent(phones.add, p)


@bp.post("/phones/send_code")
@limit("phone")
@api_auth
@use_params(SCOPE, NUMBER, CHANNEL, status=201, summary="Resend activation code")
def phones_send_code(p):
    return _code_sent(phones.resend, p)


def _code_sent(send, p):
    """`send` (phones.add / phones.resend) a code to the number; both answer the same message.
    A blank channel is sms (the service's default, and the message's)."""
    send(me(), p["phone_number"], RequestInfo.current(), channel=p.get("channel"))
    return jsonify(phones.message(p.get("channel"))), 201


@bp.post("/phones/verify")
@limit("phone")
@api_auth
@use_params(SCOPE, NUMBER, Param("verification_code", required=True, allow_blank=False,
                                 description="Verification code from sms"),
            status=201, summary="Verify a phone")
def phones_verify(p):
    user = me()
    phones.verify(user, p["phone_number"], p["verification_code"], RequestInfo.current())
    return jsonify(entities.user_full(user)), 201
