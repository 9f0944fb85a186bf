"""resource/sessions (beyond Barong): list the user's sessions, revoke one or all others."""
from __future__ import annotations

from barong.services.accounts import sessions
from tests.api.resource.conftest import R, errors
from tests.helpers import UA, login_as


def _second_client(app, user, ua=UA):
    other = app.test_client()
    other.environ_base["HTTP_USER_AGENT"] = ua
    login_as(other, user)
    return other


def test_list(api, app):
    _second_client(app, api.user, ua=UA + " second")
    resp = api.get("sessions")
    assert resp.status_code == 200
    items = resp.get_json()
    assert len(items) == 2
    assert [i["current"] for i in items] == [True, False]
    assert items[1]["user_agent"].endswith("second") and items[0]["user_ip"] == "127.0.0.1"
    assert all(len(i["id"]) == 16 and i["created_at"].endswith("Z") and i["last_seen_at"] for i in items)


def test_revoke_one(api, app):
    other = _second_client(app, api.user)
    items = api.get("sessions").get_json()
    target = [i for i in items if not i["current"]][0]
    assert api.delete(f"sessions/{target['id']}").status_code == 204
    assert other.get(f"{R}/users/me").status_code == 401
    assert api.get("users/me").status_code == 200
    resp = api.delete(f"sessions/{target['id']}")
    assert resp.status_code == 404 and errors(resp) == ["record.not_found"]
    assert api.delete("sessions/abc").status_code == 404


def test_revoke_someone_elses(api, app, make_user):
    stranger = make_user()
    _second_client(app, stranger)
    sid = sessions.list_for_user(stranger.uid)[0].id[:16]
    assert api.delete(f"sessions/{sid}").status_code == 404
    assert len(sessions.list_for_user(stranger.uid)) == 1


def test_revoke_others(api, app):
    one, two = _second_client(app, api.user), _second_client(app, api.user)
    assert len(api.get("sessions").get_json()) == 3
    assert api.delete("sessions").status_code == 204
    assert [i["current"] for i in api.get("sessions").get_json()] == [True]
    assert one.get(f"{R}/users/me").status_code == 401 and two.get(f"{R}/users/me").status_code == 401


def test_revoke_current(api):
    current = api.get("sessions").get_json()[0]
    assert api.delete(f"sessions/{current['id']}").status_code == 204
    assert api.get("users/me").status_code == 401
