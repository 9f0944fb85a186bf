"""CPU per access-log line of barong.access_log.RedactingLogger (what gunicorn calls after every
request; bench/request_path.py's two servers both use it): `.venv/bin/python bench/access_log_cost.py`.

One ping-like request (the headers wrk sends, gunicorn's environ), gunicorn's default format,
the line written to /dev/null; the response once with the two headers bare Flask sends and once
with Barong's three more (nosniff, Cache-Control, Vary). Prints CPU µs per `access()` call.
"""
from __future__ import annotations

import datetime
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from gunicorn.config import Config  # noqa: E402

from barong.access_log import RedactingLogger  # noqa: E402

BASE = [("Server", "gunicorn"), ("Date", "Fri, 04 Dec 2026 01:00:00 GMT"), ("Connection", "close"),
        ("Content-Type", "application/json"), ("Content-Length", "16")]
BARONG = BASE + [("X-Content-Type-Options", "nosniff"), ("Cache-Control", "no-store"), ("Vary", "Cookie")]
ENVIRON = {
    "wsgi.errors": None, "wsgi.version": (1, 0), "wsgi.multithread": False, "wsgi.multiprocess": True,
    "wsgi.run_once": False, "wsgi.file_wrapper": None, "wsgi.input_terminated": True, "wsgi.input": None,
    "gunicorn.socket": None, "SERVER_SOFTWARE": "gunicorn/23.0.0", "REQUEST_METHOD": "GET", "QUERY_STRING": "",
    "RAW_URI": "/api/v2/barong/identity/ping", "SERVER_PROTOCOL": "HTTP/1.1", "HTTP_HOST": "127.0.0.1:8350",
    "HTTP_USER_AGENT": "Mozilla/5.0 (bench) barong-request-path", "wsgi.url_scheme": "http",
    "REMOTE_ADDR": "127.0.0.1", "REMOTE_PORT": "51234", "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "8350",
    "PATH_INFO": "/api/v2/barong/identity/ping", "SCRIPT_NAME": ""}


class Req:
    headers = [("HOST", "127.0.0.1:8350"), ("USER-AGENT", "Mozilla/5.0 (bench) barong-request-path")]


def main(n: int = 20000, rounds: int = 7) -> None:
    cfg = Config()
    cfg.set("accesslog", "-")
    log = RedactingLogger(cfg)
    for handler in log.access_log.handlers:
        handler.stream = open("/dev/null", "w")  # noqa: SIM115 — lives as long as the process
    request_time = datetime.timedelta(microseconds=350)
    results = {}
    for name, headers in (("bare Flask's headers", BASE), ("Barong's headers", BARONG)):
        resp = type("Resp", (), {"status": "200 OK", "sent": 16, "headers": headers})
        for _ in range(1000):
            log.access(resp, Req, ENVIRON, request_time)
        runs = []
        for _ in range(rounds):
            t0 = time.process_time()
            for _ in range(n):
                log.access(resp, Req, ENVIRON, request_time)
            runs.append((time.process_time() - t0) / n * 1e6)
        results[name] = statistics.median(runs)
    for name, us in results.items():
        print(f"access() with {name:22s} {us:6.1f} us per line")


if __name__ == "__main__":
    main()
