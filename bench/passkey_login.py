"""A login with a passkey beside a password login, against the real server.

    .venv/bin/python -m bench.passkey_login [-n 100] [--workers 1]

Starts `python -m barong.serve` (gunicorn) as bench/login.py does (temporary SQLite
database, rate limits off, mail as .eml files, BARONG_WEBAUTHN_PASSWORDLESS=true),
creates two users — one with a password only, one with a passkey registered through
resource/webauthn (a software authenticator, tests/soft_authenticator.py: ES256, the
server's verification is the real one) — then times, interleaved, N each of:

* password login: `POST identity/sessions` {email, password} (user without 2FA);
* passkey as second factor: `POST identity/sessions/webauthn/options` + `POST
  identity/sessions` {email, password, webauthn_assertion} (both requests counted);
* passwordless: `POST identity/sessions/webauthn/options` (no email) + `POST
  identity/sessions/webauthn` (both counted).

Target: the passkey login ≤ 1.1 × the password login (the password hash dominates both;
an ES256 check costs well under a millisecond). The client's signing time is excluded.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.login import PASSWORD, ROOT, UA, free_port, wait_ready

sys.path.insert(0, str(ROOT))
from tests.soft_authenticator import SoftAuthenticator  # noqa: E402


def call(conn, method, path, body=None, cookie=None, csrf=None):
    headers = {"User-Agent": UA, "Content-Type": "application/json"}
    if cookie:
        headers["Cookie"] = cookie
    if csrf:
        headers["X-CSRF-Token"] = csrf
    conn.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
    resp = conn.getresponse()
    data = resp.read()
    return resp.status, (json.loads(data) if data else None), resp


def _cookie(resp) -> str:
    return resp.getheader("Set-Cookie").split(";", 1)[0]


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", type=int, default=100, help="timed logins of each kind (default 100)")
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--workers", default="1")
    args = parser.parse_args(argv)

    tmp = Path(tempfile.mkdtemp(prefix="barong-bench-passkey-"))
    port = free_port()
    domain = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("BARONG_") and k != "DATABASE_URL"}
    env.update(DATABASE_URL=f"sqlite:///{tmp / 'bench.db'}", BARONG_INSTANCE_PATH=str(tmp),
               BARONG_RATELIMIT_ENABLED="false", BARONG_UPLOADS_PATH=str(tmp / "uploads"), BARONG_DOMAIN=domain,
               BARONG_WEBAUTHN_PASSWORDLESS="true", BARONG_FIRST_REGISTRATION_SUPERADMIN="false",
               GUNICORN_CMD_ARGS=os.environ.get("GUNICORN_CMD_ARGS", "--worker-class gthread --threads 2 --keep-alive 30"))
    setup = ("from app import app\nfrom barong.extensions import db\nfrom barong.services import seeding\n"
             "from barong.services.infra import unit_of_work\n"
             "with app.app_context():\n    db.create_all(); seeding.seed(); unit_of_work.commit()\n")
    subprocess.run([sys.executable, "-c", setup], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
    log = open(tmp / "server.log", "wb")
    server = subprocess.Popen([sys.executable, "-m", "barong.serve", "--port", str(port), "--workers", args.workers],
                              cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    I = "/api/v2/barong/identity"
    R = "/api/v2/barong/resource"
    try:
        wait_ready(port, server)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        plain, keyed = "plain@example.com", "passkey@example.com"
        for email in (plain, keyed):
            status, body, _ = call(conn, "POST", f"{I}/users", {"email": email, "password": PASSWORD})
            assert status == 201, body
        # users are pending (no confirmation): they may log in, and register a passkey
        status, body, resp = call(conn, "POST", f"{I}/sessions", {"email": keyed, "password": PASSWORD})
        assert status == 201, body
        cookie, csrf = _cookie(resp), body["csrf_token"]
        authn = SoftAuthenticator(domain)
        status, opts, _ = call(conn, "POST", f"{R}/webauthn/credentials/options", {}, cookie, csrf)
        assert status == 201, opts
        status, body, _ = call(conn, "POST", f"{R}/webauthn/credentials",
                               {"name": "bench", "credential": authn.create(opts), "password": PASSWORD}, cookie, csrf)
        assert status == 201, body

        timings = {"password": [], "passkey 2FA": [], "passwordless": []}
        for i in range(args.warmup + args.n):
            t = time.perf_counter()
            status, body, _ = call(conn, "POST", f"{I}/sessions", {"email": plain, "password": PASSWORD})
            password_s = time.perf_counter() - t
            assert status == 201, body

            t = time.perf_counter()
            status, opts, _ = call(conn, "POST", f"{I}/sessions/webauthn/options", {"email": keyed})
            first = time.perf_counter() - t
            assertion = authn.get(opts)  # the authenticator's time: not the server's
            t = time.perf_counter()
            status, body, _ = call(conn, "POST", f"{I}/sessions",
                                   {"email": keyed, "password": PASSWORD, "webauthn_assertion": assertion})
            twofa_s = first + time.perf_counter() - t
            assert status == 201, body

            t = time.perf_counter()
            status, opts, _ = call(conn, "POST", f"{I}/sessions/webauthn/options", {})
            first = time.perf_counter() - t
            assertion = authn.get(opts)
            t = time.perf_counter()
            status, body, _ = call(conn, "POST", f"{I}/sessions/webauthn", {"webauthn_assertion": assertion})
            alone_s = first + time.perf_counter() - t
            assert status == 201, body
            if i >= args.warmup:
                timings["password"].append(password_s)
                timings["passkey 2FA"].append(twofa_s)
                timings["passwordless"].append(alone_s)
        conn.close()
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()
    base = statistics.median(timings["password"])
    print(f"{args.n} logins of each kind, interleaved, one keep-alive connection, gunicorn workers={args.workers}")
    for name, values in timings.items():
        med = statistics.median(values)
        print(f"{name:>13}: median {med * 1000:.1f} ms, p90 {statistics.quantiles(values, n=10)[-1] * 1000:.1f} ms,"
              f" ratio to the password login {med / base:.2f}")
    print("target: passkey 2FA <= 1.1 x password login")


if __name__ == "__main__":
    main()
