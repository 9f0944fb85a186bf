"""The background mail deliverer: one daemon thread per server process.

Requests never talk to SMTP. A commit that wrote mail-sending outbox rows calls `notify()`,
which wakes this process's thread (starting it if needed); the thread runs
`mail.deliver_due()` — claim, send, record — and also sweeps the outbox every
BARONG_MAIL_POLL_INTERVAL seconds for retries, mails whose deliverer died mid-send (lease
expired) and rows written by processes without a deliverer (CLI, other hosts). Several
workers and hosts run one each: the claim (mail.py) keeps them from sending a mail twice.

gunicorn starts it in every worker (`post_worker_init` in barong/gunicorn_conf.py);
elsewhere the first `notify()` does. It is a thread and not the `flask events dispatch`
process because that one runs only with RabbitMQ configured, and a thread per worker needs
no extra process to supervise: a worker that dies takes only its in-flight mail with it,
which the lease brings back.

With BARONG_MAIL_DELIVERY=inline (the test suite), and in a process with no deliverer
serving no request (CLI commands, scripts), `notify()` sends the rows at once, in the
caller's thread, through the same claim.
"""
from __future__ import annotations

import logging
import os
import threading

from flask import Flask, current_app, has_request_context

from barong.extensions import db

log = logging.getLogger(__name__)


class MailWorker:
    def __init__(self, app: Flask):
        self.app = app
        self.wake = threading.Event()
        self.stop = threading.Event()
        self.passes = 0  # completed sweeps (tests wait on it)
        self.thread = threading.Thread(target=self.run, name="barong-mail", daemon=True)

    def run(self) -> None:
        from barong.services.delivery import mail

        interval = float(self.app.config.get("BARONG_MAIL_POLL_INTERVAL") or 5.0)
        while not self.stop.is_set():
            self.wake.clear()
            with self.app.app_context():
                try:
                    mail.deliver_due()
                except Exception:  # database hiccup: keep the thread alive, the next sweep retries
                    log.exception("mail delivery pass failed")
                    db.session.rollback()
                finally:
                    db.session.remove()
            self.passes += 1
            self.wake.wait(interval)


_lock = threading.Lock()
_current: dict = {"pid": None, "worker": None}


def start(app: Flask) -> MailWorker:
    """This process's deliverer, started once per process (a forked child starts its own)."""
    with _lock:
        worker = _current["worker"]
        if worker is None or _current["pid"] != os.getpid() or not worker.thread.is_alive():
            worker = MailWorker(app)
            worker.thread.start()
            _current.update(pid=os.getpid(), worker=worker)
        return worker


def running() -> MailWorker | None:
    worker = _current["worker"]
    return worker if worker is not None and _current["pid"] == os.getpid() and worker.thread.is_alive() else None


def shutdown(timeout: float = 5.0) -> None:
    """Stop this process's deliverer (tests; a worker exiting)."""
    worker = running()
    if worker is not None:
        worker.stop.set()
        worker.wake.set()
        worker.thread.join(timeout)
    _current.update(pid=None, worker=None)


def notify(event_ids: list[int]) -> None:
    """After the commit of rows `event_ids` (mail-sending outbox rows): wake the deliverer,
    or send them now with BARONG_MAIL_DELIVERY=inline and outside requests."""
    app = current_app._get_current_object()
    if app.config.get("BARONG_MAIL_DELIVERY") == "background":
        worker = running()
        if worker is None and has_request_context():
            worker = start(app)  # a server without gunicorn's post_worker_init hook
        if worker is not None:
            worker.wake.set()
            return
    from barong.services.delivery import mail

    mail.deliver_due(ids=event_ids)
