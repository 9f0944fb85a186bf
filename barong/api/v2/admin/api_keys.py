"""GET admin/api_keys: a user's API keys (read-only, without secrets)."""
from barong.api import admin_bodies, entities
from barong.api.auth import api_auth
from barong.api.params import Param, use_params
from barong.api.v2.admin import ability, bp, respond
from barong.errors import BarongError
from barong.services.accounts import api_keys
from barong.services.operators import admin_users

S = "admin.apikey"
ORDER_COLUMNS = ("id", "kid", "algorithm", "scope", "state", "created_at", "updated_at")


@bp.get("/api_keys")
@api_auth(load_entity=False)
@use_params(S, Param("uid", required=True, allow_blank=False, description="user uniq id"),
            Param("ordering", description="asc (default) or desc"),
            Param("order_by", description="APIKey column (default id)"), paginated=True,
            summary="List all api keys for selected account.")
@ability("read", "APIKey")
@admin_bodies.cached(admin_bodies.USERS)
def api_keys_index(p):
    errors = []
    ordering = (p.get("ordering") or "asc").lower()
    if ordering not in ("asc", "desc"):
        errors.append("api_keys.ordering.invalid_ordering")
    order_by = p.get("order_by") or "id"
    if order_by not in ORDER_COLUMNS:
        errors.append("api_keys.ordering.invalid_attribute")
    if errors:
        raise BarongError(errors, 422)
    user = admin_users.get(p["uid"])
    return respond(api_keys.query_for(user, order_by, ordering), p, entities.api_key)
