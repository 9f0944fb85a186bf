"""The authorization check's own cost, without a server: `.venv/bin/python bench/authz_wsgi.py`.

bench/authz.py measures what the issue asks (requests/s through gunicorn and wrk), but
its figures move by several percent from run to run on a shared 2-core machine. This
one calls the Flask WSGI app directly in one process with the same three requests
(ping, /api/v2/auth/… with a session cookie, with an API key), interleaved in short
batches, and prints the CPU time per request and what the check adds over the ping:
the figure to watch while changing the hot path.

For a count that does not move at all, run one scenario under callgrind; only the
measured loop is collected (it runs inside functools.reduce):

    PYTHONHASHSEED=0 valgrind --tool=callgrind --toggle-collect=functools_reduce \\
        --callgrind-out-file=/dev/null .venv/bin/python bench/authz_wsgi.py --only cookie -n 300

and divide the "Collected" instructions by 300. `--bare` runs the same ping loop against
bench/bare_app.py's app (one `jsonify` view: bench/request_path.py's reference), so the
two counts give the in-process ratio of instructions per ping without gunicorn:

    PYTHONHASHSEED=0 valgrind --tool=callgrind --toggle-collect=functools_reduce \
        --callgrind-out-file=/dev/null .venv/bin/python bench/authz_wsgi.py --bare -n 300

Options: --only NAME (ping, cookie, apikey), --bare, -n requests per batch (200), --rounds (30).
"""
from __future__ import annotations

import argparse
import functools
import gc
import io
import logging
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import authz as server_bench  # noqa: E402  (bench/authz.py: the same user, key and login)

AUTH_PATH = "/api/v2/auth/api/v2/barong/resource/users/me"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--only", choices=("ping", "cookie", "apikey", "bare"))
    parser.add_argument("-n", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()

    if args.only == "bare":
        return run({"bare": bare_caller()}, args, "bare Flask", "no database")
    tmp = Path(tempfile.mkdtemp(prefix="barong-bench-"))
    env = {"DATABASE_URL": f"sqlite:///{tmp / 'bench.db'}", "BARONG_RATELIMIT_ENABLED": "false",
           "BARONG_UPLOADS_PATH": str(tmp / "uploads"), "BARONG_APIKEY_NONCE_LIFETIME": "600000",
           "BARONG_INSTANCE_PATH": str(tmp / "instance")}
    os.environ.pop("BARONG_REDIS_URL", None)
    os.environ.pop("BARONG_EVENT_API_RABBITMQ_HOST", None)
    try:
        info = server_bench.prepare({**os.environ, **env})
        import pyotp

        from barong import create_app

        app = create_app()
        logging.disable(logging.WARNING)
        client = app.test_client(use_cookies=False)
        resp = client.post("/api/v2/barong/identity/sessions", headers={"User-Agent": server_bench.UA}, json={
            "email": info["email"], "password": server_bench.PASSWORD,
            "otp_code": pyotp.TOTP(info["otp_secret"]).now()})
        if resp.status_code != 201:
            raise SystemExit(f"login failed: {resp.status_code}")
        cookie = resp.headers["Set-Cookie"].split(";", 1)[0]
        scenarios = {"ping": ("/api/v2/barong/identity/ping", {}), "cookie": (AUTH_PATH, {"Cookie": cookie}),
                     "apikey": (AUTH_PATH, server_bench.api_key_headers(info))}
        if args.only:
            scenarios = {args.only: scenarios[args.only]}

        calls = {name: caller(app, *spec) for name, spec in scenarios.items()}
        if not args.only:
            calls["bare"] = bare_caller()
        return run(calls, args, "barong authz", "SQLite")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def caller(app, path, headers):
    """One request as gunicorn's sync worker would hand it to the app (no server)."""
    from werkzeug.test import EnvironBuilder

    base = EnvironBuilder(path=path, environ_base={"REMOTE_ADDR": "127.0.0.1"}, headers={
        "User-Agent": server_bench.UA, "Host": "127.0.0.1", **headers}).get_environ()

    def call(*_):
        environ = dict(base, **{"wsgi.input": io.BytesIO(b"")})
        status = []
        body = app.wsgi_app(environ, lambda s, h, e=None: status.append(s))
        b"".join(body)
        body.close()
        return status[0]

    return call


def run(calls: dict, args, title: str, database: str) -> int:
    for name, call in calls.items():
        if not call().startswith("200"):
            raise SystemExit(f"{name}: {call()}")
        for _ in range(300):  # warm-up: caches, minted JWT, reader connection
            call()
    gc.collect()
    gc.freeze()  # as app.py does for the server
    if args.only:
        functools.reduce(next(iter(calls.values())), range(args.n), None)  # the loop callgrind collects
        return 0
    times: dict[str, list[float]] = {name: [] for name in calls}
    for _ in range(args.rounds):
        for name, call in calls.items():
            t0 = time.process_time()
            for _ in range(args.n):
                call()
            times[name].append((time.process_time() - t0) / args.n * 1e6)
    print(f"{title}, in-process WSGI: {args.rounds} rounds x {args.n} requests per scenario "
          f"(interleaved; medians of CPU time per request), {database}")
    for name, runs in times.items():
        if name == "bare":
            over = statistics.median(a - b for a, b in zip(times["ping"], runs))
            ratio = statistics.median(b / a for a, b in zip(times["ping"], runs))
            print(f"{name:7s} {statistics.median(runs):7.1f} us/req   Barong's ping costs {over:+6.1f} us more "
                  f"(bare / ping {ratio:.2f})")
        else:
            extra = statistics.median(a - b for a, b in zip(runs, times["ping"]))
            print(f"{name:7s} {statistics.median(runs):7.1f} us/req   the check adds {extra:+6.1f} us")
    return 0


def bare_caller():
    """bench/bare_app.py's ping, the reference of bench/request_path.py."""
    from bare_app import app

    return caller(app, "/api/v2/barong/identity/ping", {})


if __name__ == "__main__":
    sys.exit(main())
