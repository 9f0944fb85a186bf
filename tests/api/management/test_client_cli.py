"""barong/management_client.py and `flask management …`, routed to the test client."""
import io
import json

import pytest

from barong import management_client
from barong.models import User
from tests.api.management.support import KEYS
from tests.helpers import DEFAULT_PASSWORD

pytestmark = pytest.mark.usefixtures("keychain")


class _Resp(io.BytesIO):
    def __init__(self, r):
        super().__init__(r.get_data())
        self.status, self.headers = r.status_code, dict(r.headers)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


@pytest.fixture
def routed(client, monkeypatch):
    """urlopen → the Flask test client (so the CLI's HTTP path runs end to end)."""
    import urllib.error

    seen = []

    def fake_urlopen(req, timeout=None):
        path = req.full_url.split("://", 1)[1].split("/", 1)[1]
        seen.append(req)
        r = client.open("/" + path, method=req.get_method(), data=req.data,
                        headers={k: v for k, v in req.header_items()})
        if r.status_code >= 400:
            raise urllib.error.HTTPError(req.full_url, r.status_code, "err", r.headers, io.BytesIO(r.get_data()))
        return _Resp(r)

    monkeypatch.setattr(management_client.urllib.request, "urlopen", fake_urlopen)
    return seen


@pytest.fixture
def key_files(tmp_path):
    paths = {}
    for name in ("applogic", "alex"):
        p = tmp_path / f"{name}.pem"
        p.write_bytes(KEYS[name].private)
        paths[name] = str(p)
    return paths


def test_call_function(routed):
    signers = [management_client.Signer.from_pem("applogic", KEYS["applogic"].private),
               management_client.Signer.hmac("james", KEYS["james"].private)]
    status, headers, body = management_client.call("http://barong.test", "users",
                                                   {"email": "cli@example.com", "password": DEFAULT_PASSWORD},
                                                   signers)
    assert status == 201 and body["email"] == "cli@example.com"
    status, _, body = management_client.call("http://barong.test", "users/get", {"email": "cli@example.com"},
                                             signers)
    assert status == 201 and body["uid"] == User.query.filter_by(email="cli@example.com").one().uid
    status, _, body = management_client.call("http://barong.test", "users/get", {"email": "none@example.com"},
                                             signers)
    assert status == 404 and body == {"errors": ["record.not_found"]}


def test_cli_call(app, routed, key_files):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["management", "call", "users", "--key", f"applogic={key_files['applogic']}",
                                 "--data", json.dumps({"email": "cli2@example.com", "password": DEFAULT_PASSWORD}),
                                 "--url", "http://barong.test"])
    assert result.exit_code == 0, result.output
    assert '"email": "cli2@example.com"' in result.output
    assert routed[-1].full_url == "http://barong.test/api/v2/barong/management/users"
    result = runner.invoke(args=["management", "call", "timestamp", "--key", f"alex={key_files['alex']}",
                                 "--url", "http://barong.test"])
    assert result.exit_code == 0 and '"timestamp"' in result.output
    result = runner.invoke(args=["management", "call", "labels", "--method", "PUT",
                                 "--key", f"applogic={key_files['applogic']}", "--secret",
                                 f"james={KEYS['james'].private.decode()}", "--url", "http://barong.test", "--data",
                                 json.dumps({"user_uid": User.query.filter_by(email="cli2@example.com").one().uid,
                                             "key": "kyc", "value": "done"})])
    assert result.exit_code == 0, result.output
    assert '"scope": "private"' in result.output


def test_cli_errors(app, routed, key_files):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["management", "call", "users/get", "--key", f"applogic={key_files['applogic']}",
                                 "--data", '{"uid": "ID0000000000"}', "--url", "http://barong.test"])
    assert result.exit_code == 1 and "record.not_found" in result.output
    result = runner.invoke(args=["management", "call", "users/get", "--data", "{}"])
    assert result.exit_code != 0 and "--key" in result.output
    result = runner.invoke(args=["management", "call", "users/get", "--key", "applogic", "--data", "{}"])
    assert result.exit_code != 0 and "NAME=VALUE" in result.output
    result = runner.invoke(args=["management", "call", "users/get", "--key", f"applogic={key_files['applogic']}",
                                 "--data", "[1]"])
    assert result.exit_code != 0 and "JSON object" in result.output


def test_keychain_value_command(app, key_files):
    result = app.test_cli_runner().invoke(args=["management", "keychain-value", key_files["applogic"]])
    assert result.exit_code == 0
    assert result.output.strip() == KEYS["applogic"].public_value
