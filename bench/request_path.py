"""The generic request path, `users/me`, the other GETs, the gateway check and memory (issue 18):
`.venv/bin/python bench/request_path.py`.

Starts two servers with the same gunicorn configuration (`barong.serve.gunicorn_argv`: the
argv `make run` uses — barong/gunicorn_conf.py, the redacting access log, WORKERS workers,
`--preload`):

  * Barong (`python -m barong.serve`), temporary SQLite database (or BENCH_DATABASE_URL:
    its tables are dropped and re-created) and instance dir, rate limits ON as in `make run`;
  * a bare Flask app (bench/bare_app.py: one `jsonify` endpoint at the same path).

Then drives both with `wrk` (CONNECTIONS connections, 16 by default) in alternating rounds
and prints each figure beside its target:

  ping / bare Flask                     >= 0.85  (req/s, median of the per-round ratios)
  users/me (cookie) / ping              >= 0.60
  each other resource/admin GET / users/me  >= 0.50  ("within 2x of it")
  gateway check (/api/v2/auth/…, cookie) p99 < 10 ms, no errors
  worker RSS after 100,000 mixed requests < 150 MB, growth over a further 100,000 <= 5 MB

The user is a superadmin (so the admin GETs answer 200) with a profile, a phone, labels,
activities and an API key; 30 more users fill the admin lists. "server CPU" is the CPU
time of every process of the server's session per request (/proc).

Options (env): WORKERS (3), CONNECTIONS (16), DURATION s per main run (3), ROUNDS (6),
OTHER_DURATION (2), OTHER_ROUNDS (2), MIXED (100000 requests per memory phase; 0 skips it),
PORT (8105; the bare app PORT+1), WORKER_CLASS (sync | gthread), THREADS (gthread: 4),
SERVER (gunicorn | granian: both apps as `make run` serves them with BARONG_SERVER=granian, the
bare app in the same wrapper and access log; BLOCKING_THREADS, RUNTIME_THREADS: 1),
KEEPALIVE (gunicorn --keep-alive seconds; unset: gunicorn's default),
BENCH_DATABASE_URL, ONLY (comma-separated scenario names, e.g. ONLY=ping,bare; skips the memory
phase), MEMORY_ONLY=1 (only the memory phase).
"""
from __future__ import annotations

import http.client
import json
import logging
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

UA = "Mozilla/5.0 (bench) barong-request-path"
PASSWORD = "Bench-Passw0rd-Strong!"
WORKERS = os.environ.get("WORKERS", "3")
CONNECTIONS = int(os.environ.get("CONNECTIONS", "16"))
DURATION = int(os.environ.get("DURATION", "3"))
ROUNDS = int(os.environ.get("ROUNDS", "6"))
OTHER_DURATION = int(os.environ.get("OTHER_DURATION", "2"))
OTHER_ROUNDS = int(os.environ.get("OTHER_ROUNDS", "2"))
MIXED = int(os.environ.get("MIXED", "100000"))
PORT = int(os.environ.get("PORT", "8105"))
BARE_PORT = PORT + 1
WORKER_CLASS = os.environ.get("WORKER_CLASS", "")
THREADS = os.environ.get("THREADS", "4")
KEEPALIVE = os.environ.get("KEEPALIVE", "")
ONLY = {s for s in os.environ.get("ONLY", "").split(",") if s}
MEMORY_ONLY = os.environ.get("MEMORY_ONLY") == "1"
SERVER = os.environ.get("SERVER", "gunicorn")

B = "/api/v2/barong"
OTHER_GETS = [
    f"{B}/resource/labels", f"{B}/resource/phones", f"{B}/resource/profiles/me", f"{B}/resource/api_keys",
    f"{B}/resource/sessions", f"{B}/resource/users/activity/all", f"{B}/resource/documents",
    f"{B}/resource/service_accounts",
    f"{B}/admin/users", "{B}/admin/users/{uid}", f"{B}/admin/users/labels/list", f"{B}/admin/levels",
    f"{B}/admin/permissions", f"{B}/admin/restrictions", f"{B}/admin/abilities", f"{B}/admin/activities",
    "{B}/admin/api_keys?uid={uid}", f"{B}/admin/metrics", f"{B}/admin/users/documents/pending", f"{B}/admin/profiles",
    f"{B}/admin/activities/admin",
]


def prepare(env: dict) -> dict:
    """Schema, seeds, the bench user (superadmin, profile, phone, labels, activities, API key), 30 others."""
    os.environ.update(env)
    import secrets

    from barong import create_app
    from barong.extensions import db
    from barong.models import APIKey
    from barong.services import seeding
    from barong.services.accounts import labels, phones, profiles, users
    from barong.services.audit import activities
    from barong.services.infra import unit_of_work
    from barong.services.infra.request_info import RequestInfo

    app = create_app()
    logging.disable(logging.WARNING)
    with app.app_context():
        if os.environ.get("BENCH_DATABASE_URL"):
            db.drop_all()
        db.create_all()
        seeding.seed()
        user = users.create("bench@example.com", PASSWORD, role="superadmin")
        labels.add(user, "email", "verified", scope="private")
        users.apply_state(user, "active")
        import pyotp

        from barong.security.crypto import encrypt

        otp_secret = pyotp.random_base32()  # operators need 2FA for the admin API (BARONG_CONSOLE_REQUIRE_2FA)
        user.otp_secret_encrypted = encrypt(otp_secret)
        user.otp = True
        profiles.create(user, {"first_name": "Ada", "last_name": "Lovelace", "dob": "1990-02-01",
                               "address": "1 Main St", "postcode": "01001", "city": "Kyiv", "country": "UA"},
                        confirm=True)
        phones.create(user, "+380671234567", verified=True)
        info = RequestInfo(ip="127.0.0.1", user_agent=UA)
        for i in range(20):
            activities.record(user, "session", "login", "succeed", info)
        key = APIKey(key_holder_account_id=user.id, key_holder_account_type="User", kid=secrets.token_hex(8),
                     algorithm="HS256", state="active")
        key.secret = secrets.token_hex(16)
        key.scope = []
        db.session.add(key)
        for i in range(30):
            other = users.create(f"other{i}@example.com", PASSWORD)
            labels.add(other, "email", "verified", scope="private")
            users.apply_state(other, "active")
        unit_of_work.commit()
        return {"email": user.email, "uid": user.uid, "otp_secret": otp_secret}


def gunicorn_argv(app_spec: str, port: int) -> list[str]:
    if SERVER == "granian":
        return granian_argv(app_spec, port)
    from barong.serve import gunicorn_argv as serve_argv

    argv = serve_argv("127.0.0.1", str(port), WORKERS)
    argv[argv.index("app:app")] = app_spec
    return argv


def granian_argv(app_spec: str, port: int) -> list[str]:
    """SERVER=granian: `make run`'s argv with BARONG_SERVER=granian (`barong.serve.granian_argv`):
    Barong as barong.granian_app, the bare app in the same wrapper (bench/bare_app.py:
    granian_app), so both write the same redacted access line."""
    from barong.serve import granian_argv as serve_argv

    argv = serve_argv("127.0.0.1", str(port), WORKERS)
    argv[-1] = "barong.granian_app:app" if app_spec == "app:app" else app_spec.replace(":app", ":granian_app")
    for flag, name in (("--blocking-threads", "BLOCKING_THREADS"), ("--runtime-threads", "RUNTIME_THREADS")):
        if os.environ.get(name):
            argv[argv.index(flag) + 1] = os.environ[name]
    return argv


def worker_args() -> str:
    parts = []
    if WORKER_CLASS:
        parts.append(f"--worker-class {WORKER_CLASS}")
        if WORKER_CLASS == "gthread":
            parts.append(f"--threads {THREADS}")
    if KEEPALIVE:
        parts.append(f"--keep-alive {KEEPALIVE}")
    return " ".join(parts)


def start(argv: list[str], env: dict, port: int) -> subprocess.Popen:
    env = dict(env)
    if worker_args():
        env["GUNICORN_CMD_ARGS"] = worker_args()
    log = open(os.environ.get("BENCH_SERVER_LOG", os.devnull), "ab")
    proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=log, stderr=log,
                            start_new_session=True)
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            if request(port, "GET", f"{B}/identity/ping")[0] == 200:
                return proc
        except OSError:
            pass
        if proc.poll() is not None:
            raise SystemExit(f"server exited with {proc.returncode}")
        time.sleep(0.3)
    stop(proc)
    raise SystemExit("server did not start in 60 s")


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def request(port, method, path, headers=None, body=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request(method, path, body=body, headers={"User-Agent": UA, **(headers or {})})
        resp = conn.getresponse()
        return resp.status, resp.getheaders(), resp.read()
    finally:
        conn.close()


def login(info: dict) -> str:
    import pyotp

    body = json.dumps({"email": info["email"], "password": PASSWORD, "otp_code": pyotp.TOTP(info["otp_secret"]).now()})
    status, headers, data = request(PORT, "POST", f"{B}/identity/sessions", {"Content-Type": "application/json"}, body)
    if status != 201:
        raise SystemExit(f"login failed: {status} {data[:200]!r}")
    cookie = next(v for k, v in headers if k.lower() == "set-cookie" and v.startswith("_barong_session="))
    return cookie.split(";", 1)[0]


def session_cpu(sid: int) -> float:
    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[3]) == sid:
            total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def workers_rss(master: int) -> dict[int, int]:
    """VmRSS (kB) of each gunicorn worker (children of the master)."""
    out = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/status") as fh:
                status = fh.read()
        except OSError:
            continue
        ppid = int(re.search(r"^PPid:\s+(\d+)", status, re.M).group(1))
        if ppid == master:
            out[int(entry)] = int(re.search(r"^VmRSS:\s+(\d+)", status, re.M).group(1))
    return out


def wrk(port: int, path: str, headers: dict, duration: int, script: str | None = None) -> dict:
    cmd = ["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{duration}s", "--latency", "-H", f"User-Agent: {UA}"]
    for k, v in headers.items():
        cmd += ["-H", f"{k}: {v}"]
    if script:
        cmd += ["-s", script]
    out = subprocess.run(cmd + [f"http://127.0.0.1:{port}{path}"], capture_output=True, text=True).stdout

    def ms(label):
        m = re.search(rf"^\s*{label}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        return float(m.group(1)) * {"us": 0.001, "ms": 1, "s": 1000}[m.group(2)] if m else float("nan")

    total = int(re.search(r"(\d+) requests in", out).group(1))
    non2xx = int((re.search(r"Non-2xx or 3xx responses: (\d+)", out) or [0, 0])[1])
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    errors = non2xx + (sum(int(x) for x in sock.groups()) if sock else 0)
    return {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)), "p50": ms("50"), "p99": ms("99"),
            "errors": errors, "requests": total}


def measure(scenario, procs) -> dict:
    name, port, path, headers = scenario
    sid = procs[port].pid
    cpu0 = session_cpu(sid)
    r = wrk(port, path, headers, scenario_duration(name))
    r["cpu_us"] = (session_cpu(sid) - cpu0) / max(1, r["requests"]) * 1e6
    return r


def scenario_duration(name: str) -> int:
    return DURATION if name in MAIN else OTHER_DURATION


MAIN = ("bare", "ping", "gateway", "users/me")


def summary(runs: list[dict]) -> dict:
    r = {k: statistics.median(run[k] for run in runs) for k in ("rps", "p50", "p99", "cpu_us")}
    r["p99_max"] = max(run["p99"] for run in runs)
    r["errors"] = sum(run["errors"] for run in runs)
    r["requests"] = sum(run["requests"] for run in runs)
    return r


def per_round_ratio(runs, bases) -> tuple[float, float, float]:
    ratios = [run["rps"] / base["rps"] for run, base in zip(runs, bases) if base["rps"]]
    return statistics.median(ratios), min(ratios), max(ratios)


def mixed_phase(procs, cookie: str, paths: list[str], count: int, tmp: Path) -> list[dict[int, int]]:
    """`count` requests cycling over `paths` (one wrk Lua script), twice; worker RSS before and after each."""
    script = tmp / "mixed.lua"
    script.write_text("local paths = {" + ",".join(json.dumps(p) for p in paths) + "}\nlocal i = 0\n"
                      "request = function()\n  i = i + 1\n  return wrk.format('GET', paths[(i % #paths) + 1])\nend\n")
    master = procs[PORT].pid
    snapshots = [workers_rss(master)]
    for _ in range(2):
        done = 0
        while done < count:
            rps_guess = 800
            duration = max(2, min(30, int((count - done) / rps_guess) + 1))
            done += wrk(PORT, paths[0], {"Cookie": cookie}, duration, str(script))["requests"]
        snapshots.append(workers_rss(master))
        print(f"  after {done:,} more mixed requests: worker RSS "
              + ", ".join(f"{kb / 1024:.1f}" for kb in snapshots[-1].values()) + " MB", flush=True)
    return snapshots


def main() -> int:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # stop the servers (the finally below) on SIGTERM
    tmp = Path(tempfile.mkdtemp(prefix="barong-bench-"))
    database_url = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{tmp / 'bench.db'}"
    env = {**os.environ, "DATABASE_URL": database_url, "BARONG_UPLOADS_PATH": str(tmp / "uploads"),
           "BARONG_INSTANCE_PATH": str(tmp / "instance")}
    for name in ("BARONG_EVENT_API_RABBITMQ_HOST", "BARONG_REDIS_URL", "GUNICORN_CMD_ARGS"):
        env.pop(name, None)
    if not shutil.which("wrk"):
        raise SystemExit("wrk is needed (apt-get install wrk)")
    info = prepare(env)
    procs = {}
    try:
        procs[PORT] = start(gunicorn_argv("app:app", PORT), env, PORT)
        procs[BARE_PORT] = start(gunicorn_argv("bench.bare_app:app", BARE_PORT), env, BARE_PORT)
        cookie = login(info)
        auth = {"Cookie": cookie}
        main_scenarios = [
            ("bare", BARE_PORT, f"{B}/identity/ping", {}),
            ("ping", PORT, f"{B}/identity/ping", {}),
            ("gateway", PORT, f"/api/v2/auth{B}/resource/users/me", auth),
            ("users/me", PORT, f"{B}/resource/users/me", auth),
        ]
        others = []
        for template in OTHER_GETS:
            path = template.format(B=B, uid=info["uid"])
            status = request(PORT, "GET", path, auth)[0]
            if status == 200:  # named by the template, so ONLY can name admin/users/{uid}
                others.append((template.format(B=B, uid="{uid}").removeprefix(B + "/"), PORT, path, auth))
            else:
                print(f"skipped {path}: {status}")
        for name, port, path, headers in main_scenarios:
            if request(port, "GET", path, headers)[0] != 200:
                raise SystemExit(f"sanity check failed: {name}")
        if ONLY:
            main_scenarios = [s for s in main_scenarios if s[0] in ONLY]
            others = [s for s in others if s[0] in ONLY]
        if SERVER == "granian":
            server = f"granian {WORKERS} workers, 1 Python thread each (BARONG_SERVER=granian)"
        else:
            server = f"gunicorn {WORKERS} workers, {worker_args() or 'sync (gunicorn' + chr(39) + 's default)'}"
        print(f"barong request-path bench: {server}, {os.cpu_count()} CPUs, wrk -c{CONNECTIONS}, "
              f"{database_url.split(':', 1)[0]}; {ROUNDS} rounds x {DURATION}s (main), {OTHER_ROUNDS} x "
              f"{OTHER_DURATION}s (other GETs), alternating; load average {os.getloadavg()[0]:.1f} at start",
              flush=True)
        for s in ([] if MEMORY_ONLY else main_scenarios + others):
            wrk(s[1], s[2], s[3], 1)  # warm-up: caches, connections, JWT in every worker
        runs: dict[str, list[dict]] = {s[0]: [] for s in main_scenarios + others}
        for i in range(0 if MEMORY_ONLY else max(ROUNDS, OTHER_ROUNDS)):
            order = main_scenarios if i % 2 == 0 else main_scenarios[::-1]
            if i < ROUNDS:
                for s in order:
                    runs[s[0]].append(measure(s, procs))
            if i < OTHER_ROUNDS:
                base = next((s for s in main_scenarios if s[0] == "users/me"), None)
                for s in (others if i % 2 == 0 else others[::-1]):
                    if base is not None and i >= ROUNDS:
                        runs["users/me"].append(measure(base, procs))
                    runs[s[0]].append(measure(s, procs))
        res = {name: summary(r) for name, r in runs.items() if r}
        print(f"\n{'scenario':40s} {'req/s':>7s} {'p50 ms':>7s} {'p99 ms':>7s} {'CPU us/req':>10s}  errors")
        for name, r in res.items():
            print(f"{name:40s} {r['rps']:7.0f} {r['p50']:7.2f} {r['p99']:7.2f} {r['cpu_us']:10.0f}  "
                  f"{r['errors']}/{r['requests']}")
        ok = True
        print(f"\n{'figure':48s} {'measured':>22s}  target")

        def figure(label, value, target, passed):
            nonlocal ok
            ok &= passed
            print(f"{label:48s} {value:>22s}  {target:12s} {'OK' if passed else 'BELOW TARGET'}")

        def ratio(a, b):
            if a in runs and b in runs and runs[a] and runs[b]:
                n = min(len(runs[a]), len(runs[b]))
                return per_round_ratio(runs[a][-n:], runs[b][-n:])
            return None

        if (r := ratio("ping", "bare")):
            figure("identity/ping / bare Flask (req/s)", f"{r[0]:.2f} ({r[1]:.2f}–{r[2]:.2f})", ">= 0.85", r[0] >= 0.85)
        if (r := ratio("users/me", "ping")):
            figure("users/me (cookie) / identity/ping (req/s)", f"{r[0]:.2f} ({r[1]:.2f}–{r[2]:.2f})", ">= 0.60",
                   r[0] >= 0.60)
        if "users/me" in res:
            me = res["users/me"]["rps"]
            for s in others:
                r = res[s[0]]
                figure(f"{s[0]} / users/me (req/s)", f"{r['rps'] / me:.2f}", ">= 0.50", r["rps"] / me >= 0.5)
        if "gateway" in res:
            g = res["gateway"]
            figure("gateway check p99 (median of rounds; worst)", f"{g['p99']:.2f} ms ({g['p99_max']:.2f})", "< 10 ms",
                   g["p99"] < 10)
            figure("gateway check errors", f"{g['errors']}/{g['requests']}", "0", g["errors"] == 0)
            figure("gateway check req/s", f"{g['rps']:.0f}", "(throughput)", True)
        if MIXED and not ONLY:
            print(f"\nmemory: {MIXED:,} mixed requests (ping, gateway, users/me, the other GETs, a 404, a page), twice",
                  flush=True)
            paths = [s[2] for s in main_scenarios[1:] + others] + [f"{B}/resource/nothing", "/accounts/login"]
            snaps = mixed_phase(procs, cookie, paths, MIXED, tmp)
            after1, after2 = snaps[1], snaps[2]
            peak = max(after1.values()) / 1024
            growth = max((after2[p] - after1.get(p, after2[p])) for p in after2) / 1024
            figure(f"worker RSS after {MIXED:,} (max of {len(after1)} workers)", f"{peak:.1f} MB", "< 150 MB", peak < 150)
            figure(f"worker RSS growth over a further {MIXED:,}", f"{growth:+.1f} MB", "<= 5 MB", growth <= 5)
        load = os.getloadavg()[0]
        print(f"\nload average at the end {load:.1f} on {os.cpu_count()} CPUs (other jobs share them)")
        return 0 if ok else 1
    finally:
        for proc in procs.values():
            stop(proc)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
