"""GET admin/activities (users' own actions) and admin/activities/admin (the audit log)."""
from barong.api import admin_bodies, entities
from barong.api.auth import api_auth
from barong.api.pagination import paginated_response
from barong.api.params import UNIX_SECONDS, Param, use_params
from barong.api.v2.admin import ability, bp, page_and_total
from barong.services.audit import admin_activities

S = "admin.activity"
COMMON = (Param("topic", invalid=f"{S}.non_string_topic"), Param("action", invalid=f"{S}.non_string_action"),
          Param("uid", invalid=f"{S}.non_string_uid", description="the acting user"),
          Param("email", invalid=f"{S}.non_string_email", description="the acting user"),
          Param("from", int, invalid=f"{S}.non_integer_from", description="unix seconds: created_at >= from",
                minimum=UNIX_SECONDS[0], maximum=UNIX_SECONDS[1]),
          Param("to", int, invalid=f"{S}.non_integer_to", description="unix seconds: created_at <= to",
                minimum=UNIX_SECONDS[0], maximum=UNIX_SECONDS[1]))


def _page(category, p):
    return page_and_total(admin_activities.search_query(category, p), p["page"], p["limit"])


@bp.get("/activities")
@api_auth(load_entity=False)
@use_params(S, *COMMON, paginated=True, summary="Returns array of activities as paginated collection")
@ability("read", "Activity")
@admin_bodies.cached(admin_bodies.ACTIVITIES, admin_bodies.USERS)
def activities_index(p):
    items, total = _page("user", p)
    return paginated_response(items, total, p["page"], p["limit"], entities.activity_with_user)


@bp.get("/activities/admin")
@api_auth(load_entity=False)
@use_params(S, *COMMON, Param("target_uid", invalid=f"{S}.non_string_target_uid"),
            Param("range", description="only `created`"), paginated=True,
            summary="Returns array of admin activities as paginated collection")
@ability("read", "AdminActivity")
@admin_bodies.cached(admin_bodies.ACTIVITIES, admin_bodies.USERS)
def activities_admin(p):
    items, total = _page("admin", p)
    targets = admin_activities.targets_for(items)
    return paginated_response(items, total, p["page"], p["limit"],
                              lambda a: entities.admin_activity(a, targets.get(a.target_uid)))
