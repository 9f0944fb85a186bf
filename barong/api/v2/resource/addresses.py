"""resource/addresses: proof-of-address uploads (documents of type `Address`)."""
from __future__ import annotations

from barong.api.auth import api_auth
from barong.api.params import Param, no_content, use_params
from barong.api.v2.resource import bp, me
from barong.api.v2.resource.documents import files_of
from barong.services.verification import documents

SCOPE = "resource.address"


@bp.post("/addresses")
@api_auth
@use_params(SCOPE, Param("country", required=True, allow_blank=False), Param("address", required=True, allow_blank=False),
            Param("upload", "file", required=True, description="file(s): multipart field `upload[]`"),
            Param("city", required=True), Param("postcode", required=True),
            status=201, summary="Upload a new address approval document for current user")
@no_content
def addresses_create(p):
    documents.create_address(me(), files_of(p.get("upload")), p["country"], p["address"],
                             p.get("city"), p.get("postcode"))
    return "", 201
