"""Users: search and filters, and every action on the user page (DB change + admin
audit row; bad input → 422 with the field error; refusals change nothing)."""
from __future__ import annotations

import json
from datetime import timedelta

import pytest

from barong.extensions import db
from barong.models import Comment, DataStorage, utcnow
from barong.services.accounts import labels
from barong.services.infra import unit_of_work
from tests.web.console.support import admin_activities, hx


@pytest.fixture
def admin_client(operator, console):
    me = operator("superadmin")
    return console(me), me


def fresh(user):
    db.session.expire_all()
    return user


# ---- search -------------------------------------------------------------------------------------

def test_live_search_by_part_of_email(admin_client, make_user):
    client, _ = admin_client
    wanted = make_user(email="needle.haystack@example.com")
    make_user(email="other@example.com")
    resp = client.get("/admin/users?q=needle", headers=hx())
    body = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "<html" not in body
    assert wanted.uid in body and "other@example.com" not in body
    assert client.get(f"/admin/users?q={wanted.uid}").get_data(as_text=True).count(wanted.uid) >= 1


@pytest.mark.parametrize("args,hit", [
    ({"state": "banned"}, True), ({"state": "active"}, False), ({"role": "member", "state": "banned"}, True),
    ({"email": "Filter.Me@example.com"}, True), ({"level": "0"}, True), ({"level": "1"}, False),
])
def test_admin_users_filters(admin_client, make_user, args, hit):
    client, _ = admin_client
    user = make_user(email="filter.me@example.com", state="banned", private_labels={})
    body = client.get("/admin/users", query_string=args).get_data(as_text=True)
    assert (user.uid in body) is hit


def test_sorting_and_paging(admin_client, make_user):
    client, _ = admin_client
    for i in range(3):
        make_user(email=f"z{i}@example.com")
    body = client.get("/admin/users?order_by=email&ordering=desc&limit=2").get_data(as_text=True)
    assert body.index("z2@example.com") < body.index("z1@example.com")
    assert "z0@example.com" not in body and "Page 1 of" in body
    assert "z0@example.com" in client.get("/admin/users?order_by=email&ordering=desc&limit=2&page=2").get_data(
        as_text=True)


def test_invalid_filter_is_reported_not_crashed(admin_client):
    client, _ = admin_client
    resp = client.get("/admin/users?order_by=password_digest")
    assert resp.status_code == 200 and "user.ordering.invalid_attribute" in resp.get_data(as_text=True)


# ---- state / 2FA / role / unlock ------------------------------------------------------------------

def test_change_state_bans_and_audits(admin_client, make_user):
    client, me = admin_client
    user = make_user()
    resp = client.post(f"/admin/users/{user.uid}/state", data={"state": "banned", "confirm": "1"}, headers=hx())
    assert resp.status_code == 200
    assert "toast" in resp.headers["HX-Trigger"] and 'id="user-summary"' in resp.get_data(as_text=True)
    assert fresh(user).state == "banned"
    row = admin_activities(me, "users")[-1]
    assert row.action == "update state" and row.target_uid == user.uid and json.loads(row.data)["state"] == "banned"


def test_change_state_invalid_value_is_422(admin_client, make_user):
    client, me = admin_client
    user = make_user()
    resp = client.post(f"/admin/users/{user.uid}/state", data={"state": "nonsense"}, headers=hx())
    assert resp.status_code == 422 and "Pick a state." in resp.get_data(as_text=True)
    assert fresh(user).state == "active" and not admin_activities(me, "users")


def test_same_state_is_refused(admin_client, make_user):
    client, _ = admin_client
    user = make_user()
    resp = client.post(f"/admin/users/{user.uid}/state", data={"state": "active"}, headers=hx())
    assert resp.status_code == 422 and "already in that state" in resp.headers["HX-Trigger"]


def test_cannot_change_yourself(admin_client):
    client, me = admin_client
    resp = client.post(f"/admin/users/{me.uid}/state", data={"state": "banned", "confirm": "1"}, headers=hx())
    assert resp.status_code == 422 and fresh(me).state == "active"


def test_admin_cannot_touch_superadmin(operator, console):
    root = operator("superadmin")
    client = console(operator("admin"))
    resp = client.post(f"/admin/users/{root.uid}/state", data={"state": "banned", "confirm": "1"}, headers=hx())
    assert resp.status_code == 422 and fresh(root).state == "active"


def test_reset_2fa(admin_client, make_user):
    client, me = admin_client
    user = make_user(otp=True)
    labels.add(user, "otp", "enabled", scope="private")
    unit_of_work.commit()
    resp = client.post(f"/admin/users/{user.uid}/otp", data={"confirm": "1"}, headers=hx())
    assert resp.status_code == 200
    assert fresh(user).otp is False and labels.find(user, "otp", "private") is None
    assert admin_activities(me, "users")[-1].action == "update otp"


def test_change_role(admin_client, make_user):
    client, me = admin_client
    user = make_user()
    assert client.post(f"/admin/users/{user.uid}/role", data={"role": "compliance", "confirm": "1"}, headers=hx()).status_code == 200
    assert fresh(user).role == "compliance"
    assert admin_activities(me, "users")[-1].action == "change role"


def test_change_role_unknown_is_422_with_field_error(admin_client, make_user):
    client, _ = admin_client
    user = make_user()
    resp = client.post(f"/admin/users/{user.uid}/role", data={"role": "emperor"}, headers=hx())
    assert resp.status_code == 422 and "role.doesnt_exist" in resp.get_data(as_text=True)
    assert fresh(user).role == "member"


def test_unlock_lifts_the_lockout(admin_client, make_user):
    client, me = admin_client
    user = make_user()
    user.locked_until, user.failed_logins = utcnow() + timedelta(minutes=10), 3
    db.session.commit()
    assert "Unlock login" in client.get(f"/admin/users/{user.uid}").get_data(as_text=True)
    assert client.post(f"/admin/users/{user.uid}/unlock", headers=hx()).status_code == 200
    assert fresh(user).locked_until is None and user.failed_logins == 0
    assert admin_activities(me, "users")[-1].action == "unlock"


def test_admin_cannot_unlock_superadmin(operator, console):
    root = operator("superadmin")
    root.locked_until = utcnow() + timedelta(minutes=10)
    db.session.commit()
    client = console(operator("admin"))
    resp = client.post(f"/admin/users/{root.uid}/unlock", headers=hx())
    assert resp.status_code == 422 and "Only a superadmin" in resp.headers["HX-Trigger"]
    assert fresh(root).locked_until is not None and not admin_activities(topic="users")


def test_without_htmx_actions_redirect_back(admin_client, make_user):
    client, _ = admin_client
    user = make_user()
    resp = client.post(f"/admin/users/{user.uid}/state", data={"state": "banned", "confirm": "1"})
    assert resp.status_code == 302 and resp.headers["Location"].endswith(f"/admin/users/{user.uid}")


# ---- labels -------------------------------------------------------------------------------------

def test_add_private_label_recomputes_level(admin_client, make_user):
    client, me = admin_client
    user = make_user()
    assert user.level == 1
    resp = client.post(f"/admin/users/{user.uid}/labels",
                       data={"key": "phone", "value": "verified", "scope": "private"}, headers=hx())
    assert resp.status_code == 200
    body = resp.get_data(as_text=True)
    assert 'id="user-labels"' in body and 'hx-swap-oob="true"' in body  # the summary (level) is refreshed too
    assert fresh(user).level == 2
    assert admin_activities(me, "labels")[-1].action == "create"


@pytest.mark.parametrize("data,code", [
    ({"key": "x", "value": "verified", "scope": "private"}, "key.too_short"),
    ({"key": "phone", "value": "not valid!", "scope": "private"}, "value.invalid"),
    ({"key": "phone", "value": "verified", "scope": "galaxy"}, "scope.inclusion"),
    ({"key": "email", "value": "verified", "scope": "private"}, "key.taken"),
])
def test_add_label_bad_input_is_422_with_field_error(admin_client, make_user, data, code):
    client, me = admin_client
    user = make_user()
    resp = client.post(f"/admin/users/{user.uid}/labels", data=data, headers=hx())
    body = resp.get_data(as_text=True)
    assert resp.status_code == 422 and code in body and 'aria-invalid="true"' in body
    assert len(fresh(user).labels) == 1 and not admin_activities(me, "labels")


def test_edit_and_remove_label(admin_client, make_user):
    client, me = admin_client
    user = make_user(private_labels={"email": "verified", "phone": "verified"})
    assert user.level == 2
    resp = client.post(f"/admin/users/{user.uid}/labels/edit",
                       data={"key": "phone", "scope": "private", "value": "rejected", "description": "fake"},
                       headers=hx())
    assert resp.status_code == 200
    label = labels.find(fresh(user), "phone", "private")
    assert label.value == "rejected" and label.description == "fake" and user.level == 1
    resp = client.post(f"/admin/users/{user.uid}/labels/delete", data={"key": "phone", "scope": "private", "confirm": "1"},
                       headers=hx())
    assert resp.status_code == 200 and labels.find(fresh(user), "phone", "private") is None
    assert [a.action for a in admin_activities(me, "labels")] == ["update", "delete"]


def test_edit_label_bad_value_is_422(admin_client, make_user):
    client, _ = admin_client
    user = make_user()
    resp = client.post(f"/admin/users/{user.uid}/labels/edit",
                       data={"key": "email", "scope": "private", "value": "bad value!"}, headers=hx())
    assert resp.status_code == 422 and "value.invalid" in resp.get_data(as_text=True)
    assert labels.find(fresh(user), "email", "private").value == "verified"


@pytest.mark.parametrize("path,data", [
    ("labels", {"key": "tier", "value": "gold", "scope": "public"}),
    ("labels/edit", {"key": "email", "scope": "private", "value": "rejected"}),
])
def test_label_change_on_superadmin_is_refused_not_a_field_error(operator, console, path, data):
    root = operator("superadmin")
    client = console(operator("admin"))
    resp = client.post(f"/admin/users/{root.uid}/{path}", data=data, headers=hx())
    assert resp.status_code == 422 and resp.headers["HX-Reswap"] == "none"
    assert "Only a superadmin" in resp.headers["HX-Trigger"] and resp.get_data(as_text=True) == ""
    assert [(lb.key, lb.value) for lb in fresh(root).labels] == [("email", "verified")]


def test_edit_missing_label_is_404(admin_client, make_user):
    client, _ = admin_client
    user = make_user()
    resp = client.post(f"/admin/users/{user.uid}/labels/edit",
                       data={"key": "nope", "scope": "public", "value": "gold"}, headers=hx())
    assert resp.status_code == 404 and resp.headers["HX-Reswap"] == "none"


def test_remove_missing_label_is_404(admin_client, make_user):
    client, _ = admin_client
    user = make_user()
    resp = client.post(f"/admin/users/{user.uid}/labels/delete", data={"key": "nope", "scope": "public", "confirm": "1"},
                       headers=hx())
    assert resp.status_code == 404


# ---- comments, data storage ---------------------------------------------------------------------

def test_add_comment(admin_client, make_user):
    client, me = admin_client
    user = make_user()
    resp = client.post(f"/admin/users/{user.uid}/comments", data={"title": "Called", "data": "Asked for ID"},
                       headers=hx())
    assert resp.status_code == 200 and "Asked for ID" in resp.get_data(as_text=True)
    comment = db.session.query(Comment).filter_by(user_id=user.id).one()
    assert comment.author_uid == me.uid[:16]
    assert admin_activities(me, "comments")[-1].action == "create"


@pytest.mark.parametrize("data,code", [
    ({"title": "", "data": "x"}, "title.blank"),
    ({"title": "t" * 65, "data": "x"}, "admin.comments.title_too_long"),
    ({"title": "ok", "data": "  "}, "data.blank"),
])
def test_add_comment_bad_input_is_422(admin_client, make_user, data, code):
    client, _ = admin_client
    user = make_user()
    resp = client.post(f"/admin/users/{user.uid}/comments", data=data, headers=hx())
    assert resp.status_code == 422 and code in resp.get_data(as_text=True)
    assert db.session.query(Comment).count() == 0


def test_delete_data_storage(admin_client, make_user):
    client, me = admin_client
    user = make_user()
    db.session.add(DataStorage(user_id=user.id, title="personal", data='{"a": 1}'))
    db.session.commit()
    assert "personal" in client.get(f"/admin/users/{user.uid}").get_data(as_text=True)
    resp = client.post(f"/admin/users/{user.uid}/data_storage/delete", data={"title": "personal"}, headers=hx())
    assert resp.status_code == 200 and db.session.query(DataStorage).count() == 0
    assert admin_activities(me, "data_storage")[-1].action == "delete"


def test_unknown_user_is_404(admin_client):
    client, _ = admin_client
    assert client.get("/admin/users/IDNOPE000000").status_code == 404


def test_sorting_fragment_updates_the_search_forms_sort_fields(admin_client):
    client, _ = admin_client
    body = client.get("/admin/users?order_by=email&ordering=asc", headers=hx()).get_data(as_text=True)
    assert 'id="users-sort" hx-swap-oob="true"' in body and 'name="order_by" value="email"' in body
    page = client.get("/admin/users?order_by=email&ordering=asc").get_data(as_text=True)
    assert page.count('id="users-sort"') == 1
