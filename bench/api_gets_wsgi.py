"""The other resource/admin GETs against users/me, without a server (issue 18):
`.venv/bin/python bench/api_gets_wsgi.py`.

bench/request_path.py measures what the issue asks (wrk through gunicorn), but on a shared
2-core machine its figures move with the load. This one builds the same data
(bench/request_path.py's `prepare`: a superadmin with a profile, a phone, labels, 20
activities and an API key, 30 other users), signs in with a session cookie, and calls the
Flask WSGI app directly in one process, interleaved in short batches. Per GET it prints the
median CPU time per request, the SQL statements per request (a `before_cursor_execute`
listener, plus those on barong.authz.reader's own connection) and the ratio of its CPU time
to users/me's ("within 2x of it": ratio <= 2.0).

Options: --only a,b (scenario names as printed: the path after /api/v2/barong/; any such path,
with a query too; users/me is always measured), -n requests per batch (50), --rounds (15),
--profile NAME (cProfile NAME's batch instead, top 30 by cumulative time).
"""
from __future__ import annotations

import argparse
import cProfile
import gc
import io
import logging
import os
import pstats
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import request_path as server_bench  # noqa: E402  (the same data as the wrk bench)

B = "/api/v2/barong"
BASE = "resource/users/me"
#: the resource GETs (gets-res); admin GETs are appended by their owner
RESOURCE_GETS = ["resource/labels", "resource/phones", "resource/profiles/me", "resource/api_keys",
                 "resource/sessions", "resource/users/activity/all", "resource/documents",
                 "resource/service_accounts"]
ADMIN_GETS = ["admin/users", "admin/users/{uid}", "admin/users/labels/list", "admin/levels", "admin/permissions",
              "admin/restrictions", "admin/abilities", "admin/activities", "admin/api_keys?uid={uid}",
              "admin/metrics", "admin/users/documents/pending", "admin/profiles", "admin/activities/admin"]


def _extra_rows(email: str) -> None:
    """A document and a service account for the bench user (request_path's data has none),
    so those two lists build an entity each."""
    from barong.extensions import db
    from barong.models import Document, ServiceAccount, User
    from barong.services.infra import unit_of_work

    user = db.session.query(User).filter_by(email=email).one()
    db.session.add(Document(user_id=user.id, doc_type="Passport", doc_number="AB123456", upload="bench.png",
                            doc_category="front_side"))
    db.session.add(ServiceAccount(uid="SI0000BENCH1", email="bench-sa@example.com", role="member", level=1,
                                  state="active", owner_id=user.id))
    unit_of_work.commit()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--only", default="")
    parser.add_argument("-n", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--profile", default="")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="barong-bench-"))
    env = {"DATABASE_URL": os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{tmp / 'bench.db'}",
           "BARONG_RATELIMIT_ENABLED": "false", "BARONG_UPLOADS_PATH": str(tmp / "uploads"),
           "BARONG_INSTANCE_PATH": str(tmp / "instance")}
    os.environ.pop("BARONG_REDIS_URL", None)
    os.environ.pop("BARONG_EVENT_API_RABBITMQ_HOST", None)
    try:
        info = server_bench.prepare({**os.environ, **env})
        import pyotp
        from sqlalchemy import event
        from werkzeug.test import EnvironBuilder

        from barong import create_app
        from barong.extensions import db

        app = create_app()
        logging.disable(logging.WARNING)
        with app.app_context():
            _extra_rows(info["email"])
        client = app.test_client(use_cookies=False)
        resp = client.post(f"{B}/identity/sessions", headers={"User-Agent": server_bench.UA}, json={
            "email": info["email"], "password": server_bench.PASSWORD,
            "otp_code": pyotp.TOTP(info["otp_secret"]).now()})
        if resp.status_code != 201:
            raise SystemExit(f"login failed: {resp.status_code}")
        cookie = next(v for k, v in resp.headers.items() if k == "Set-Cookie"
                      and v.startswith("_barong_session=")).split(";", 1)[0]
        names = [BASE] + ([n for n in args.only.split(",") if n != BASE] if args.only else RESOURCE_GETS + ADMIN_GETS)

        statements = [0]
        with app.app_context():
            engine = db.engine

        @event.listens_for(engine, "before_cursor_execute")
        def _count(*_a, **_k):
            statements[0] += 1

        from barong.authz import reader as authz_reader  # its own DBAPI connection: counted here

        for method in ("_run", "_run_all"):
            if not hasattr(authz_reader.Reader, method):  # an older tree (the before/after comparison)
                continue

            def counted(self, *a, _orig=getattr(authz_reader.Reader, method), **k):
                statements[0] += 1
                return _orig(self, *a, **k)
            setattr(authz_reader.Reader, method, counted)

        def caller(name):
            base = EnvironBuilder(path=f"{B}/{name.format(uid=info['uid'])}",
                                  environ_base={"REMOTE_ADDR": "127.0.0.1"},
                                  headers={"User-Agent": server_bench.UA, "Host": "127.0.0.1",
                                           "Cookie": cookie}).get_environ()

            def call():
                environ = dict(base, **{"wsgi.input": io.BytesIO(b"")})
                status = []
                body = app.wsgi_app(environ, lambda s, h, e=None: status.append(s))
                b"".join(body)
                body.close()
                return status[0]

            return call

        calls = {name: caller(name) for name in names}
        for name, call in calls.items():
            status = call()
            if not status.startswith("200"):
                raise SystemExit(f"{name}: {status}")
            for _ in range(100):  # warm-up: caches, minted JWT, reader connection
                call()
        gc.collect()
        gc.freeze()  # as app.py does for the server
        if args.profile:
            prof = cProfile.Profile()
            call = calls[args.profile]
            prof.enable()
            for _ in range(args.n * 4):
                call()
            prof.disable()
            pstats.Stats(prof).sort_stats("cumulative").print_stats(30)
            return 0
        times: dict[str, list[float]] = {name: [] for name in calls}
        queries: dict[str, list[float]] = {name: [] for name in calls}
        for _ in range(args.rounds):
            for name, call in calls.items():
                statements[0] = 0
                t0 = time.process_time()
                for _ in range(args.n):
                    call()
                times[name].append((time.process_time() - t0) / args.n * 1e6)
                queries[name].append(statements[0] / args.n)
        print(f"barong other GETs, in-process WSGI: {args.rounds} rounds x {args.n} requests per GET (interleaved; "
              f"medians of CPU time per request), {env['DATABASE_URL'].split(':', 1)[0]}; "
              f"load average {os.getloadavg()[0]:.1f}")
        base = times[BASE]
        print(f"{'GET':34s} {'us/req':>8s} {'SQL/req':>8s} {'x users/me':>10s}")
        for name, runs in times.items():
            ratio = statistics.median(a / b for a, b in zip(runs, base))
            flag = "" if ratio <= 2.0 else "   > 2x"
            print(f"{name:34s} {statistics.median(runs):8.0f} {statistics.median(queries[name]):8.1f} "
                  f"{ratio:10.2f}{flag}")
        return 0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
