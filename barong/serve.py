"""`python -m barong.serve` (what `make run` starts): the web server, and the events
dispatcher beside it when RabbitMQ is configured, and the daily KYC document-expiry watcher.

* The web server is gunicorn (barong/gunicorn_conf.py), or granian with `BARONG_SERVER=granian`
  (barong/granian_entry.py: about twice the requests per second and a gateway-check p99 under
  10 ms at 16 connections on 2 cores, docs/benchmarks.md).
* Beside it run `flask events dispatch` (with `BARONG_EVENT_API_RABBITMQ_HOST`) and
  `flask kyc watch`, the daily document-expiry watcher (unless `BARONG_KYC_EXPIRY_WATCH=false`).
* Nothing beside it: exec the web server (its master handles SIGTERM/SIGINT: graceful stop,
  workers reaped).
* Otherwise a small supervisor runs gunicorn and those as children, forwards
  SIGTERM/SIGINT/SIGHUP to all (as SIGTERM: graceful), restarts a crashed background
  process with back-off, stops everything if gunicorn exits, and kills stragglers
  after a timeout.

No orphans: every process asks the kernel to SIGTERM it when its parent dies
(PR_SET_PDEATHSIG), so even `kill -9` of the supervisor (or of `make`) stops the rest.
Workers default to 3 (WORKERS=…): 2 × cores − 1 for a database-backed deployment; on a
shared 2-core box bench/authz.py measured 2 slightly faster (see docs/benchmarks.md).
"""
from __future__ import annotations

import argparse
import logging
import os
import signal
import subprocess
import sys
import time

from barong.config import ROOT

log = logging.getLogger("barong.serve")

STOP_TIMEOUT = 20.0  # gunicorn's graceful timeout is 10 s


def _die_with_parent() -> None:
    """PR_SET_PDEATHSIG(SIGTERM): Linux only; elsewhere a no-op."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)
    except (OSError, AttributeError):
        pass


def _child_setup() -> None:
    os.setpgrp()  # a terminal's Ctrl-C reaches the supervisor only, which stops children gracefully
    _die_with_parent()


def gunicorn_argv(host: str, port: str, workers: str) -> list[str]:
    gunicorn = os.path.join(os.path.dirname(sys.executable), "gunicorn")
    # barong/gunicorn_conf.py: the redacting access log, JSON answers to requests gunicorn refuses
    return [gunicorn, "app:app", "--config", "python:barong.gunicorn_conf",
            "--bind", f"{host}:{port}", "--workers", str(workers), "--preload",
            "--access-logfile", "-", "--graceful-timeout", "10", "--forwarded-allow-ips", "127.0.0.1,::1"]


SERVERS = ("gunicorn", "granian")


def granian_argv(host: str, port: str, workers: str) -> list[str]:
    """`BARONG_SERVER=granian`: granian's WSGI server, one Python thread per worker process
    (barong/granian_entry.py says what it takes over from gunicorn and what it does not)."""
    granian = os.path.join(os.path.dirname(sys.executable), "granian")
    return [granian, "--interface", "wsgi", "--host", host, "--port", str(port), "--workers", str(workers),
            "--no-ws", "--blocking-threads", "1", "--runtime-threads", "1", "--no-access-log",
            "--workers-kill-timeout", "10", "--respawn-failed-workers", "--working-dir", str(ROOT),
            "barong.granian_app:app"]


def web_argv(host: str, port: str, workers: str, env=None) -> list[str]:
    """The web server's argv: gunicorn (default) or granian, by BARONG_SERVER."""
    env = os.environ if env is None else env
    server = (env.get("BARONG_SERVER") or "gunicorn").strip().lower()
    if server not in SERVERS:
        sys.stderr.write(f"barong: configuration error: BARONG_SERVER must be one of {', '.join(SERVERS)}\n")
        raise SystemExit(2)
    return (granian_argv if server == "granian" else gunicorn_argv)(host, port, workers)


def dispatcher_argv() -> list[str]:
    return [sys.executable, "-m", "flask", "--app", "app", "events", "dispatch"]


def kyc_watch_argv() -> list[str]:
    """The daily document-expiry watcher (barong.services.verification.kyc_expiry.run_daily)."""
    return [sys.executable, "-m", "flask", "--app", "app", "kyc", "watch"]


def _flag(value: str | None, default: bool = True) -> bool:
    if value is None or not value.strip():
        return default
    return value.strip().lower() in ("1", "true", "yes", "on")


def background_argv(env=None) -> dict[str, list[str]]:
    """The processes that run beside gunicorn: the events dispatcher (with RabbitMQ) and the KYC
    document-expiry watcher (unless BARONG_KYC_EXPIRY_WATCH=false)."""
    env = os.environ if env is None else env
    jobs = {}
    if env.get("BARONG_EVENT_API_RABBITMQ_HOST"):
        jobs["dispatcher"] = dispatcher_argv()
    if _flag(env.get("BARONG_KYC_EXPIRY_WATCH")):
        jobs["kyc-expiry"] = kyc_watch_argv()
    return jobs


class Supervisor:
    def __init__(self, web: list[str], background: list[str] | dict[str, list[str]]):
        """`background`: the dispatcher's argv, or {name: argv} of every process beside the web server."""
        if not isinstance(background, dict):
            background = {"dispatcher": background}
        self.argv = {"web": web, **background}
        self.background = list(background)
        self.procs: dict[str, subprocess.Popen] = {}
        self.stopping = False
        self.signalled: set[int] = set()  # pids already sent SIGTERM
        self.restart_delay = {name: 1.0 for name in self.background}

    def spawn(self, name: str) -> None:
        self.procs[name] = subprocess.Popen(self.argv[name], cwd=ROOT, preexec_fn=_child_setup)
        log.info("started %s (pid %s)", name, self.procs[name].pid)

    def _on_signal(self, signum, _frame) -> None:
        if not self.stopping:
            log.info("signal %s: stopping web server and dispatcher", signum)
        self.stopping = True
        self._signal_all(signal.SIGTERM)

    def _signal_all(self, sig, once: bool = False) -> None:
        for proc in list(self.procs.values()):
            if proc.poll() is None and not (once and proc.pid in self.signalled):
                self.signalled.add(proc.pid)
                try:
                    proc.send_signal(sig)
                except ProcessLookupError:
                    pass

    def run(self) -> int:
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(sig, self._on_signal)
        self.spawn("web")
        started, next_restart = {}, {}
        for name in self.background:
            self.spawn(name)
            started[name], next_restart[name] = time.monotonic(), None
        while not self.stopping:
            time.sleep(0.2)
            web = self.procs["web"]
            if web.poll() is not None:
                log.error("web server exited with %s: stopping %s", web.returncode, ", ".join(self.background))
                self.stopping = True
                break
            for name in self.background:
                proc = self.procs[name]
                if proc.poll() is not None and next_restart[name] is None and not self.stopping:
                    # quick death = misconfiguration or broker trouble at start: back off up to a minute
                    quick = time.monotonic() - started[name] < 30
                    delay = min(60.0, self.restart_delay[name] * 2) if quick else 1.0
                    self.restart_delay[name] = delay
                    log.error("%s exited with %s: restarting in %.0f s", name, proc.returncode, delay)
                    next_restart[name] = time.monotonic() + delay
                if next_restart[name] is not None and time.monotonic() >= next_restart[name]:
                    self.spawn(name)
                    started[name], next_restart[name] = time.monotonic(), None
        self._signal_all(signal.SIGTERM, once=True)  # e.g. a dispatcher restarted as the signal came
        deadline = time.monotonic() + STOP_TIMEOUT
        for name, proc in self.procs.items():
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                log.error("%s did not stop in time: killing it", name)
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        web = self.procs["web"].returncode
        return 0 if web in (0, -signal.SIGTERM) else (web if web > 0 else 1)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    parser.add_argument("--port", default=os.environ.get("PORT", "8000"))
    parser.add_argument("--workers", default=os.environ.get("WORKERS", "3"))
    args = parser.parse_args(argv)
    # the app derives BARONG_DOMAIN (links in mails, document URLs) from where it listens when unset
    os.environ["HOST"], os.environ["PORT"] = str(args.host), str(args.port)
    _die_with_parent()
    web = web_argv(args.host, args.port, args.workers)
    background = background_argv()
    if not background:
        os.execv(web[0], web)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    sys.exit(Supervisor(web, background).run())


if __name__ == "__main__":
    main()

