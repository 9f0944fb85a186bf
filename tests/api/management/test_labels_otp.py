"""management labels and otp/sign."""
import json
import time
from datetime import timedelta

import jwt
import pyotp
import pytest

from barong.extensions import db
from barong.models import Label, utcnow
from barong.security import jws
from barong.security.jwt_keys import keypair
from barong.services.accounts import labels
from barong.services.accounts import otp as otp_service
from tests.api.management.support import KEYS, claims, independent_jws, mgmt

pytestmark = pytest.mark.usefixtures("keychain")
MISSING_ALL = ["management.label.missing_user_uid", "management.label.empty_user_uid",
               "management.label.missing_key", "management.label.empty_key",
               "management.label.missing_value", "management.label.empty_value"]


def _labels(user, key=None):
    db.session.expire_all()
    return [(l.key, l.value, l.scope) for l in Label.query.filter_by(user_id=user.id).order_by(Label.id)
            if key is None or l.key == key]


def test_list_returns_public_and_private(client, make_user):
    user = make_user()
    labels.add(user, "tier", "gold", scope="public")
    db.session.commit()
    resp = mgmt(client, "labels/list", {"user_uid": user.uid})
    assert resp.status_code == 201
    body = resp.get_json()
    assert {(l["key"], l["scope"]) for l in body} == {("email", "private"), ("tier", "public")}
    assert set(body[0]) == {"key", "value", "scope", "description", "created_at", "updated_at"}


def test_list_errors(client):
    assert mgmt(client, "labels/list", {"user_uid": "ID0000000000"}).status_code == 404
    resp = mgmt(client, "labels/list", {})
    assert resp.status_code == 400
    assert resp.get_json() == {"errors": ["management.label.missing_user_uid", "management.label.empty_user_uid"]}


def test_list_needs_read_labels_mandatory_signer(client, make_user):
    assert mgmt(client, "labels/list", {"user_uid": make_user().uid}, signers=("james",)).status_code == 401


def test_filter_users(client, make_user):
    a, b, c = make_user(), make_user(), make_user()
    labels.add(a, "profile", "pending", scope="private")
    labels.add(b, "profile", "pending", scope="public")
    labels.add(c, "profile", "verified", scope="private")
    db.session.commit()
    resp = mgmt(client, "labels/filter/users", {"key": "profile", "value": "pending", "scope": "private"})
    assert resp.status_code == 201
    assert [u["uid"] for u in resp.get_json()] == [a.uid]
    assert resp.headers["Total"] == "1"
    resp = mgmt(client, "labels/filter/users", {"key": "profile"})
    assert [u["uid"] for u in resp.get_json()] == [a.uid, b.uid, c.uid]
    resp = mgmt(client, "labels/filter/users", {"key": "nothing"})
    assert resp.status_code == 201 and resp.get_json() == []


def test_filter_users_time_window_and_extended(client, make_user):
    old, new = make_user(), make_user()
    label = labels.add(old, "kyc", "done", scope="public")
    labels.add(new, "kyc", "done", scope="public")
    from barong.services.accounts import profiles

    profiles.create(old, {"last_name": "Turing"})
    db.session.commit()
    label.created_at = utcnow() - timedelta(days=3)
    db.session.commit()
    day_ago = int(time.time()) - 86400
    resp = mgmt(client, "labels/filter/users", {"key": "kyc", "to": day_ago, "extended": True})
    body = resp.get_json()
    assert [u["uid"] for u in body] == [old.uid]
    assert body[0]["profiles"][0]["last_name"] == "T*****"  # user-facing (masked) entity


def test_filter_users_missing_key(client):
    resp = mgmt(client, "labels/filter/users", {})
    assert resp.status_code == 400
    assert resp.get_json() == {"errors": ["management.label.missing_key", "management.label.empty_key"]}


def test_filter_users_is_read_users_scope(client):
    # write_labels needs james too; read_users only applogic
    assert mgmt(client, "labels/filter/users", {"key": "x"}, signers=("applogic",)).status_code == 201


def test_create_private_label_recomputes_level(client, make_user):
    user = make_user(state="pending", private_labels={})
    resp = mgmt(client, "labels", {"user_uid": user.uid, "key": "email", "value": "verified"},
                signers=("applogic", "james"))
    assert resp.status_code == 201, resp.get_json()
    assert resp.get_json()["scope"] == "private"
    assert _labels(user) == [("email", "verified", "private")]
    assert user.state == "active"


def test_create_errors(client, make_user):
    user = make_user()
    resp = mgmt(client, "labels", {"user_uid": "ID0000000000", "key": "kyc", "value": "yes"})
    assert resp.status_code == 404
    resp = mgmt(client, "labels", {})
    assert resp.status_code == 400 and resp.get_json() == {"errors": MISSING_ALL}
    resp = mgmt(client, "labels", {"user_uid": user.uid, "key": "email", "value": "again"})
    assert resp.status_code == 422 and resp.get_json() == {"errors": ["key.taken"]}
    resp = mgmt(client, "labels", {"user_uid": user.uid, "key": "BAD KEY!", "value": "x"})
    assert resp.status_code == 422
    assert _labels(user) == [("email", "verified", "private")]


def test_update_existing_and_description(client, make_user):
    user = make_user()
    labels.add(user, "document", "pending", scope="private")
    db.session.commit()
    resp = mgmt(client, "labels", {"user_uid": user.uid, "key": "document", "value": "rejected",
                                   "description": "blurry"}, method="PUT")
    assert resp.status_code == 200
    assert resp.get_json()["value"] == "rejected"
    assert _labels(user, "document") == [("document", "rejected", "private")]
    assert Label.query.filter_by(user_id=user.id, key="document").one().description == "blurry"


def test_update_replace_semantics(client, make_user):
    user = make_user()
    resp = mgmt(client, "labels", {"user_uid": user.uid, "key": "kyc", "value": "started"}, method="PUT")
    assert resp.status_code == 200
    assert _labels(user, "kyc") == [("kyc", "started", "private")]
    resp = mgmt(client, "labels", {"user_uid": user.uid, "key": "other", "value": "x1x", "replace": False},
                method="PUT")
    assert resp.status_code == 404
    assert resp.get_json() == {"errors": ["management.label.doesnt_exist"]}
    resp = mgmt(client, "labels", {"user_uid": user.uid, "key": "kyc"}, method="PUT")
    assert resp.status_code == 400
    assert resp.get_json() == {"errors": ["management.label.missing_value", "management.label.empty_value"]}


def test_update_errors(client, make_user):
    user = make_user()
    assert mgmt(client, "labels", {"user_uid": "ID0000000000", "key": "kyc", "value": "yes"},
                method="PUT").status_code == 404
    assert mgmt(client, "labels", {"user_uid": user.uid, "key": "kyc", "value": "yes"}, method="PUT",
                signers=("applogic",)).status_code == 401
    resp = mgmt(client, "labels", {}, method="PUT")
    assert resp.status_code == 400 and resp.get_json() == {"errors": MISSING_ALL}


def test_delete(client, make_user):
    user = make_user()
    labels.add(user, "kyc", "yes", scope="private")
    labels.add(user, "public", "yes", scope="public")
    db.session.commit()
    resp = mgmt(client, "labels/delete", {"user_uid": user.uid, "key": "kyc"})
    assert resp.status_code == 201
    assert resp.get_json()["key"] == "kyc"
    assert _labels(user, "kyc") == []
    # public labels are out of reach
    assert mgmt(client, "labels/delete", {"user_uid": user.uid, "key": "public"}).status_code == 404
    assert mgmt(client, "labels/delete", {"user_uid": "ID0000000000", "key": "x"}).status_code == 404
    labels.add(user, "kyc", "yes", scope="private")
    db.session.commit()
    assert mgmt(client, "labels/delete", {"user_uid": user.uid, "key": "kyc"}, signers=("james",)).status_code == 401
    assert _labels(user, "kyc") == [("kyc", "yes", "private")]


# --- otp/sign ---------------------------------------------------------------------------------

def _otp_user(make_user):
    return make_user(otp=True)


def _to_cosign():
    return independent_jws(claims({"uid": "ID123", "amount": "1.5"}), ("applogic",))


def test_otp_sign_adds_barong_signature(client, make_user):
    user = _otp_user(make_user)
    request_jws = _to_cosign()
    code = pyotp.TOTP(otp_service.secret_for(user)).now()
    resp = mgmt(client, "otp/sign", {"user_uid": user.uid, "otp_code": code, "jwt": request_jws})
    assert resp.status_code == 201, resp.get_json()
    body = resp.get_json()
    assert set(body) == {"payload", "signatures"}
    assert body["payload"] == request_jws["payload"]
    assert body["signatures"][0] == request_jws["signatures"][0]
    barong_sig = body["signatures"][1]
    assert barong_sig["header"] == {"kid": "barong"}
    compact = f"{barong_sig['protected']}.{body['payload']}.{barong_sig['signature']}"
    decoded = jwt.api_jws.decode(compact, keypair().public_key, algorithms=["RS256"])
    assert json.loads(decoded)["data"]["amount"] == "1.5"
    # the server's own verifier accepts both signatures
    keys = {"barong": jws.VerifyKey("barong", "RS256", keypair().public_key),
            "applogic": jws.load_verify_key("applogic", "RS256", KEYS["applogic"].public_value)}
    assert jws.verify_general(body, keys).signers == ["applogic", "barong"]


def test_otp_sign_errors(client, make_user):
    user = _otp_user(make_user)
    code = pyotp.TOTP(otp_service.secret_for(user)).now()
    resp = mgmt(client, "otp/sign", {"user_uid": user.uid, "otp_code": code, "jwt": "invalid"})
    assert resp.status_code == 422 and resp.get_json() == {"errors": ["management.otp.invalid_jwt"]}
    resp = mgmt(client, "otp/sign", {"user_uid": user.uid, "otp_code": code, "jwt": {"data": "x"}})
    assert resp.status_code == 422 and resp.get_json() == {"errors": ["management.otp.jwt_invalid"]}
    resp = mgmt(client, "otp/sign", {"user_uid": user.uid, "otp_code": "000000", "jwt": _to_cosign()})
    assert resp.status_code == 422 and resp.get_json() == {"errors": ["management.otp.invalid_otp"]}
    resp = mgmt(client, "otp/sign", {"user_uid": "ID0000000000", "otp_code": code, "jwt": _to_cosign()})
    assert resp.status_code == 404 and resp.get_json() == {"errors": ["record.not_found"]}
    resp = mgmt(client, "otp/sign", {})
    assert resp.status_code == 400
    assert resp.get_json() == {"errors": [
        "management.otp.missing_user_uid", "management.otp.empty_user_uid", "management.otp.missing_otp_code",
        "management.otp.empty_otp_code", "management.otp.missing_jwt", "management.otp.empty_jwt"]}


def test_otp_sign_needs_2fa_and_active_user(client, make_user):
    plain = make_user()
    resp = mgmt(client, "otp/sign", {"user_uid": plain.uid, "otp_code": "123456", "jwt": _to_cosign()})
    assert resp.status_code == 422 and resp.get_json() == {"errors": ["management.otp.not_enabled"]}
    pending = make_user(state="pending", private_labels={}, otp=True)
    code = pyotp.TOTP(otp_service.secret_for(pending)).now()
    resp = mgmt(client, "otp/sign", {"user_uid": pending.uid, "otp_code": code, "jwt": _to_cosign()})
    assert resp.status_code == 404
