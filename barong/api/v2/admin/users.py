"""admin/users: list and filter, show, state/otp/email, role, KYC queue, data storage."""
from flask import jsonify

from barong.api import admin_bodies, entities
from barong.api.auth import api_auth, current_user
from barong.api.pagination import paginated_response
from barong.api.params import INT32, UNIX_SECONDS, Param, use_params
from barong.api.v2.admin import ability, bp, nonblank
from barong.errors import BarongError
from barong.services.operators import admin_users

S = "admin.user"


def _filters(ordering: bool = True):
    params = [Param("extended", bool, invalid=f"{S}.non_boolean_extended",
                    description="true: users with profiles (UserWithProfile / UserWithKYC)"),
              Param("q", description="one box: part of an email, uid, username, phone number (any punctuation) "
                                     "or document number (exact; encrypted columns through their index)"),
              Param("uid"), Param("email"), Param("role"), Param("first_name", description="accepted, ignored"),
              Param("last_name", description="accepted, ignored"),
              Param("country", description="country of any of the user's profiles"),
              Param("level", int, invalid=f"{S}.non_integer_level", minimum=INT32[0], maximum=INT32[1]), Param("state"),
              Param("range", values=("created", "updated"), invalid=f"{S}.invalid_range",
                    description="which timestamp from/to apply to (default created)")]
    if ordering:
        params += [Param("ordering", description="asc (default) or desc"),
                   Param("order_by", description="users column (default id)")]
    params += [Param("from", int, invalid=f"{S}.non_integer_from", description="unix seconds",
                     minimum=UNIX_SECONDS[0], maximum=UNIX_SECONDS[1]),
               Param("to", int, invalid=f"{S}.non_integer_to", description="unix seconds",
                     minimum=UNIX_SECONDS[0], maximum=UNIX_SECONDS[1])]
    return params


@bp.get("/users")
@api_auth(load_entity=False)
@use_params(S, *_filters(), paginated=True, summary="Returns array of users as paginated collection")
@ability("read", "User")
@admin_bodies.cached(admin_bodies.USERS, pii=True)
def users_index(p):
    _, conds, f = admin_users.search_query(p)
    serialize = entities.user_with_profile if f["extended"] else entities.user
    items = admin_users.page_of(conds, f, p["page"], p["limit"])
    return paginated_response(items, admin_users.count(conds), p["page"], p["limit"], serialize)


def _queue_filters():
    return [Param("doc_type", description="only applicants with a pending document of this type "
                                          "(e.g. Passport, Address)"),
            Param("waiting_hours", int, invalid="admin.kyc.non_integer_waiting_hours", minimum=0, maximum=10**6,
                  description="only applicants whose oldest pending document was uploaded at least this many "
                              "hours ago"),
            Param("reviewer", description="uid of the reviewer holding the applicant (a live claim), or `none` "
                                          "for applicants nobody holds")]


def _timeless_queue(p) -> bool:
    """The queue's answer moves with the clock under `waiting_hours` and `reviewer` (claims expire)."""
    return p.get("waiting_hours") is None and not p.get("reviewer")


@bp.get("/users/documents/pending")
@api_auth(load_entity=False)
@use_params(S, *_filters(ordering=False), *_queue_filters(), paginated=True,
            summary="Returns array of users with pending or replaced documents as paginated collection",
            description="The KYC queue: users with a document (identity or proof of address) waiting for a "
                        "decision, oldest pending upload first; the console's queue lists the same.")
@ability("read", "User")
@admin_bodies.cached(admin_bodies.USERS, pii=True, when=_timeless_queue)
def users_pending_documents(p):
    from barong.services.verification import kyc_review

    rows, total = kyc_review.queue(p, page=p["page"], limit=p["limit"])
    serialize = entities.user_with_kyc if p.get("extended") else entities.user
    return paginated_response([u for u, _ in rows], total, p["page"], p["limit"], serialize)


@bp.get("/users/<uid>")
@api_auth(load_entity=False)
@use_params(S, summary="Returns user info")
@ability("read", "User")
@admin_bodies.cached(admin_bodies.USERS, pii=True)
def users_show(p, uid):
    return jsonify(entities.user_with_kyc(admin_users.get(uid, full=True)))


def _update(p, one_of: str, fields: tuple):
    given = [f for f in fields if p.get(f) is not None]
    if len(given) != 1:
        raise BarongError(one_of, 422)
    user = admin_users.get(p["uid"])
    admin_users.update(user, **{f: p[f] for f in given}, actor=current_user(), one_of=one_of)
    return user


@bp.put("/users")
@api_auth
@use_params(S, Param("uid", required=True, allow_blank=False),
            nonblank("state"), nonblank("otp", bool, invalid=f"{S}.non_boolean_otp"), nonblank("email"),
            summary="Update user attributes (exactly one of state, otp, email)")
@ability("update", "User")
def users_update(p):
    user = _update(p, f"{S}.one_of_state_otp_email", ("state", "otp", "email"))
    return jsonify(entities.user(user))


@bp.post("/users/update")
@api_auth
@use_params(S, Param("uid", required=True, allow_blank=False),
            nonblank("state"), nonblank("otp", bool, invalid=f"{S}.non_boolean_otp"),
            status=201, summary="Update user attributes (exactly one of state, otp)")
@ability("update", "User")
def users_update_legacy(p):
    user = _update(p, f"{S}.one_of_state_otp", ("state", "otp"))
    return jsonify(entities.user(user)), 201


@bp.post("/users/role")
@api_auth
@use_params(S, Param("uid", required=True, allow_blank=False), Param("role", required=True, allow_blank=False),
            status=201, summary="Update user role")
@ability("update", "User")
def users_role(p):
    user = admin_users.get(p["uid"])
    admin_users.change_role(user, p["role"], actor=current_user())
    return jsonify(entities.user(user)), 201


@bp.delete("/users/data_storage")
@api_auth
@use_params(S, Param("uid", required=True, allow_blank=False), Param("title", required=True, allow_blank=False),
            status=204, summary="Deletes user's data storage record")
@ability("destroy", "User")
def users_data_storage_delete(p):
    user = admin_users.get(p["uid"])
    admin_users.delete_data_storage(user, p["title"], actor=current_user())
    return "", 204
