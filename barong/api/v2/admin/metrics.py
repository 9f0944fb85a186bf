"""GET admin/metrics."""
from flask import jsonify

from barong.api import admin_bodies
from barong.api.auth import api_auth
from barong.api.params import Param, use_params
from barong.api.v2.admin import ability, bp
from barong.services.operators import metrics


@bp.get("/metrics")
@api_auth(load_entity=False)
@use_params("admin.metrics", Param("created_from", description="unix seconds or ISO 8601; start of the period"),
            Param("created_to", description="unix seconds or ISO 8601; end of the period"),
            Param("extended", bool, invalid="admin.metrics.non_boolean_extended",
                  description="also verified_documents, users_total, users_by_level, users_by_state"),
            summary="Returns main statistic in the given time period")
@ability("read", "User")
@admin_bodies.cached(admin_bodies.ACTIVITIES, admin_bodies.USERS)
def metrics_index(p):
    return jsonify(metrics.summary(p.get("created_from"), p.get("created_to"), extended=bool(p.get("extended"))))


@bp.get("/kyc/metrics")
@api_auth
@use_params("admin.kyc", Param("from", description="unix seconds or ISO 8601; decisions made at or after it"),
            Param("to", description="unix seconds or ISO 8601; decisions made at or before it"),
            summary="KYC reviewer metrics in the given time period",
            errors={422: "admin.kyc.invalid_time"})
@ability("read", "DocumentReview")
def kyc_metrics(p):
    """Decisions per reviewer and in total over document_decisions: approved / rejected /
    retried counts and rates, p50 / p90 seconds from upload to decision (not in Barong)."""
    return jsonify(metrics.kyc_reviewers(p.get("from"), p.get("to")))
