"""resource/sessions (beyond the original): list the user's active sessions, revoke one or
all the others. A session's public id is the first 16 hex of its store key."""
from __future__ import annotations

from datetime import datetime, timezone

from flask import g, jsonify

from barong.api.auth import api_auth
from barong.api.params import document
from barong.api.v2.resource import bp, lists, me, me_account
from barong.errors import NotFound
from barong.services.accounts import sessions

ID_LENGTH = 16


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _entity(s, current_id) -> dict:
    return {"id": s.id[:ID_LENGTH], "created_at": _iso(s.created_at), "last_seen_at": _iso(s.last_seen_at),
            "user_ip": s.user_ip, "user_agent": s.user_agent, "current": s.id == current_id}


@bp.get("/sessions")
@api_auth(load_entity=False)
@document(summary="List the current user's active sessions (the one making the call has current: true)")
def sessions_index():
    current_id = g.get("barong_session_id")
    return jsonify([_entity(s, current_id) for s in lists.sessions_of(me_account().uid)])


@bp.delete("/sessions/<session_id>")
@api_auth
@document(status=204, summary="Revoke one of the current user's sessions")
def sessions_destroy(session_id):
    found = [s for s in sessions.list_for_user(me().uid)
             if len(session_id) == ID_LENGTH and s.id.startswith(session_id.lower())]
    if not found:
        raise NotFound()
    sessions.destroy(found[0])
    return "", 204


def _network(n) -> dict:
    from barong.models import iso

    return {"id": n.id, "kind": n.kind, "network": n.value, "created_at": iso(n.created_at),
            "last_used_at": iso(n.last_used_at)}


@bp.get("/networks")
@api_auth
@document(summary="The networks (/16 or /96, or countries) approved for the current user's logins "
                  "(new-network approval, BARONG_LOGIN_NEW_NETWORK_APPROVAL)")
def networks_index():
    from barong.services.accounts import networks

    return jsonify([_network(n) for n in networks.list_for(me())])


@bp.delete("/networks/<int:network_id>")
@api_auth
@document(status=204, summary="Forget an approved network: the next login from it needs approval again")
def networks_destroy(network_id):
    from barong.services.accounts import networks

    networks.remove(me(), network_id)
    return "", 204


@bp.delete("/sessions")
@api_auth
@document(status=204, summary="Revoke every session of the current user except the current one")
def sessions_destroy_others():
    sessions.invalidate_all(me().uid, keep=g.get("barong_session_id"))
    return "", 204
