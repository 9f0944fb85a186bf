"""management `timestamp` (scope `tools`)."""
from __future__ import annotations

import time

from flask import jsonify

from barong.api.v2.management import bp, management_signed


@bp.post("/timestamp")
@management_signed("tools", "management.tool", status=201,
                   summary="Returns server time in seconds since Unix epoch.")
def timestamp(p):
    return jsonify(timestamp=int(time.time())), 201
