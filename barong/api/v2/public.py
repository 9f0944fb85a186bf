"""`/api/v2/barong/public/…`: unauthenticated information, and the KYC provider callback."""
from __future__ import annotations

from flask import Blueprint, request

from barong.api.params import Param, no_content, use_params
from barong.api.v2 import general

bp = Blueprint("public", __name__)
general.register(bp, "public.general")


@bp.post("/kyc")
@use_params("public.kyc", Param("applicant_id"), Param("verification_id"), Param("type"), Param("status"),
            Param("verified", "any"), Param("verifications", "any"), status=201,
            summary="KYC provider callback (kycaid: signed with x-data-integrity; local provider: 422)")
@no_content
def kyc_callback(p):
    from barong.services.verification import kyc

    kyc.handle_callback(request.get_data(cache=True), request.headers.get("x-data-integrity"))
    return "", 201
