"""resource/data_storage: small JSON documents under the configured titles."""
from __future__ import annotations

from barong.api.auth import api_auth
from barong.api.params import Param, no_content, use_params
from barong.api.v2.resource import bp, me
from barong.services.verification import data_storage

SCOPE = "resource.datastorage"


@bp.post("/data_storage")
@api_auth
@use_params(SCOPE, Param("title", required=True, allow_blank=False, description="one of user_storage_titles"),
            Param("data", "any", required=True, allow_blank=False, description="JSON string (≤5120 chars)"),
            status=201, summary="Create data storage")
@no_content
def data_storage_create(p):
    data_storage.create(me(), p["title"], p["data"])
    return "", 201
