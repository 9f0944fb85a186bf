"""`/api/v2/barong/public/…`: unauthenticated information, and the KYC provider callback."""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify

from barong.api.params import Param, use_params
from barong.api.v2 import general

bp = Blueprint("public", __name__)
general.register(bp, "public.general")


@bp.post("/kyc")
@use_params("public.kyc", Param("applicant_id"), Param("verification_id"), Param("type"), Param("status"),
            Param("verified"), status=201, summary="KYC provider callback")
def kyc_callback(p):
    from barong.services import kyc

    kyc.handle_callback(p)
    return "", 201
