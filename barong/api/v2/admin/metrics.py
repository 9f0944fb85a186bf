"""GET admin/metrics."""
from flask import jsonify

from barong.api.auth import api_auth
from barong.api.params import Param, use_params
from barong.api.v2.admin import ability, bp
from barong.services.operators import metrics


@bp.get("/metrics")
@api_auth
@use_params("admin.metrics", Param("created_from", description="unix seconds or ISO 8601; start of the period"),
            Param("created_to", description="unix seconds or ISO 8601; end of the period"),
            Param("extended", bool, invalid="admin.metrics.non_boolean_extended",
                  description="also verified_documents, users_total, users_by_level, users_by_state"),
            summary="Returns main statistic in the given time period")
@ability("read", "User")
def metrics_index(p):
    return jsonify(metrics.summary(p.get("created_from"), p.get("created_to"), extended=bool(p.get("extended"))))
