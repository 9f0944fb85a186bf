"""Benchmark of the authorization check: `.venv/bin/python bench/authz.py`.

Starts the real server (`python -m barong.serve`: gunicorn, WORKERS sync workers, the
count `make run` uses on this 2-core machine) on a temporary SQLite database (or the
PostgreSQL database BENCH_DATABASE_URL names: its tables are dropped and re-created) with rate
limits off, creates a user with 2FA and an API key directly in the database, logs in
over HTTP, then drives load from another process (`wrk`, Debian package; a Python
keep-alive client when wrk is missing) and prints requests/s, p50, p99 and errors for

  (a) ceiling  GET /api/v2/barong/identity/ping (a bare endpoint of the same server,
               through the same before-request hooks: restrictions, unit of work);
  (b) session  GET /api/v2/auth/api/v2/barong/resource/users/me with the session cookie;
  (c) api key  the same with X-Auth-Apikey/-Nonce/-Signature.

Target: (b) and (c) at >= 80 % of (a)'s requests/s, p99 < 10 ms, zero errors.

Notes: the nonce window is widened to 10 min for this run (BARONG_APIKEY_NONCE_LIFETIME)
so one signed header set stays valid for the whole run — the check itself is
unchanged (Barong allows a nonce to be reused within its window). The instance dir
(signing key, secret key, cache generation files) is a temporary one, as the database.

Scenarios run interleaved (a b c a b c …, ROUNDS times) and the medians are printed, so
a burst of other activity on the machine does not land on one scenario only. The ratio
to the ceiling is taken per round — each run against the ceiling run just before it —
and the median of those ratios is the figure (with the lowest and highest round beside
it): this machine's speed drifts by ±20 % from one run to the next, which a ratio of
medians taken over the whole run would pass on. "server CPU" is the CPU time the
gunicorn processes used per request (from /proc).

Options (env): WORKERS (3), CONNECTIONS (2 x WORKERS), DURATION seconds per run (3), ROUNDS (8),
PORT (8799), BENCH_CLIENT=python to force the Python client, BENCH_DATABASE_URL.
"""
from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import logging
import os
import re
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

UA = "Mozilla/5.0 (bench) barong-authz"
PASSWORD = "Bench-Passw0rd-Strong!"
WORKERS = os.environ.get("WORKERS", "3")
CONNECTIONS = int(os.environ.get("CONNECTIONS", str(2 * int(WORKERS))))
DURATION = int(os.environ.get("DURATION", "3"))
ROUNDS = int(os.environ.get("ROUNDS", "8"))
PORT = int(os.environ.get("PORT", "8799"))


def prepare(env: dict) -> dict:
    """Schema, seeds, a user with 2FA and an API key, written straight to the database."""
    os.environ.update(env)
    from barong import create_app
    from barong.extensions import db
    from datetime import timedelta

    from barong.models import APIKey, utcnow
    from barong.services import seeding
    from barong.services.accounts import labels, users
    from barong.services.infra import unit_of_work

    app = create_app()
    logging.disable(logging.WARNING)  # the set-up's events and mail log lines are not the benchmark's output
    with app.app_context():
        if os.environ.get("BENCH_DATABASE_URL"):
            db.drop_all()
        db.create_all()
        seeding.seed()
        import pyotp

        from barong.security.crypto import encrypt

        user = users.create("bench@example.com", PASSWORD)
        labels.add(user, "email", "verified", scope="private")
        users.apply_state(user, "active")
        otp_secret = pyotp.random_base32()
        user.otp_secret_encrypted = encrypt(otp_secret)
        user.otp = True
        db.session.flush()
        api_secret = secrets.token_hex(16)
        key = APIKey(key_holder_account_id=user.id, key_holder_account_type="User", kid=secrets.token_hex(8),
                     algorithm="HS256", state="active",
                     # a trading bot's key (issue 15): allow-listed (the bench client is on loopback) and
                     # expiring; BENCH_KEY=plain: neither (the A/B comparison)
                     **({} if os.environ.get("BENCH_KEY") == "plain" else
                        {"allowed_ips": "127.0.0.0/8,203.0.113.0/24", "expires_at": utcnow() + timedelta(days=1)}))
        key.secret = api_secret
        key.scope = []
        db.session.add(key)
        unit_of_work.commit()
        return {"email": user.email, "otp_secret": otp_secret, "kid": key.kid, "api_secret": api_secret}


def start_server(env: dict) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-m", "barong.serve", "--host", "127.0.0.1", "--port", str(PORT),
                             "--workers", WORKERS], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            status, _, _ = request("GET", "/api/v2/barong/identity/ping")
            if status == 200:
                return proc
        except OSError:
            pass
        if proc.poll() is not None:
            raise SystemExit(f"server exited with {proc.returncode}")
        time.sleep(0.3)
    stop_server(proc)
    raise SystemExit("server did not start in 60 s")


def stop_server(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def request(method, path, headers=None, body=None):
    conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=10)
    try:
        conn.request(method, path, body=body, headers={"User-Agent": UA, **(headers or {})})
        resp = conn.getresponse()
        return resp.status, resp.getheaders(), resp.read()
    finally:
        conn.close()


def login(info: dict) -> str:
    import pyotp

    body = json.dumps({"email": info["email"], "password": PASSWORD, "otp_code": pyotp.TOTP(info["otp_secret"]).now()})
    status, headers, data = request("POST", "/api/v2/barong/identity/sessions",
                                    {"Content-Type": "application/json"}, body)
    if status != 201:
        raise SystemExit(f"login failed: {status} {data[:200]!r}")
    cookie = next(v for k, v in headers if k.lower() == "set-cookie" and v.startswith("_barong_session="))
    return cookie.split(";", 1)[0]


def api_key_headers(info: dict) -> dict:
    nonce = str(int(time.time() * 1000))
    sig = hmac.new(info["api_secret"].encode(), (nonce + info["kid"]).encode(), hashlib.sha256).hexdigest()
    return {"X-Auth-Apikey": info["kid"], "X-Auth-Nonce": nonce, "X-Auth-Signature": sig}


def server_cpu_seconds(sid: int) -> float:
    """User+system CPU time of every process of the server's session (gunicorn master and workers)."""
    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[3]) == sid:  # field 6 (session id), counted after the ")" of the command
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / os.sysconf("SC_CLK_TCK")


# ---- load generators ---------------------------------------------------------------------------

def run_wrk(path: str, headers: dict, duration: int) -> dict:
    cmd = ["wrk", f"-t{min(2, CONNECTIONS)}", f"-c{CONNECTIONS}", f"-d{duration}s", "--latency", "-H", f"User-Agent: {UA}"]
    for k, v in headers.items():
        cmd += ["-H", f"{k}: {v}"]
    out = subprocess.run(cmd + [f"http://127.0.0.1:{PORT}{path}"], capture_output=True, text=True).stdout

    def ms(label):
        m = re.search(rf"^\s*{label}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        if not m:
            return float("nan")
        return float(m.group(1)) * {"us": 0.001, "ms": 1, "s": 1000}[m.group(2)]

    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    total = int(re.search(r"(\d+) requests in", out).group(1))
    non2xx = int((re.search(r"Non-2xx or 3xx responses: (\d+)", out) or [0, 0])[1])
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    errors = non2xx + (sum(int(x) for x in sock.groups()) if sock else 0)
    return {"rps": rps, "p50": ms("50"), "p99": ms("99"), "errors": errors, "requests": total}


def run_python(path: str, headers: dict, duration: int) -> dict:
    """Fallback: CONNECTIONS threads, each a connection re-opened when the server closes it."""
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    stop = time.monotonic() + duration

    def worker():
        local, errs = [], 0
        conn = None
        while time.monotonic() < stop:
            if conn is None:
                conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=10)
            t0 = time.perf_counter()
            try:
                conn.request("GET", path, headers={"User-Agent": UA, **headers})
                resp = conn.getresponse()
                resp.read()
                if resp.status != 200:
                    errs += 1
                if resp.getheader("Connection", "").lower() == "close":
                    conn.close()
                    conn = None
            except OSError:
                errs += 1
                conn = None
            local.append(time.perf_counter() - t0)
        with lock:
            latencies.extend(local)
            errors[0] += errs

    threads = [threading.Thread(target=worker) for _ in range(CONNECTIONS)]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - t0
    latencies.sort()

    def pct(p):
        return latencies[min(len(latencies) - 1, int(len(latencies) * p))] * 1000 if latencies else float("nan")

    return {"rps": len(latencies) / elapsed, "p50": pct(0.50), "p99": pct(0.99), "errors": errors[0],
            "requests": len(latencies)}


def main() -> int:
    tmp = Path(tempfile.mkdtemp(prefix="barong-bench-"))
    database_url = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{tmp / 'bench.db'}"
    env = {**os.environ, "DATABASE_URL": database_url, "BARONG_RATELIMIT_ENABLED": "false",
           "BARONG_UPLOADS_PATH": str(tmp / "uploads"), "BARONG_APIKEY_NONCE_LIFETIME": "600000",
           "BARONG_INSTANCE_PATH": str(tmp / "instance")}
    for name in ("BARONG_EVENT_API_RABBITMQ_HOST", "BARONG_REDIS_URL"):  # plain gunicorn, database sessions
        env.pop(name, None)
    use_wrk = shutil.which("wrk") and os.environ.get("BENCH_CLIENT") != "python"
    runner = run_wrk if use_wrk else run_python
    info = prepare(env)
    proc = start_server(env)
    try:
        cookie = login(info)
        auth_path = "/api/v2/auth/api/v2/barong/resource/users/me"
        checks = [("GET", auth_path, {"Cookie": cookie}), ("GET", auth_path, api_key_headers(info))]
        for method, path, headers in checks:
            status, resp_headers, _ = request(method, path, headers)
            if status != 200 or not any(k.lower() == "authorization" for k, _ in resp_headers):
                raise SystemExit(f"sanity check failed for {path}: {status}")
        scenarios = [
            ("(a) ceiling  GET identity/ping", "/api/v2/barong/identity/ping", {}),
            ("(b) authz, session cookie", auth_path, {"Cookie": cookie}),
            ("(c) authz, API key", auth_path, api_key_headers(info)),
        ]
        print(f"barong authz bench: gunicorn {WORKERS} sync workers, {os.cpu_count()} CPUs, "
              f"{'wrk' if use_wrk else 'python client'} -c{CONNECTIONS}, {ROUNDS} rounds x {DURATION}s per scenario "
              f"(interleaved; medians shown), {database_url.split(':', 1)[0]}")
        for _, path, headers in scenarios:
            runner(path, headers, 2)  # warm-up: caches, minted JWT, reader connections in every worker
        rounds: list[list[dict]] = [[] for _ in scenarios]
        for _ in range(ROUNDS):
            order = [0, 1, 2] if len(rounds[0]) % 2 == 0 else [0, 2, 1]  # (b) and (c) take turns after (a)
            for i in order:
                _, path, headers = scenarios[i]
                cpu0 = server_cpu_seconds(proc.pid)
                r = runner(path, headers, DURATION)
                r["cpu_us"] = (server_cpu_seconds(proc.pid) - cpu0) / max(1, r["requests"]) * 1e6
                rounds[i].append(r)
        results = []
        for (name, _, _), runs in zip(scenarios, rounds):
            r = {k: statistics.median(run[k] for run in runs) for k in ("rps", "p50", "p99", "cpu_us")}
            r["errors"] = sum(run["errors"] for run in runs)
            r["requests"] = sum(run["requests"] for run in runs)
            results.append(r)
            print(f"{name:32s} {r['rps']:7.0f} req/s  p50 {r['p50']:6.2f} ms  p99 {r['p99']:6.2f} ms  "
                  f"errors {r['errors']}/{r['requests']}  server CPU {r['cpu_us']:5.0f} us/req")
        ceiling = results[0]
        ok = True
        for (name, _, _), r, runs in zip(scenarios[1:], results[1:], rounds[1:]):
            # each run against the ceiling run of its own round
            ratios = [run["rps"] / base["rps"] for run, base in zip(runs, rounds[0]) if base["rps"]]
            cpu_ratios = [base["cpu_us"] / run["cpu_us"] for run, base in zip(runs, rounds[0]) if run["cpu_us"]]
            ratio = statistics.median(ratios) if ratios else 0
            cpu_ratio = statistics.median(cpu_ratios) if cpu_ratios else 0
            passed = ratio >= 0.8 and r["p99"] < 10 and r["errors"] == 0
            ok &= passed
            print(f"{name:32s} {ratio * 100:5.1f} % of the ceiling's req/s (rounds {min(ratios) * 100:.0f}–"
                  f"{max(ratios) * 100:.0f} %; {cpu_ratio * 100:5.1f} % by server CPU per request)  "
                  f"{'OK' if passed else 'BELOW TARGET'}")
        load = os.getloadavg()[0]
        if load > (os.cpu_count() or 1):
            print(f"note: load average {load:.1f} on {os.cpu_count()} CPUs: other processes competed for the CPUs "
                  f"during the run, so absolute figures and p99 are pessimistic")
        return 0 if ok else 1
    finally:
        stop_server(proc)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
