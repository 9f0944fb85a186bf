"""The management request gate (CONTRACT §6, reference/management.md §1)."""
import json
import time

import pytest
import yaml

from barong.config import ConfigError
from barong.management_client import Signer, build_request
from barong.models import KVEntry
from barong.security import jws
from barong.services.access import management_keychain
from tests.api.management.support import (
    KEYS,
    PREFIX,
    claims,
    independent_jws,
    keychain_config,
    mgmt,
)

pytestmark = pytest.mark.usefixtures("keychain")


def test_tools_scope_signed_by_its_mandatory_es256_signer(client):
    resp = mgmt(client, "timestamp", signers=("alex",))
    assert resp.status_code == 201
    assert abs(resp.get_json()["timestamp"] - time.time()) < 5


def test_hs256_signer_counts(client, make_user):
    user = make_user()
    resp = mgmt(client, "labels/list", {"user_uid": user.uid}, signers=("applogic", "james"))
    assert resp.status_code == 201


@pytest.mark.parametrize("method", ["GET", "DELETE", "PATCH"])
def test_wrong_verb_is_405(client, method):
    resp = client.open(PREFIX + "timestamp", method=method)
    assert resp.status_code == 405
    assert resp.get_json() == {"errors": ["management.jwt.only_post_and_put_allowed"]}


def test_put_on_post_only_endpoint_is_405(client):
    resp = mgmt(client, "timestamp", signers=("alex",), method="PUT")
    assert resp.status_code == 405


def test_unknown_management_path_is_404(client):
    assert mgmt(client, "nope", signers=("alex",)).status_code == 404


def test_query_string_is_400(client):
    body = independent_jws(claims(), ("alex",))
    resp = client.post(PREFIX + "timestamp?foo=bar", json=body)
    assert resp.status_code == 400
    assert resp.get_json() == {"errors": ["management.jwt.query_parameters_not_allowed"]}


def test_form_body_is_400(client):
    resp = client.post(PREFIX + "timestamp", data={"payload": "x"})
    assert resp.status_code == 400
    assert resp.get_json() == {"errors": ["management.jwt.only_json_body"]}


def test_unparsable_json_is_400(client):
    resp = client.post(PREFIX + "timestamp", data="{not json", content_type="application/json")
    assert resp.status_code == 400
    assert resp.get_json() == {"errors": ["management.jwt.could_not_parse"]}


def test_no_signatures_is_401_not_enough(client):
    body = independent_jws(claims(), ("alex",))
    body["signatures"] = []
    resp = mgmt(client, "timestamp", body=body)
    assert resp.status_code == 401
    assert resp.get_json() == {"errors": ["management.jwt.not_enough_signatures"]}


@pytest.mark.parametrize("body", [
    {}, {"payload": "x"}, {"payload": 5, "signatures": []}, {"payload": "e30", "signatures": "x"},
    {"payload": "!!!", "signatures": [{"protected": "x", "header": {"kid": "alex"}, "signature": "y"}]},
    [], "string",
])
def test_malformed_body_is_401(client, body):
    resp = client.post(PREFIX + "timestamp", data=json.dumps(body), content_type="application/json")
    assert resp.status_code == 401
    assert resp.get_json() == {"errors": ["management.jwt.failed_to_verify"]}


def test_payload_not_an_object_is_401(client):
    payload = jws.b64url_encode(b"[1,2]")
    sig = jws.sign(payload, "alex", "ES256", KEYS["alex"].private)
    resp = mgmt(client, "timestamp", body={"payload": payload, "signatures": [sig]})
    assert resp.status_code == 401


def test_bad_signature_from_permitted_signer_is_401(client):
    body = independent_jws(claims(), ("alex",))
    good = independent_jws(claims(), ("alex",))
    body["signatures"][0]["signature"] = good["signatures"][0]["signature"]  # signature of another payload
    resp = mgmt(client, "timestamp", body=body)
    assert resp.status_code == 401
    assert resp.get_json() == {"errors": ["management.jwt.failed_to_verify"]}


def test_signature_by_wrong_key_under_a_permitted_kid_is_401(client):
    body = independent_jws(claims(), ("jeff",), kid_for={"jeff": "applogic"})
    resp = mgmt(client, "users/list", body=body)
    assert resp.status_code == 401
    assert resp.get_json() == {"errors": ["management.jwt.failed_to_verify"]}


def test_algorithm_switch_to_hmac_with_public_key_is_refused(client):
    payload = jws.encode_payload(claims())
    # HS256 "signed" with applogic's public key bytes as the secret: must not verify as applogic
    pem = KEYS["applogic"].public_value.encode()
    forged = jws.sign(payload, "applogic", "HS256", pem)
    resp = mgmt(client, "users/list", body={"payload": payload, "signatures": [forged]})
    assert resp.status_code == 401


def test_expired_is_401(client):
    now = int(time.time())
    resp = mgmt(client, "timestamp", signers=("alex",), exp=now - 60, iat=now - 120)
    assert resp.status_code == 401
    assert resp.get_json() == {"errors": ["management.jwt.failed_to_verify"]}


@pytest.mark.parametrize("claim", ["exp", "jti"])
def test_missing_exp_or_jti_is_401(client, claim):
    payload = claims()
    payload.pop(claim)
    resp = mgmt(client, "timestamp", body=independent_jws(payload, ("alex",)))
    assert resp.status_code == 401


def test_iat_in_the_future_is_401_small_skew_ok(client):
    now = int(time.time())
    assert mgmt(client, "timestamp", signers=("alex",), iat=now + 200).status_code == 401
    assert mgmt(client, "timestamp", signers=("alex",), iat=now - 3).status_code == 201


def test_nbf_in_the_future_is_401(client):
    assert mgmt(client, "timestamp", signers=("alex",), nbf=int(time.time()) + 300).status_code == 401


def test_missing_mandatory_signer_is_401(client, make_user):
    user = make_user()
    resp = mgmt(client, "labels", {"user_uid": user.uid, "key": "kyc", "value": "ok"}, signers=("applogic",))
    assert resp.status_code == 401
    assert resp.get_json() == {"errors": ["management.jwt.not_enough_signatures"]}
    assert not [l for l in user.labels if l.key == "kyc"]


def test_only_non_mandatory_permitted_signer_is_401(client):
    resp = mgmt(client, "users/list", signers=("alex", "james"))
    assert resp.status_code == 401
    assert resp.get_json() == {"errors": ["management.jwt.not_enough_signatures"]}


def test_non_permitted_signer_is_ignored(client):
    # jeff is in the keychain but not permitted for users/list; mallory is unknown: both ignored
    body = independent_jws(claims(), ("applogic", "jeff", "mallory"))
    body["signatures"][1]["signature"] = "garbage"
    resp = mgmt(client, "users/list", body=body)
    assert resp.status_code == 201
    only_ignored = independent_jws(claims(), ("jeff", "mallory"))
    resp = mgmt(client, "users/list", body=only_ignored)
    assert resp.status_code == 401
    assert resp.get_json() == {"errors": ["management.jwt.not_enough_signatures"]}


def test_unknown_scope_is_401(app, client, tmp_path):
    cfg = keychain_config()
    del cfg["scopes"]["tools"]
    path = tmp_path / "partial.yml"
    path.write_text(yaml.safe_dump(cfg))
    management_keychain.init_app(app, path)
    resp = mgmt(client, "timestamp", signers=("alex",))
    assert resp.status_code == 401
    assert resp.get_json() == {"errors": ["management.jwt.failed_to_verify"]}


def test_default_config_refuses_everything(app, client):
    from barong.config import ROOT

    management_keychain.init_app(app, ROOT / "config/management_api.yml")
    assert mgmt(client, "timestamp", signers=("alex",)).status_code == 401


def test_replayed_jti_is_401(client):
    body = independent_jws(claims(), ("alex",))
    assert mgmt(client, "timestamp", body=body).status_code == 201
    resp = mgmt(client, "timestamp", body=body)
    assert resp.status_code == 401
    assert resp.get_json() == {"errors": ["management.jwt.jti_already_used"]}


def test_jti_of_a_refused_request_is_burnt_too(client):
    data = {"user_uid": "ID0000000000"}
    body = independent_jws(claims(data), ("applogic",))
    assert mgmt(client, "labels/list", body=body).status_code == 404
    assert mgmt(client, "labels/list", body=body).status_code == 401


def test_jti_mark_lives_until_exp(app, client):
    payload = claims(exp=int(time.time()) + 120)
    assert mgmt(client, "timestamp", body=independent_jws(payload, ("alex",))).status_code == 201
    entries = [e for e in KVEntry.query.all() if e.key.startswith("mgmt-jti:")]
    assert len(entries) == 1
    assert payload["exp"] <= entries[0].expires_at <= payload["exp"] + 60


def test_bearer_token_without_signed_body_is_401(client):
    resp = client.post(PREFIX + "users/get", json={"uid": "ID123"}, headers={"Authorization": "Bearer abc.def.ghi"})
    assert resp.status_code == 401


def test_scope_key_inside_data_is_ignored(client):
    resp = mgmt(client, "timestamp", {"scope": "read_users"}, signers=("alex",))
    assert resp.status_code == 201


def test_data_not_an_object_is_401(client):
    resp = mgmt(client, "timestamp", ["x"], signers=("alex",))
    assert resp.status_code == 401


def test_project_client_builds_accepted_requests(client):
    signers = [Signer.from_pem("alex", KEYS["alex"].private)]
    body = build_request({}, signers)
    assert {"iat", "exp", "jti", "data"} <= set(json.loads(jws.b64url_decode(body["payload"])))
    assert client.post(PREFIX + "timestamp", json=body).status_code == 201
    rs = [Signer.from_pem("applogic", KEYS["applogic"].private), Signer.hmac("james", KEYS["james"].private)]
    assert client.post(PREFIX + "users/list", json=build_request({}, rs)).status_code == 201


def test_project_client_rs512_and_es_curves(app, client, tmp_path):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    k = ec.generate_private_key(ec.SECP384R1())
    pem = k.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                          serialization.NoEncryption())
    from barong.management_client import keychain_value

    cfg = keychain_config()
    cfg["keychain"]["p384"] = {"algorithm": "ES384", "value": keychain_value(pem)}
    cfg["keychain"]["rs512"] = {"algorithm": "RS512", "value": KEYS["jeff"].public_value}
    cfg["scopes"]["tools"] = {"permitted_signers": ["p384", "rs512"], "mandatory_signers": ["p384", "rs512"]}
    path = tmp_path / "mk.yml"
    path.write_text(yaml.safe_dump(cfg))
    management_keychain.init_app(app, path)
    signers = [Signer.from_pem("p384", pem), Signer.from_pem("rs512", KEYS["jeff"].private, "RS512")]
    assert signers[0].algorithm == "ES384"
    assert client.post(PREFIX + "timestamp", json=build_request({}, signers)).status_code == 201


# --- the keychain file ------------------------------------------------------------------------

@pytest.mark.parametrize("text,needle", [
    ("keychain: [", "not valid YAML"),
    ("- a\n- b\n", "mapping"),
    ("keychain: {a: {algorithm: RS256, value: '!!notbase64'}}\nscopes: {}\n", "keychain.a"),
    ("keychain: {a: {algorithm: XX1, value: abc}}\n", "algorithm"),
    ("keychain: {a: {algorithm: HS256, value: s}}\nscopes: {tools: {permitted_signers: [a]}}\n",
     "mandatory_signers"),
    ("keychain: {a: {algorithm: HS256, value: s}}\nscopes: {tools: {permitted_signers: [a], "
     "mandatory_signers: [b]}}\n", "not in the keychain"),
    ("keychians: {}\n", "unknown top-level"),
])
def test_malformed_keychain_file_is_a_config_error(tmp_path, text, needle):
    path = tmp_path / "bad.yml"
    path.write_text(text)
    with pytest.raises(ConfigError) as exc:
        management_keychain.load(path)
    assert needle in str(exc.value)
    assert "BARONG_MANAGEMENT_API_CONFIG" in str(exc.value)


def test_private_key_in_keychain_is_refused(tmp_path):
    import base64

    path = tmp_path / "bad.yml"
    value = base64.urlsafe_b64encode(KEYS["applogic"].private).decode()
    path.write_text(yaml.safe_dump({"keychain": {"a": {"algorithm": "RS256", "value": value}}}))
    with pytest.raises(ConfigError, match="private key"):
        management_keychain.load(path)


def test_missing_file_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        management_keychain.load(tmp_path / "nope.yml")


def test_create_app_stops_on_malformed_file(tmp_path):
    from barong import create_app
    from barong.config import test_config

    bad = tmp_path / "bad.yml"
    bad.write_text("keychain: [")
    with pytest.raises(ConfigError):
        create_app(test_config(tmp_path, BARONG_MANAGEMENT_API_CONFIG=bad))


def test_openapi_lists_management_params(client):
    doc = client.get("/api/v2/barong/openapi.json").get_json()
    op = doc["paths"]["/api/v2/barong/management/users"]["post"]
    assert op["requestBody"]["content"]["application/json"]["schema"]["required"] == ["payload", "signatures"]
    schema = op["x-barong-payload-data"]  # the JWS payload's `data`
    assert set(schema["required"]) == {"email", "password"}
    assert "get" not in doc["paths"]["/api/v2/barong/management/users/get"]
    assert "/api/v2/barong/management/{path}" not in doc["paths"]


@pytest.mark.parametrize("option,good,bad", [
    ({"iss": "qux"}, {"iss": "qux"}, {"iss": "hacker"}),
    ({"aud": "qux"}, {"aud": ["barong", "qux"]}, {"aud": "hacker"}),
])
def test_jwt_iss_aud_options(app, client, tmp_path, option, good, bad):
    cfg = keychain_config()
    cfg["jwt"] = option
    path = tmp_path / "jwt.yml"
    path.write_text(yaml.safe_dump(cfg))
    management_keychain.init_app(app, path)
    assert mgmt(client, "timestamp", signers=("alex",), **good).status_code == 201
    assert mgmt(client, "timestamp", signers=("alex",), **bad).status_code == 401
    assert mgmt(client, "timestamp", signers=("alex",)).status_code == 401  # claim absent
