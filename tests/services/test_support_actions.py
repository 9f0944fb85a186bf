"""support_actions / required_actions / the extension abilities, without a client."""
from __future__ import annotations

import pytest

from barong.errors import BarongError
from barong.services.access import abilities
from barong.services.accounts import required_actions
from barong.services.infra import unit_of_work
from barong.services.operators import support_actions

R = "api/v2/barong/resource/"


def test_require_records_and_completing_clears(make_user):
    admin, user = make_user(role="admin"), make_user()
    assert support_actions.require(user, ["enable_2fa", "change_password"], actor=admin) == [
        "change_password", "enable_2fa"]
    unit_of_work.commit()
    required_actions.completed(user, "change_password")
    assert required_actions.pending(user.uid) == ("enable_2fa",)
    required_actions.completed(user, "change_password")  # not pending: nothing happens
    assert required_actions.pending(user.uid) == ("enable_2fa",)


@pytest.mark.parametrize("method,path,refused", [
    ("GET", R + "api_keys", True), ("GET", R + "users/me", False), ("PUT", R + "users/me", True),
    ("PUT", R + "users/password", False), ("POST", R + "otp/enable", True),
    ("GET", "api/v2/peatio/account/balances", True), ("GET", "api/v2/barong/admin/users", True),
])
def test_enforce_paths(make_user, method, path, refused):
    user = make_user()
    required_actions.add(user, ["change_password"])
    if refused:
        with pytest.raises(BarongError) as err:
            required_actions.enforce(user.uid, method, path)
        assert err.value.status == 403 and err.value.codes == ["authz.required_action.change_password"]
    else:
        required_actions.enforce(user.uid, method, path)


def test_guards_and_abilities(make_user):
    root, admin, accountant, user = (make_user(role="superadmin"), make_user(role="admin"),
                                     make_user(role="accountant"), make_user())
    with pytest.raises(BarongError) as err:
        support_actions.require(root, ["change_password"], actor=admin)
    assert err.value.code == "admin.user.superadmin_change"
    with pytest.raises(BarongError) as err:
        support_actions.revoke_all_sessions(admin, actor=admin)
    assert err.value.code == "admin.user.update_himself"
    with pytest.raises(BarongError) as err:
        support_actions.list_sessions(user, actor=accountant)
    assert err.value.code == "admin.ability.not_permitted"
    with pytest.raises(BarongError) as err:
        support_actions.unrequire(user, None, actor=admin)
    assert err.value.code == "admin.required_action.doesnt_exist" and err.value.status == 404


def test_abilities_file_naming_the_subject_decides(app, make_user, tmp_path):
    support = make_user(role="support")
    assert abilities.can(support, "destroy", "Session")
    path = tmp_path / "abilities.yml"
    path.write_text("support:\n  manage: [User]\n  read: [Session]\n")
    app.config["BARONG_ABILITIES_FILE"] = str(path)
    app.extensions.pop("barong_abilities", None)
    try:
        assert abilities.can(support, "read", "Session") and not abilities.can(support, "destroy", "Session")
    finally:
        app.extensions.pop("barong_abilities", None)


def test_required_actions_in_redis_and_gateway_refusal(app, make_user):
    """With BARONG_REDIS_URL the marks live in Redis: set, read, enforced, cleared."""
    from tests.services.test_sessions import REDIS_URL, _redis_or_skip

    _redis_or_skip()
    app.config["BARONG_REDIS_URL"] = REDIS_URL
    app.extensions.pop("barong_redis", None)
    try:
        user = make_user()
        required_actions.add(user, ["enable_2fa"])
        assert required_actions.pending(user.uid) == ("enable_2fa",)
        with pytest.raises(BarongError):
            required_actions.enforce(user.uid, "GET", R + "api_keys")
        required_actions.completed(user, "enable_2fa")
        assert required_actions.pending(user.uid) == ()
        from barong.services.infra import kv

        assert kv.get(f"required_actions:{user.uid}") is None
    finally:
        app.extensions.pop("barong_redis", None)
