"""What `BARONG_SERVER=granian` (barong/serve.py, barong/granian_app.py) wraps around the app:
granian is a Rust HTTP server.

Measured with bench/request_path.py (docs/benchmarks.md, issue 18): on the 2-core machine at 16
connections granian answers the gateway check at about twice gunicorn's requests per second with
a p99 of 5.6-9.1 ms, where gunicorn's sync workers (one connection at a time, a new TCP
connection per request) measure 9.4-13.4 ms — and bare Flask on gunicorn itself 9-11 ms.

gunicorn does a few things for `make run` that granian does not, so this wrapper does them:

* the access log (granian's own is off): one line per request in gunicorn's default format on
  the logger `barong.access` (stdout), over the same redacting atoms and filter as gunicorn's
  RedactingLogger (no token of a mail link in any log line, no forged field);
* `X-Forwarded-Proto` from a proxy on loopback sets the URL scheme (gunicorn's
  `--forwarded-allow-ips 127.0.0.1,::1`);
* each worker process starts its background mail and webhook deliverers on its first request
  (gunicorn_conf.post_worker_init does it when a worker starts; granian has no such hook).

What stays gunicorn's only: the JSON bodies of requests refused before the app sees them
(barong/gunicorn_conf.py). granian answers a malformed request or one with more than 100
headers itself (an empty 400 / 431), and a request line past its own limit (10 KB served,
100 KB refused) with an empty 414: the contract's JSON body for those is gunicorn's only.
"""
from __future__ import annotations

import logging
import os
import sys
import threading
import time

from barong.access_log import RedactedAtoms, install

TRUSTED_PROXIES = frozenset({"127.0.0.1", "::1"})
access_log = logging.getLogger("barong.access")


def _setup_access_log() -> None:
    if not access_log.handlers:
        handler = logging.StreamHandler(sys.stdout)
        handler.setFormatter(logging.Formatter("%(message)s"))
        access_log.addHandler(handler)
        access_log.setLevel(logging.INFO)
        access_log.propagate = False
    install(access_log)  # RedactFilter on the whole line, as on gunicorn's access log


class GranianEntry:
    """The WSGI callable granian serves: the Flask app with what gunicorn did around it."""

    def __init__(self, app):
        self.app = app
        self._pid = None
        self._lock = threading.Lock()
        _setup_access_log()

    def _start_deliverers(self) -> None:
        """Once per worker process (granian loads the target in every worker)."""
        with self._lock:
            if self._pid == os.getpid():
                return
            self._pid = os.getpid()
        config = getattr(self.app, "config", {})
        if config.get("BARONG_MAIL_DELIVERY") == "background":
            from barong.services.delivery import mail_worker

            mail_worker.start(self.app)
        if config.get("BARONG_WEBHOOK_DELIVERY") == "background":
            from barong.services.delivery import webhooks

            webhooks.start(self.app)

    def __call__(self, environ, start_response):
        if self._pid != os.getpid():
            self._start_deliverers()
        peer = environ.get("REMOTE_ADDR", "-")
        if peer in TRUSTED_PROXIES:
            proto = environ.get("HTTP_X_FORWARDED_PROTO", "").lower()
            if proto in ("http", "https"):
                environ["wsgi.url_scheme"] = proto

        def logging_start_response(status, headers, exc_info=None):
            length = next((v for k, v in headers if k.lower() == "content-length"), "-")
            _access_line(environ, peer, status.split(" ", 1)[0], length)
            return start_response(status, headers, exc_info)

        return self.app(environ, logging_start_response)


#: gunicorn's default access_log_format
ACCESS_FORMAT = '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s"'


def _access_line(environ, peer: str, status: str, length: str) -> None:
    """The access line gunicorn's RedactingLogger writes: its default format over the same
    redacting atoms (barong.access_log.RedactedAtoms: secrets out of the request line and the
    referer, `"` escaped so no value can forge a field), then RedactFilter on the line."""
    uri = environ.get("PATH_INFO", "")
    if environ.get("QUERY_STRING"):
        uri = f"{uri}?{environ['QUERY_STRING']}"
    atoms = {"h": peer, "l": "-", "u": "-", "t": time.strftime("[%d/%b/%Y:%H:%M:%S %z]", time.localtime()),
             "r": f"{environ.get('REQUEST_METHOD', '-')} {uri} {environ.get('SERVER_PROTOCOL', 'HTTP/1.1')}",
             "s": status, "b": length, "f": environ.get("HTTP_REFERER", "-"),
             "a": environ.get("HTTP_USER_AGENT", "-")}
    access_log.info(ACCESS_FORMAT, RedactedAtoms(atoms))
