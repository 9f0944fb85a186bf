"""Service-level checks of the admin services (no HTTP): what the console relies on."""
import pytest

from barong.errors import BarongError
from barong.extensions import db
from barong.models import Activity, Comment
from barong.services.access import abilities
from barong.services.accounts import labels
from barong.services.audit import admin_activities
from barong.services.operators import admin_users, comments, metrics


def test_abilities_table_and_rules(make_user):
    admin = make_user(role="admin")
    superadmin = make_user(role="superadmin")
    member = make_user()
    assert abilities.for_role("member") == {}
    assert abilities.for_role("admin")["read"] == ["Activity", "Permission"]
    assert abilities.can(admin, "update", "User")
    assert not abilities.can(admin, "update", "Role")
    assert abilities.can(superadmin, "update", "Role")
    assert not abilities.can(admin, "read", "AdminActivity")
    assert not abilities.can(admin, "create", "Permission")
    assert not abilities.can(member, "read", "User")
    assert not abilities.can(make_user(role="compliance"), "read", "Restriction")
    assert abilities.can(make_user(role="technical"), "destroy", "Restriction")
    with pytest.raises(BarongError) as err:
        abilities.authorize(member, "read", "User")
    assert err.value.codes == ["admin.ability.not_permitted"] and err.value.status == 401


def test_search_filters_and_count(make_user):
    a = make_user(email="a@example.com")
    make_user(email="b@example.com", state="pending")
    items, total = admin_users.search({"email": "A@example.com"})
    assert [u.uid for u in items] == [a.uid] and total == 1
    items, total = admin_users.search({"state": "pending"})
    assert total == 1
    items, total = admin_users.search({"ordering": "desc", "limit": "1"})
    assert total == 2 and items[0].email == "b@example.com"
    with pytest.raises(BarongError) as err:
        admin_users.search({"ordering": "resc", "order_by": "password_digest", "range": "x"})
    assert set(err.value.codes) == {"user.ordering.invalid_ordering", "user.ordering.invalid_attribute",
                                    "admin.user.invalid_range"}


def test_update_change_role_and_audit(make_user):
    sa = make_user(role="superadmin")
    admin = make_user(role="admin")
    target = make_user()
    admin_users.update(target, state="banned", actor=admin)
    assert target.state == "banned"
    with pytest.raises(BarongError) as err:
        admin_users.change_role(target, "admin", actor=admin)
    assert err.value.codes == ["admin.ability.not_permitted"]
    admin_users.change_role(target, "admin", actor=sa)
    assert target.role == "admin"
    rows = db.session.query(Activity).filter_by(category="admin").order_by(Activity.id).all()
    assert [(r.topic, r.action, r.target_uid) for r in rows] == [("users", "update state", target.uid),
                                                                 ("users", "change role", target.uid)]
    items, total = admin_activities.search("admin", {"target_uid": target.uid})
    assert total == 2


def test_comments_and_metrics(make_user):
    admin = make_user(role="admin")
    target = make_user()
    c = comments.add(target, "note", "hello", actor=admin)
    comments.edit(c, data="bye", actor=admin)
    assert db.session.get(Comment, c.id).data == "bye"
    comments.delete(c, actor=admin)
    assert db.session.query(Comment).count() == 0
    labels.add(target, "document", "pending", scope="private")
    m = metrics.summary(extended=True)
    assert m["pending_applications"] == 1 and m["users_total"] == 2


def test_service_writes_check_abilities(make_user):
    """The console calls these services directly: they refuse roles without the ability."""
    accountant = make_user(role="accountant")
    target = make_user()
    for call in (lambda: comments.add(target, "t", "d", actor=accountant),
                 lambda: admin_users.update(target, state="banned", actor=accountant),
                 lambda: admin_users.add_label(target, "vip", "gold", actor=accountant),
                 lambda: admin_users.delete_data_storage(target, "personal", actor=accountant)):
        with pytest.raises(BarongError) as err:
            call()
        assert err.value.codes == ["admin.ability.not_permitted"]
    assert db.session.query(Comment).count() == 0 and target.state == "active"


def test_console_actions_are_audited_outside_api(make_user):
    """No request, no authz: the service itself writes the admin activity, secrets masked."""
    admin = make_user(role="admin")
    target = make_user()
    admin_users.add_label(target, "vip", "gold", actor=admin)
    admin_users.add_label(target, "tier", "one", actor=admin, audit=False)
    rows = db.session.query(Activity).filter_by(category="admin").all()
    assert [(r.topic, r.action, r.target_uid, r.user_id) for r in rows] == [("labels", "create", target.uid,
                                                                             admin.id)]
    row = admin_activities.audit(admin, "x", "y", data={"password": "p", "token": "t", "note": "n"})
    assert '"password": "[FILTERED]"' in row.data and '"note": "n"' in row.data


def test_restriction_value_checks_live_in_the_service(make_user):
    from barong.models import Restriction
    from barong.services.operators import admin_actions

    root = make_user(role="superadmin")
    before = db.session.query(Restriction).count()
    with pytest.raises(BarongError) as err:
        admin_actions.create_restriction("bogus", "planet", "1.2.3.4", "off", actor=root, audit=False)
    assert err.value.codes == ["admin.restriction.invalid_category", "admin.restriction.invalid_scope",
                               "admin.restriction.invalid_state"] and err.value.status == 422
    with pytest.raises(BarongError) as err:
        admin_actions.create_restriction("blacklist", "ip", "1.2.3.4", code="abc", actor=root, audit=False)
    assert err.value.codes == ["admin.restriction.non_integer_code"] and err.value.field == "code"
    assert db.session.query(Restriction).count() == before
    r = admin_actions.create_restriction("blacklist", "ip", "1.2.3.4", "", "403", actor=root, audit=False)
    assert (r.state, r.code) == ("enabled", 403)
    with pytest.raises(BarongError) as err:
        admin_actions.update_restriction(r, actor=root, audit=False, state="", code=None)
    assert err.value.codes == ["admin.restriction.invalid_state"]
    admin_actions.update_restriction(r, actor=root, audit=False, state=None, code=" 451 ")
    assert (r.state, r.code) == ("enabled", 451)
