"""management `otp/sign` (scope `otp_sign`): co-sign a JWS with this server's key once the
user's TOTP code checks out (Barong's signer `barong`, RS256)."""
from __future__ import annotations

from flask import jsonify

from barong.api.params import Param
from barong.api.v2.management import bp, management_signed
from barong.errors import BarongError, NotFound
from barong.security import jws
from barong.security.jwt_keys import keypair
from barong.services.accounts import otp, users

E = "management.otp"
SIGNER = "barong"


@bp.post("/otp/sign")
@management_signed("otp_sign", E, Param("user_uid", required=True, allow_blank=False, description="Account UID"),
                   Param("otp_code", required=True, allow_blank=False, description="Code from Google Authenticator"),
                   Param("jwt", dict, required=True, allow_blank=False,
                         description="the JWS (JSON general serialization) to co-sign"),
                   status=201, summary="Sign request with barong signature")
def otp_sign(p):
    try:
        payload, _ = jws.parse_general(p["jwt"])
        if not isinstance(jws.decode_json(payload), dict):
            raise jws.JWSError("payload is not a JSON object")
    except jws.JWSError:
        raise BarongError("management.otp.jwt_invalid", 422) from None
    user = users.by_uid(p["user_uid"])
    if user is None or user.state != "active":
        raise NotFound()
    if not user.otp:
        raise BarongError("management.otp.not_enabled", 422)
    if not otp.verify(user, str(p["otp_code"])):
        raise BarongError("management.otp.invalid_otp", 422)
    try:
        signed = jws.add_signature(p["jwt"], SIGNER, "RS256", keypair().private_key)
    except (jws.JWSError, ValueError):
        raise BarongError("management.otp.jwt_invalid", 422) from None
    return jsonify(signed), 201
