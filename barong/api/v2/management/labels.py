"""management labels (scopes `read_labels`, `write_labels`; filter/users: `read_users`).
Only private labels are written here; level and state follow (services.labels)."""
from __future__ import annotations

from flask import jsonify

from barong.api import entities
from barong.api.pagination import respond
from barong.api.params import Param
from barong.api.v2.management import bp, management_signed
from barong.api.v2.management._common import (
    EXTENDED,
    FROM,
    RANGE,
    TO,
    time_window,
    user_or_404,
)
from barong.errors import NotFound
from barong.extensions import db
from barong.models import Label, User
from barong.services.accounts import labels

E = "management.label"
USER_UID = Param("user_uid", required=True, allow_blank=False, description="User uid")
KEY = Param("key", required=True, allow_blank=False, description="Label key.")
VALUE = Param("value", required=True, allow_blank=False, description="Label value.")
DESCRIPTION = Param("description", description="Label description.")


@bp.post("/labels/list")
@management_signed("read_labels", E, USER_UID, status=201, summary="All labels of a user (public and private)")
def labels_list(p):
    user = user_or_404(p["user_uid"])
    return jsonify([entities.admin_label(l) for l in user.labels]), 201


@bp.post("/labels/filter/users")
@management_signed("read_users", E, KEY, Param("value", description="Label value."),
                   Param("scope", description="Label scope."), EXTENDED, RANGE, FROM, TO,
                   status=201, paginated=True, max_limit=1000, summary="Users filtered on label attributes")
def labels_filter_users(p):
    query = db.session.query(User).join(Label, Label.user_id == User.id).filter(
        Label.key == labels.normalize(p["key"]))
    if p.get("value"):
        query = query.filter(Label.value == labels.normalize(p["value"]))
    if p.get("scope"):
        query = query.filter(Label.scope == p["scope"].strip().lower())
    query = time_window(query, Label.created_at, Label.updated_at, p).order_by(Label.id)
    if p.get("extended"):
        serialize = lambda u: entities.management_user_with_profile(u, masked=True)  # noqa: E731
    else:
        serialize = entities.user
    response = respond(query, p, serialize)
    return response, 201


@bp.post("/labels")
@management_signed("write_labels", E, USER_UID, KEY, VALUE, DESCRIPTION, status=201,
                   summary="Create a label with 'private' scope")
def labels_create(p):
    user = user_or_404(p["user_uid"])
    label = labels.add(user, p["key"], p["value"], scope="private", description=p.get("description"))
    return jsonify(entities.label(label)), 201


@bp.put("/labels")
@management_signed("write_labels", E, USER_UID, KEY, VALUE, DESCRIPTION,
                   Param("replace", bool, default=True, description="create the label when it does not exist"),
                   status=200, summary="Update a label with 'private' scope")
def labels_update(p):
    user = user_or_404(p["user_uid"])
    label = labels.find(user, p["key"], "private")
    if label is None:
        if p.get("replace") is False:
            raise NotFound("management.label.doesnt_exist")
        label = labels.add(user, p["key"], p["value"], scope="private", description=p.get("description"))
    else:
        labels.update(label, value=p["value"], description=p.get("description"))
    return jsonify(entities.label(label)), 200


@bp.post("/labels/delete")
@management_signed("write_labels", E, USER_UID, KEY, status=201, summary="Delete a label with 'private' scope")
def labels_delete(p):
    user = user_or_404(p["user_uid"])
    label = labels.find(user, p["key"], "private")
    if label is None:
        raise NotFound()
    body = entities.label(label)
    labels.delete(label)
    return jsonify(body), 201
