"""Fixtures for the resource API tests: a signed-in user with a client that sends the
CSRF header, PNG/JPEG/PDF samples, a local fake Twilio."""
from __future__ import annotations

import io
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import pyotp
import pytest
from sqlalchemy import event

from barong.extensions import db
from barong.services.accounts import otp as otp_service
from tests.helpers import login_as

R = "/api/v2/barong/resource"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 64
JPG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 64
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n"


class Api:
    """A signed-in client: `api.post("otp/enable", json={...})` → response (CSRF header added)."""

    def __init__(self, client, user, csrf):
        self.client, self.user, self.csrf = client, user, csrf

    def _call(self, method, path, **kwargs):
        headers = dict(kwargs.pop("headers", {}) or {})
        headers.setdefault("X-CSRF-Token", self.csrf)
        return self.client.open(f"{R}/{path.lstrip('/')}", method=method, headers=headers, **kwargs)

    def get(self, path, **kw):
        return self._call("GET", path, **kw)

    def post(self, path, **kw):
        return self._call("POST", path, **kw)

    def put(self, path, **kw):
        return self._call("PUT", path, **kw)

    def patch(self, path, **kw):
        return self._call("PATCH", path, **kw)

    def delete(self, path, **kw):
        return self._call("DELETE", path, **kw)

    def totp(self, fresh: bool = True) -> str:
        """The current code. `fresh` forgets the last used step first, so a test can use
        several codes within one 30 s window (each code is single use)."""
        db.session.refresh(self.user)
        if fresh:
            self.user.otp_last_step = None
            db.session.commit()
        return pyotp.TOTP(otp_service.secret_for(self.user)).now()

    def reload(self):
        db.session.expire_all()
        return self.user


@pytest.fixture
def api(client, make_user):
    user = make_user()
    return Api(client, user, login_as(client, user))


@pytest.fixture
def otp_api(client, make_user):
    """Signed in as a user with 2FA on."""
    user = make_user(otp=True)
    import pyotp as _p

    code = _p.TOTP(otp_service.secret_for(user)).now()
    csrf = login_as(client, user, otp_code=code)
    # the login consumed the current step: let the API tests use fresh codes of the next steps
    user.otp_last_step = None
    db.session.commit()
    return Api(client, user, csrf)


def errors(resp):
    return (resp.get_json() or {}).get("errors")


def upload(name="doc.png", data=PNG):
    return (io.BytesIO(data), name)


class FakeTwilio:
    """Local HTTP server standing in for Twilio; records requests, answers with `self.answer`."""

    def __init__(self):
        self.requests: list[dict] = []
        self.answer = lambda path, form: (201, {"sid": "SM123", "status": "queued"})
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                fake.requests.append({"path": self.path, "form": form, "auth": self.headers.get("Authorization")})
                status, body = fake.answer(self.path, form)
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def twilio(app):
    fake = FakeTwilio()
    app.config.update(BARONG_PHONE_VERIFICATION="twilio", BARONG_TWILIO_API_URL=fake.url,
                      BARONG_TWILIO_ACCOUNT_SID="AC123", BARONG_TWILIO_AUTH_TOKEN="secret-token",
                      BARONG_TWILIO_PHONE_NUMBER="+15005550006", BARONG_TWILIO_SERVICE_SID=None)
    yield fake
    fake.close()


@pytest.fixture(autouse=True)
def _empty_sms_and_uploads(app):
    """Each test starts with no mock SMS and no stored upload."""
    import shutil
    from pathlib import Path

    for folder in (Path(app.config["BARONG_INSTANCE_PATH"]) / "sms", Path(app.config["BARONG_UPLOADS_PATH"])):
        shutil.rmtree(folder, ignore_errors=True)
    yield


@pytest.fixture
def statements(app):
    """Every SQL statement the app's engine sends while the test runs (the authz reader's own
    connection is not on this engine: its reads do not show here)."""
    seen = []

    def listener(_conn, _cursor, statement, *_):
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", listener)
    yield seen
    event.remove(db.engine, "before_cursor_execute", listener)
