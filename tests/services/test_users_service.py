"""users service: creation rules, state side effects, OTP flag events."""
import json

import pytest

from barong.errors import ValidationError
from barong.extensions import db
from barong.models import APIKey, OutboxEvent, User
from barong.services.accounts import users


def test_create_collects_every_model_error(app):
    with pytest.raises(ValidationError) as err:
        users.create("bad_format", "weak", username="ab")
    assert err.value.codes == ["email.invalid", "username.too_short", "password.requirements"]
    assert db.session.query(User).count() == 0


@pytest.mark.parametrize("email,ok", [("user@localhost", True), ("a@b", True), ("bad_format", False),
                                      ("a@b.1", False), ("first.last+tag@example.co.uk", True),
                                      ("double..dot@example.com", False), (".lead@example.com", False)])
def test_email_format(email, ok):
    assert users.valid_email(email) is ok


def test_uid_has_prefix_and_ten_hex(app):
    uid = users.generate_uid()
    assert uid.startswith("ID") and len(uid) == 12 and uid[2:] == uid[2:].upper()
    int(uid[2:], 16)


def test_disabling_otp_deactivates_keys_and_emits_update(app, make_user):
    user = make_user(otp=True)
    key = APIKey(key_holder_account_id=user.id, key_holder_account_type="User", kid="abcd" * 4, algorithm="HS256",
                 state="active")
    key.secret = "s" * 32
    db.session.add(key)
    db.session.flush()
    users.set_otp(user, False)
    assert key.state == "inactive"
    event = db.session.query(OutboxEvent).filter_by(name="model.user.updated").order_by(OutboxEvent.id.desc()).first()
    payload = json.loads(event.payload)
    assert payload["changes"] == {"otp": True} and payload["record"]["otp"] is False


def test_ban_revokes_sessions(app, make_user, client):
    from barong.services.accounts import sessions
    from tests.helpers import login_as

    user = make_user()
    login_as(client, user)
    assert sessions.list_for_user(user.uid)
    users.apply_state(user, "banned")
    assert sessions.list_for_user(user.uid) == []


def test_new_phone_and_profile_appear_once_in_the_user_collections(app, make_user):
    """Regression: appending after add() autoflushed and listed the row twice in memory."""
    from barong.services.accounts import phones, profiles

    user = make_user()
    db.session.expire(user, ["phones", "profiles"])
    phones.add(user, "+44 07418084106")
    profiles.create(user, {"first_name": "Ann"})
    assert len(user.phones) == 1 and len(user.profiles) == 1
