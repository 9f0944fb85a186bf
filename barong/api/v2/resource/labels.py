"""resource/labels: the user's labels; only `public` ones can be created, changed or deleted."""
from __future__ import annotations

from flask import jsonify

from barong.api import entities
from barong.api.auth import api_auth
from barong.api.params import Param, use_params
from barong.api.v2.resource import bp, cached_body, me
from barong.errors import BarongError, NotFound
from barong.services.accounts import labels

SCOPE = "resource.label"


def _editable(user, key):
    """The public label `key` (else the first of any scope, so a private one is refused with 400)."""
    label = labels.find(user, key, "public") or labels.find(user, key)
    if label is None:
        raise NotFound()
    if label.scope == "private":
        raise BarongError("resource.labels.private", 400)
    return label


@bp.get("/labels")
@api_auth(load_entity=False)
@use_params(SCOPE, Param("ordering", values=("asc", "desc"), default="asc", invalid="value", location="query"),
            summary="List all labels for current user.")
def labels_index(p):
    desc = p.get("ordering") == "desc"

    def build():
        items = sorted(me().labels, key=lambda l: (l.created_at, l.id), reverse=desc)
        return [entities.label(l) for l in items]

    return jsonify(cached_body("labels", build, desc))


@bp.get("/labels/<key>")
@api_auth
@use_params(SCOPE, summary="Return a label by key.")
def labels_show(p, key):
    label = labels.find(me(), key)
    if label is None:
        raise NotFound()
    return jsonify(entities.label(label))


@bp.post("/labels")
@api_auth
@use_params(SCOPE, Param("key", required=True, allow_blank=False), Param("value", required=True, allow_blank=False),
            status=201, summary="Create a label with 'public' scope.")
def labels_create(p):
    label = labels.add(me(), p["key"], p["value"], scope="public")
    return jsonify(entities.label(label)), 201


@bp.patch("/labels/<key>")
@api_auth
@use_params(SCOPE, Param("value", required=True, allow_blank=False), summary="Update a label with 'public' scope.")
def labels_update(p, key):
    label = labels.update(_editable(me(), key), value=p["value"])
    return jsonify(entities.label(label))


@bp.delete("/labels/<key>")
@api_auth
@use_params(SCOPE, status=204, summary="Delete a label with 'public' scope.")
def labels_destroy(p, key):
    labels.delete(_editable(me(), key))
    return "", 204
