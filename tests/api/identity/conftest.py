"""Fixtures for the identity API tests: rate limits switched on for one test, a local fake
HTTP server standing in for captcha providers, and small query helpers."""
from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import pytest

from barong.services.access import rate_limits


@pytest.fixture
def rate_limited(app):
    """BARONG_RATELIMIT_ENABLED for this test only, with empty counters before and after."""
    app.config["BARONG_RATELIMIT_ENABLED"] = True
    rate_limits.reset()
    yield app
    rate_limits.reset()
    app.config["BARONG_RATELIMIT_ENABLED"] = False


class FakeProvider:
    """Answers POST/GET with `self.answer(path, form) -> (status, body)`; records requests."""

    def __init__(self):
        self.requests: list[tuple[str, str, dict]] = []
        self.answer = lambda path, form: (200, "{}")
        handler = self._handler()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
        self.thread.start()

    def _handler(self):
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def _reply(self, method):
                path, _, query = self.path.partition("?")
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode() if length else ""
                form = {k: v[0] for k, v in parse_qs(body or query).items()}
                provider.requests.append((method, path, form))
                status, text = provider.answer(path, form)
                data = text.encode()
                self.send_response(status)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self):  # noqa: N802
                self._reply("POST")

            def do_GET(self):  # noqa: N802
                self._reply("GET")

            def log_message(self, *args):
                pass

        return Handler

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def fake_provider():
    provider = FakeProvider()
    yield provider
    provider.close()


@pytest.fixture
def recaptcha(app, fake_provider):
    """Captcha policy recaptcha against the local fake; `fake_provider.ok = False` makes it refuse."""
    fake_provider.ok = True
    fake_provider.answer = lambda path, form: (200, json.dumps({"success": fake_provider.ok and
                                                                form.get("response") == "good"}))
    app.config.update(BARONG_CAPTCHA="recaptcha", BARONG_RECAPTCHA_URL=fake_provider.url + "/siteverify",
                      BARONG_RECAPTCHA_SECRET_KEY="secret-key", BARONG_RECAPTCHA_SITE_KEY="site-key")
    return fake_provider
