"""Item 12 (the part gunicorn sees first): requests past gunicorn's limits get a 4xx with a
JSON body, never gunicorn's HTML page (barong/gunicorn_conf.py)."""
from __future__ import annotations

import json
import socket

from tests.live.harness import Client


def _raw(server, request: bytes) -> tuple[str, dict, str]:
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as s:
        s.sendall(request)
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    head, _, body = data.decode("latin1").partition("\r\n\r\n")
    lines = head.split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    return lines[0], headers, body


def test_request_line_past_the_limit_is_a_json_414(live_barong):
    r = Client(live_barong.url).get("/api/v2/barong/identity/ping?q=" + "a" * 5000)
    assert r.status_code == 414
    assert r.headers["Content-Type"].startswith("application/json")
    assert r.json() == {"errors": ["server.uri_too_long"]}
    # just under the limit is still served
    assert Client(live_barong.url).get("/api/v2/barong/identity/ping?q=" + "a" * 3900).status_code == 200


def test_header_past_the_limit_is_a_json_431(live_barong):
    status, headers, body = _raw(live_barong, b"GET /api/v2/barong/identity/ping HTTP/1.1\r\nHost: x\r\n"
                                              b"X-Big: " + b"b" * 9000 + b"\r\n\r\n")
    assert status.startswith("HTTP/1.1 431")
    assert headers["content-type"] == "application/json"
    assert json.loads(body) == {"errors": ["server.headers_too_large"]}


def test_malformed_request_line_is_a_json_400(live_barong):
    mark = live_barong.mark_log()
    status, headers, body = _raw(live_barong, b"GET /api/v2/barong/identity/ping?token=t0ken HTTP/1.1 extra\r\n\r\n")
    assert status.startswith("HTTP/1.1 400")
    assert json.loads(body) == {"errors": ["server.bad_request"]}
    assert live_barong.wait_log("Invalid request from ip", since=mark)
    assert "t0ken" not in live_barong.log_text()


def test_request_line_past_the_limit_through_the_gateway(gateway):
    """nginx turns any status of its auth check but 2xx/401/403 into its own 500 page; the
    gateway asks Barong again and answers Barong's 414 JSON (tests/live/harness.py NGINX_CONF)."""
    r = Client(gateway.url).get("/api/v2/barong/resource/users/me?q=" + "a" * 5000)
    assert r.status_code == 414
    assert r.json() == {"errors": ["server.uri_too_long"]}
